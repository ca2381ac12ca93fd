"""The leaders' digest stays a digest at a city's scale: each list shows its first lines
and counts the rest, in the reader's language."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from domain.calendar import WorkCalendar
from domain.scheme_loader import load_scheme
from handlers.app_router import build_router
from handlers.context import Services
from handlers.digest import TOP_LINES, TOP_OVERDUE, build_digests
from storage.db import Database
from storage.migrate import upgrade
from storage.uow import UnitOfWork
from tests.faults.seed import add_items, add_projects, item_rows

DAY = date(2026, 11, 24)  # a Tuesday


async def test_long_lists_show_their_first_lines_and_count_the_rest(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'digest.sqlite3'}"
    await upgrade(url)
    db = Database(url)
    try:
        projects = await add_projects(db, 40)
        await add_items(db, item_rows(projects[:20], 2, date(2026, 11, 10)))  # 40 overdue
        late = len(projects[:20]) * 2
        today = item_rows(projects[20:], 1, DAY)  # 20 due today
        for row in today:
            row["name_zh"] = "今日" + row["name_zh"]
        await add_items(db, today)
        services = Services(
            db=db,
            scheme=load_scheme("tongzhou"),
            calendar=WorkCalendar(),
            clock=SimpleNamespace(now=lambda: None),  # type: ignore[arg-type]
            router=build_router(),
            timezone=ZoneInfo("Asia/Shanghai"),
        )
        async with UnitOfWork(db) as uow:
            digests = await build_digests(uow, services, DAY, ["zh_CN", "en"])
    finally:
        await db.dispose()
    zh, en = digests["zh_CN"].text, digests["en"].text
    assert len(re.findall(r"逾期 \d+ 个工作日", zh)) == TOP_OVERDUE
    assert f"逾期事项（{late}）" in zh and f"· ……另有 {late - TOP_OVERDUE} 项" in zh
    assert len(re.findall(r"^· 今日事项", zh, re.M)) == TOP_LINES
    assert f"· ……另有 {20 - TOP_LINES} 项" in zh
    assert f"· … and {late - TOP_OVERDUE} more" in en
    assert len(zh.splitlines()) < 80, "a digest, not a dump"
