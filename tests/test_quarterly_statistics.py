"""The quarterly statistics file (季度统计表文件): the office gets the table as a spreadsheet
it can open, with text that stays text, once per quarter."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from bot.app import build_app
from bot.config import Settings
from bot.transports.memory import Delivered, MemoryTransport
from domain.clock import FakeClock
from reminders.quarterly import send_quarterly_statistics
from storage.migrate import upgrade
from storage.uow import UnitOfWork

TZ = ZoneInfo("Asia/Shanghai")
P = "story"


def _gone(path: str) -> bool:
    return not Path(path).exists()


async def test_the_office_gets_an_xlsx_it_can_open_and_no_formula(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'q.db'}"
    await upgrade(url)
    at = datetime(2026, 7, 1, 10, 0, tzinfo=TZ)
    delivered: list[Delivered] = []
    files: dict[str, bytes] = {}  # what was on disk while the transport sent it

    def keep_file(item: Delivered) -> None:
        if item.message.attachment is not None:
            files[item.message.attachment.filename] = Path(item.message.attachment.ref).read_bytes()

    transport = MemoryTransport(P, on_message=keep_file)
    transport.delivered = delivered
    app = await build_app(
        Settings(database_url=url, scheme="guangzhou"),
        clock=FakeClock(at),
        transports={P: transport},
    )
    try:
        async with UnitOfWork(app.services.db) as uow:
            office = await uow.people.add("王芳", roles=[("office", None)], now=at)
            await uow.people.add_account(office.id, P, "wang", "王芳", now=at)
            spec = await uow.people.add(
                "=1+1", roles=[("specialist", "planning_natural_resources")], now=at
            )
            dept = (await uow.people.roles_of(spec.id))[0].department_id
            await uow.activities.add(
                person_id=spec.id, department_id=dept, kind="training",
                held_on=date(2026, 5, 20), enterprises=3, participants=40, questions=5,
                topics='=HYPERLINK("http://example.invalid","点我")', created_at=at,
            )
        assert await send_quarterly_statistics(app.services, at)
        assert not await send_quarterly_statistics(app.services, at)  # once per quarter
        await app.worker.drain()
    finally:
        await app.close()

    to_office = [d.message for d in delivered if d.chat_external_id == "wang"]
    assert len(to_office) == 2
    assert "2026Q2 政企互动情况统计表" in to_office[0].text
    attachment = to_office[1].attachment
    assert attachment is not None and attachment.filename.endswith(".xlsx")
    assert _gone(attachment.ref)  # written for the send, removed after it
    book = load_workbook(io.BytesIO(files[attachment.filename]))
    by_dept, activities = book.worksheets
    assert [c.value for c in by_dept[2]] == ["市规划和自然资源局", 1, 0, 1, 0, 3, 40, 5]
    topic = activities.cell(row=2, column=7)
    assert topic.value == '\'=HYPERLINK("http://example.invalid","点我")'
    assert all(c.data_type != "f" for row in book.worksheets for r in row.iter_rows() for c in r)
