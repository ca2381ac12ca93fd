"""The one-project file (一事一档) and the ledger (台账) open and match the store."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

from openpyxl import load_workbook

from bot.archive import write_archive
from bot.cli import build_parser
from bot.ledger import COLUMNS, export_ledger, ledger_rows
from bot.stories import StoryRunner, parse_story
from domain.calendar import WorkCalendar
from domain.scheme_loader import load_scheme
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
        path = await write_archive(db, load_scheme("anshan"), "P2026-0007", tmp_path / "a.zip")
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
            "completion.json",
            "ratings.csv",
            "documents.csv",
        }
        page = archive.read("index.html").decode("utf-8")
        checklist = list(csv.reader(io.StringIO(archive.read("checklist.csv").decode("utf-8-sig"))))
        log = list(csv.reader(io.StringIO(archive.read("worklog.csv").decode("utf-8-sig"))))
        completion = json.loads(archive.read("completion.json"))
    parser = _Tables()
    parser.feed(page)
    parser.close()
    assert parser.stack == []
    checklist_rows, log_rows = parser.rows[0], parser.rows[1]
    assert checklist_rows == len(items) == len(checklist) - 1
    # The file is written before the log records that it was made.
    logged = [e for e in events if e.data.get("via") != "cli"]
    assert log_rows == len(logged) == len(log) - 1
    assert [r[0] for r in checklist[1:]] == [i.code for i in items]
    assert {r[1] for r in log[1:]} >= {"item.request_correction", "item.accept_correction"}
    assert completion["name"] == "Liu Wei"
    assert completion["account"] == "story:liu"
    assert "Liu Wei" in "".join(parser.text)


async def test_ledger_xlsx_csv_json_rows_match_the_store(tmp_path: Path) -> None:
    url = await _played(tmp_path)
    db = Database(url)
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    try:
        rows = await ledger_rows(db, WorkCalendar(), date(2026, 12, 1))
        xlsx = await export_ledger(db, WorkCalendar(), "xlsx", tmp_path / "l.xlsx", now)
        as_csv = await export_ledger(db, WorkCalendar(), "csv", tmp_path / "l.csv", now)
        as_json = await export_ledger(db, WorkCalendar(), "json", tmp_path / "l.json", now)
        async with UnitOfWork(db) as uow:
            projects = await uow.projects.listed()
            items = await uow.items.of_project(projects[0].id)
    finally:
        await db.dispose()
    assert [r["code"] for r in rows] == [p.code for p in projects] == ["P2026-0007"]
    live = [i for i in items if i.state != "not_applicable"]
    assert rows[0]["total"] == len(live) == 6
    assert rows[0]["done"] == sum(1 for i in live if i.state == "done") == 6
    assert rows[0]["butler"] == "Gao Feng"
    assert rows[0]["status"] == "archived"
    sheet = load_workbook(xlsx).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == list(COLUMNS)
    assert values[1][0] == "P2026-0007" and values[1][COLUMNS.index("progress")] == "6/6"
    table = list(csv.DictReader(io.StringIO(as_csv.read_text(encoding="utf-8-sig"))))
    assert table[0]["stage"] == rows[0]["stage"] == "handover"
    assert json.loads(as_json.read_text(encoding="utf-8")) == rows


def test_the_cli_knows_the_office_commands() -> None:
    parser = build_parser()
    assert parser.parse_args(["export", "ledger", "--format", "csv"]).fmt == "csv"
    assert parser.parse_args(["archive", "P2026-0001"]).project == "P2026-0001"
    assert parser.parse_args(["people", "invite", "Zhao"]).action == "invite"
