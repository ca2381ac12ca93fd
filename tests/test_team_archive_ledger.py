"""The one-project file (一事一档) and the ledger (台账) open and match the store."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

from openpyxl import load_workbook

from bot.archive import write_archive
from bot.cli import build_parser
from bot.ledger import COLUMNS, export_ledger
from bot.stories import StoryRunner, parse_story
from domain.calendar import WorkCalendar
from domain.scheme_loader import load_scheme
from handlers.ledger import headers, ledger_rows
from storage.db import Database
from storage.uow import UnitOfWork

STORY = Path(__file__).parent / "stories" / "team_anshan_plan_backup.yaml"


class _Tables(HTMLParser):
    """Counts table rows per table and collects the text, failing on unbalanced tags."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.rows: list[int] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("meta",):
            return
        self.stack.append(tag)
        if tag == "table":
            self.rows.append(0)
        if tag == "tr" and "tbody" in self.stack:
            self.rows[-1] += 1

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (self.stack, tag)
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


async def _played(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'story.sqlite3'}"
    story = parse_story(STORY.read_text(encoding="utf-8"), str(STORY))
    result = await StoryRunner(story, url, tmp_path).run()
    assert result.ok, "\n".join(str(f) for f in result.failures)
    return url


async def test_archive_zip_holds_a_parsable_summary_matching_the_store(tmp_path: Path) -> None:
    url = await _played(tmp_path)
    db = Database(url)
    try:
        path = await write_archive(
            db, load_scheme("anshan"), "P2026-0007", tmp_path / "a.zip", lang="en"
        )
        async with UnitOfWork(db) as uow:
            project = await uow.projects.by_code("P2026-0007")
            assert project is not None
            items = await uow.items.of_project(project.id)
            events = await uow.events.for_project(project.id, limit=10_000)
    finally:
        await db.dispose()
    with zipfile.ZipFile(path) as archive:
        assert set(archive.namelist()) >= {
            "index.html",
            "checklist.csv",
            "worklog.csv",
            "completion.csv",
            "ratings.csv",
            "documents.csv",
        }
        page = archive.read("index.html").decode("utf-8")
        checklist = list(csv.reader(io.StringIO(archive.read("checklist.csv").decode("utf-8-sig"))))
        log = list(csv.reader(io.StringIO(archive.read("worklog.csv").decode("utf-8-sig"))))
        completion = list(
            csv.reader(io.StringIO(archive.read("completion.csv").decode("utf-8-sig")))
        )
    parser = _Tables()
    parser.feed(page)
    parser.close()
    assert parser.stack == []
    checklist_rows, log_rows = parser.rows[0], parser.rows[1]
    assert checklist_rows == len(items) == len(checklist) - 1
    # The file is written before the log records that it was made.
    logged = [e for e in events if e.data.get("via") != "cli"]
    assert log_rows == len(logged) == len(log) - 1
    assert [r[0] for r in checklist[1:]] == [i.name_en for i in items]
    assert log[0] == ["Time", "Event", "By", "Item", "Details"]
    events_named = {r[1] for r in log[1:]}
    assert {
        "Corrections requested (补正)",
        "Corrected materials accepted (重新受理)",
    } <= events_named
    assert not any(e.kind in events_named for e in events)  # names, never kinds
    assert completion[1] == ["Confirmed by", "Liu Wei"]
    assert "Liu Wei" in "".join(parser.text)


async def test_ledger_xlsx_csv_json_rows_match_the_store(tmp_path: Path) -> None:
    url = await _played(tmp_path)
    db = Database(url)
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    anshan = load_scheme("anshan")
    try:
        async with UnitOfWork(db) as uow:
            rows = await ledger_rows(uow, anshan, WorkCalendar(), now, "en")
            projects = await uow.projects.listed()
            items = await uow.items.of_project(projects[0].id)
        xlsx = await export_ledger(db, anshan, WorkCalendar(), "xlsx", tmp_path / "l.xlsx", now)
        as_csv = await export_ledger(
            db, anshan, WorkCalendar(), "csv", tmp_path / "l.csv", now, "en"
        )
        as_json = await export_ledger(
            db, anshan, WorkCalendar(), "json", tmp_path / "l.json", now, "en"
        )
    finally:
        await db.dispose()
    assert [r["code"] for r in rows] == [p.code for p in projects] == ["P2026-0007"]
    live = [i for i in items if i.state != "not_applicable"]
    assert len(live) == 6 and all(i.state == "done" for i in live)
    assert rows[0]["progress"] == "6/6"
    assert rows[0]["butler"] == "Gao Feng"
    assert rows[0]["status"] == "Completed and archived"
    sheet = load_workbook(xlsx).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == headers(anshan, "zh_CN")
    assert values[0][0] == "项目编号" and values[0][11] == anshan.roles.butler.zh
    assert values[1][0] == "P2026-0007" and values[1][COLUMNS.index("progress")] == "6/6"
    assert values[1][COLUMNS.index("status")] == "已办结归档"
    table = list(csv.DictReader(io.StringIO(as_csv.read_text(encoding="utf-8-sig"))))
    assert table[0]["Stage"] == rows[0]["stage"] == "Results and handover"
    plain = json.loads(as_json.read_text(encoding="utf-8"))
    assert plain[0]["stage"] == "Results and handover"
    assert plain[0]["code"] == "P2026-0007"
    assert plain[0]["accepted_on"] == rows[0]["accepted_on"].isoformat()


def test_the_cli_knows_the_office_commands() -> None:
    parser = build_parser()
    assert parser.parse_args(["export", "ledger", "--format", "csv"]).fmt == "csv"
    assert parser.parse_args(["archive", "P2026-0001"]).project == "P2026-0001"
    assert parser.parse_args(["people", "invite", "Zhao"]).action == "invite"
