"""The office's files as the office receives them in chat (issue 21 point 3): every XLSX
the stories' `/ledger` and `/report` sent is opened with openpyxl and every `/archive` ZIP
with zipfile; headers, cell types and contents are checked against the store."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select

from bot.stories import StoryRunner, parse_story
from storage.db import Database
from storage.models import ChecklistItem, Event, StoredFile
from storage.uow import UnitOfWork

STORIES = Path(__file__).parent / "stories"
TZ = ZoneInfo("Asia/Shanghai")
LEDGER_ZH = [
    "项目编号",
    "项目名称",
    "建设单位",
    "统一社会信用代码",
    "联系人",
    "电话",
    "总投资（万元）",
    "类别",
    "区域",
    "阶段",
    "状态",
    "项目管家",
    "各部门服务专员",
    "事项进度",
    "逾期事项",
    "未解决问题",
    "最新进展",
    "受理日期",
    "办结日期",
]
KIND = re.compile(  # an event kind such as item.submit
    r"\b(application|project|item|problem|rating|plan|log|consult|person|enterprise)\.[a-z_]+\b"
)
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # an internal code such as project_filing


async def _play(tmp_path: Path, name: str) -> tuple[dict[str, bytes], Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'story.sqlite3'}"
    path = STORIES / name
    story = parse_story(path.read_text(encoding="utf-8"), str(path))
    result = await StoryRunner(story, url, tmp_path).run()
    assert result.ok, "\n".join(str(f) for f in result.failures)
    db = Database(url)
    async with UnitOfWork(db) as uow:
        rows = (await uow.session.execute(select(StoredFile).order_by(StoredFile.id))).scalars()
        files = {row.filename: row.data for row in rows}
    return files, db


def _sheet(data: bytes, index: int = 0) -> tuple[list[list[object]], object]:
    book = load_workbook(io.BytesIO(data))
    sheet = book.worksheets[index]
    return [list(row) for row in sheet.iter_rows(values_only=True)], sheet


def _no_codes(values: list[object]) -> None:
    for value in values:
        if isinstance(value, str):
            assert not KIND.search(value), value
            assert not SNAKE.search(value), value
            assert "{" not in value, value


async def test_tongzhou_ledger_report_and_archive_as_sent(tmp_path: Path) -> None:
    files, db = await _play(tmp_path, "office_files_tongzhou_ledger_report_archive.yaml")
    try:
        async with UnitOfWork(db) as uow:
            project = await uow.projects.by_code("P2026-0001")
            assert project is not None and project.accepted_at is not None
            events = await uow.events.for_project(project.id, limit=1000)
            items = await uow.items.of_project(project.id)
    finally:
        await db.dispose()

    rows, sheet = _sheet(files["台账2026-12-01.xlsx"])
    assert rows[0] == LEDGER_ZH
    row = dict(zip(LEDGER_ZH, rows[1], strict=True))
    assert row["项目编号"] == "P2026-0001" and row["项目名称"] == "运河中心大厦"
    assert row["建设单位"] == "运河建设有限公司"
    assert row["统一社会信用代码"] == "91350100M000100Y43"
    assert (row["联系人"], row["电话"]) == ("张伟", "13800138000")
    assert row["总投资（万元）"] == 120000  # a number, not text
    assert (row["类别"], row["区域"]) == ("社会投资房建类", "马驹桥镇")
    assert row["状态"] == "已受理，待分配项目管家"
    assert row["事项进度"] == f"0/{len([i for i in items if i.state != 'not_applicable'])}"
    assert row["最新进展"].startswith("2026-12-01 ") and "申请" in row["最新进展"]
    assert isinstance(row["受理日期"], datetime)  # a real date cell
    assert row["受理日期"].date() == project.accepted_at.astimezone(TZ).date()
    assert sheet.cell(2, 18).number_format == "yyyy-mm-dd"
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:S2"
    assert sheet.column_dimensions["B"].width >= 10
    _no_codes(rows[1])

    english, _ = _sheet(files["Ledger 2026-12-01.xlsx"])
    assert english[0][:3] == ["Project code", "Project name", "Construction company"]
    assert english[0][11:13] == ["Project butler", "Service specialist of each department"]
    assert english[1][7] == "Social-investment building"

    weekly = next(name for name in files if name.endswith("每周调度清单.xlsx"))
    book = load_workbook(io.BytesIO(files[weekly]))
    assert [ws.title.split(" ", 1)[1] for ws in book] == [
        "按区域汇总",
        "未解决的问题",
        "逾期事项",
        "本周到期",
        "未激活或无法联系的人员",
    ]
    summary = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    assert summary[0][:4] == ["区域", "在办项目", "新申请", "本期受理"]
    assert summary[1][:4] == ["马驹桥镇", 1, 1, 1]
    assert summary[-1][0] == "合计"

    with zipfile.ZipFile(io.BytesIO(files["P2026-0001一事一档.zip"])) as archive:
        names = archive.namelist()
        [drawings] = [n for n in names if n.startswith("documents/")]
        assert re.fullmatch(r"documents/\d\d-drawings\.pdf", drawings)
        assert archive.read(drawings) == b"story file drawings.pdf\n"
        tables = {
            name: list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
            for name in names
            if name.endswith(".csv")
        }
        page = archive.read("index.html").decode("utf-8")
    log = tables["worklog.csv"]
    assert log[0] == ["时间", "事件", "操作人", "事项", "说明"]
    # Local wall-clock times (the story starts at 10:00 Beijing time), one row per event
    # written before the file recorded itself.
    assert [r[0] for r in log[1:]] == [
        e.at.astimezone(TZ).strftime("%Y-%m-%d %H:%M") for e in events
    ][: len(log) - 1]
    assert all(r[0].startswith("2026-12-01 10:") for r in log[1:])
    assert "申请已受理" in {r[1] for r in log[1:]}
    for table in tables.values():
        for cells in table:
            _no_codes(cells)
    checklist = tables["checklist.csv"]
    assert checklist[0][:4] == ["事项", "阶段", "部门", "状态"]
    assert {r[0] for r in checklist[1:]} == {i.name_zh for i in items}
    documents = tables["documents.csv"]
    assert documents[0] == ["材料", "已收到", "档案内文件"]
    assert ["施工图设计文件", "是", drawings] in documents
    assert "<h1>P2026-0001 运河中心大厦</h1>" in page and "项目管家：—" in page


async def test_sanyuan_december_report_drawn_in_january_is_as_of_31_december(
    tmp_path: Path,
) -> None:
    files, db = await _play(tmp_path, "office_files_sanyuan_report_as_of_period_end.yaml")
    try:
        async with UnitOfWork(db) as uow:
            items = list((await uow.session.execute(select(ChecklistItem))).scalars())
            kinds = [e.kind for e in (await uow.session.execute(select(Event))).scalars()]
    finally:
        await db.dispose()
    assert "item.complete" in kinds
    end = date(2026, 12, 31)
    overdue_then = [
        i
        for i in items
        if i.state != "not_applicable"
        and i.due_on is not None
        and i.due_on < end
        and (i.done_on is None or i.done_on > end)
    ]
    closed_in_january = [i for i in items if i.done_on and i.done_on.year == 2027]
    # Closed in January, due in December: overdue in December's report, not closed in it.
    assert closed_in_january and set(closed_in_january) <= set(overdue_then)
    assert all(i.due_on is not None and i.due_on < end for i in closed_in_january)

    december, _ = _sheet(files["月度报表 2026-12.xlsx"])
    assert december[0][0] == "区域"
    zone = dict(zip(december[0], december[1], strict=True))
    assert zone["区域"] == "三明经济开发区"  # the scheme's zone, not the address
    assert zone["办结事项"] == 0
    assert zone["逾期事项数"] >= len(overdue_then) - 1  # 补正 pauses aside: as of 31 December
    assert zone["逾期事项数"] > 0
    january, _ = _sheet(files["月度报表 2027-01.xlsx"])
    assert dict(zip(january[0], january[1], strict=True))["办结事项"] == 1

    rows, _ = _sheet(files["台账2027-01-05.xlsx"])
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["项目代办人员"] == "陈晨"  # Sanyuan's own name for the butler
    assert row["各部门项目代办联络员"] == "区自然资源局：周杰"
    assert row["区域"] == "三明经济开发区"
    assert "逾期" in row["逾期事项"] and "用地预审" not in row["逾期事项"]
    assert row["最新进展"].startswith("2027-01-05 事项办结")
