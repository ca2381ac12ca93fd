"""Periodic reports (定期报表): XLSX and Markdown rows match the store after a story."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import build_app
from bot.cli import build_parser
from bot.config import Settings
from bot.report_cli import report_command
from bot.stories import StoryRunner, parse_story
from domain.clock import FakeClock
from reminders.rating_round import start_round
from reminders.reports import PeriodError, period_bounds, period_of, send_monthly_report
from storage.db import Database
from storage.models import ChecklistItem, OutboxMessage, Problem, Project, Rating
from storage.repos.due import RUNNING_STATES
from storage.uow import UnitOfWork

STORIES = Path(__file__).parent / "stories"
TZ = ZoneInfo("Asia/Shanghai")


async def _played(tmp_path: Path, name: str) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'story.sqlite3'}"
    path = STORIES / name
    story = parse_story(path.read_text(encoding="utf-8"), str(path))
    result = await StoryRunner(story, url, tmp_path).run()
    assert result.ok, "\n".join(str(f) for f in result.failures)
    return url


def _sheets(path: Path) -> dict[str, list[tuple]]:
    book = load_workbook(path, read_only=True)
    out = {ws.title.split(" ", 1)[1]: list(ws.iter_rows(values_only=True)) for ws in book}
    book.close()
    return out


async def test_monthly_xlsx_rows_match_zones_problems_and_ratings(tmp_path: Path) -> None:
    url = await _played(tmp_path, "reminders_jinniu_monthly_rating.yaml")
    now = datetime(2026, 12, 31, 12, tzinfo=TZ)
    app = await build_app(Settings(database_url=url, scheme="jinniu"), clock=FakeClock(now))
    try:
        target = tmp_path / "m.xlsx"
        out = await report_command(app.services, "monthly", "2026-12", "xlsx", target, "en", now)
        assert out == f"wrote {target}"
        sheets = _sheets(target)
        zones, ratings = sheets["By zone or street"], sheets["Ratings"]
        async with UnitOfWork(app.services.db) as uow:
            projects = list((await uow.session.execute(select(Project))).scalars())
            problems = list((await uow.session.execute(select(Problem))).scalars())
            stored = list((await uow.session.execute(select(Rating).order_by(Rating.id))).scalars())
    finally:
        await app.close()

    assert zones[0][:4] == (
        "Zone / street",
        "Projects in service",
        "New applications",
        "Accepted in the period",
    )
    assert zones[0][6:] == (
        "Problems raised",
        "Problems resolved",
        "Problems open",
        "Ratings given",
        "Bad reviews",
    )
    by_zone = {row[0]: row for row in zones[1:]}
    assert set(by_zone) == {p.zone for p in projects} | {"Total"}
    for project in projects:
        row = by_zone[project.zone]
        assert row[1] == 1 and row[3] == 0  # in service; accepted in November, not December
        raised = [
            p
            for p in problems
            if p.project_id == project.id and p.opened_at.astimezone(TZ).month == 12
        ]
        assert row[6] == len(raised)
        open_at_end = [
            p
            for p in problems
            if p.project_id == project.id
            and (p.resolved_at is None or p.resolved_at.astimezone(TZ).date() > date(2026, 12, 31))
        ]
        assert row[8] == len(open_at_end)
        given = [r for r in stored if r.project_id == project.id]
        assert row[9] == len(given) and row[10] == len([r for r in given if r.level <= 2])
    assert by_zone["Total"][1] == len(projects)

    assert [r[0] for r in ratings[1:]] == [r.id for r in stored]
    assert [r[4] for r in ratings[1:]] == [r.level for r in stored] == [1, 5, 2]
    assert [r[7] or None for r in ratings[1:]] == [r.follow_up for r in stored]
    assert [r.follow_up for r in stored] == ["done", None, "open"]
    assert ratings[1][5] == "Very dissatisfied" and "Nobody answered" in ratings[1][6]


async def test_weekly_list_overdue_rows_are_the_stores_running_overdue_items(
    tmp_path: Path,
) -> None:
    url = await _played(tmp_path, "reminders_tongzhou_national_day.yaml")
    now = datetime(2026, 10, 9, 12, tzinfo=TZ)
    app = await build_app(Settings(database_url=url, scheme="tongzhou"), clock=FakeClock(now))
    try:
        target = tmp_path / "w.xlsx"
        await report_command(app.services, "weekly", "2026-W41", "xlsx", target, "en", now)
        markdown = await report_command(app.services, "weekly", "2026-W41", "md", None, "en", now)
        sheets = _sheets(target)
        calendar = app.services.calendar
        async with UnitOfWork(app.services.db) as uow:
            items = list((await uow.session.execute(select(ChecklistItem))).scalars())
            unresolved = await uow.problems.unresolved()
            every = await uow.problems.every()
    finally:
        await app.close()

    as_of = date(2026, 10, 9)
    expected = sorted(
        (
            (calendar.workdays_between(i.due_on, as_of), i.name_en)
            for i in items
            if i.state in RUNNING_STATES
            and i.due_on is not None
            and i.paused_on is None
            and calendar.workdays_between(i.due_on, as_of) > 0
        ),
        key=lambda pair: -pair[0],
    )
    overdue = sheets["Overdue items"]
    assert overdue[0][-1] == "Working days overdue"
    assert sorted(((r[6], r[2]) for r in overdue[1:]), key=lambda p: -p[0]) == expected
    power = next(r for r in overdue[1:] if r[2] == "Power connection")
    assert power[3:] == ("Power supply company", "Sun Li", "2026-09-28", 4)
    # As of 9 October, whatever the store says now: the problem resolved on 10-11 was open.
    was_open = sorted(
        (
            p
            for p in every
            if p.opened_at.astimezone(TZ).date() <= as_of
            and (p.resolved_at is None or p.resolved_at.astimezone(TZ).date() > as_of)
        ),
        key=lambda p: (-p.level, p.id),
    )
    assert any(p.resolved_at is not None for p in was_open)
    assert {p.id for p in unresolved} < {p.id for p in was_open}
    assert [r[0] for r in sheets["Open problems"][1:]] == [p.id for p in was_open]
    assert markdown.startswith("# Weekly dispatch list 2026-W41")
    assert "| P2026-0001 | Tongzhou logistics centre | Power connection |" in markdown


def test_periods_parse_and_bad_ones_are_refused() -> None:
    assert period_bounds("weekly", "2026-W48") == (date(2026, 11, 23), date(2026, 11, 29))
    assert period_bounds("monthly", "2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert period_bounds("quarterly", "2026Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert period_of("weekly", date(2026, 11, 25)) == "2026-W48"
    assert period_of("quarterly", date(2026, 11, 25)) == "2026Q4"
    for kind, bad in [("weekly", "2026-11"), ("monthly", "2026-13"), ("quarterly", "2026Q5")]:
        with pytest.raises(PeriodError):
            period_bounds(kind, bad)


def test_the_cli_parses_report() -> None:
    args = build_parser().parse_args(
        ["report", "quarterly", "--period", "2026Q4", "--format", "xlsx"]
    )
    assert (args.kind, args.period, args.fmt, args.output) == ("quarterly", "2026Q4", "xlsx", None)
    assert build_parser().parse_args(["report", "weekly", "--period", "2026-W48"]).fmt == "md"


async def test_report_and_round_slots_send_once_across_restarts(tmp_path: Path) -> None:
    url = await _played(tmp_path, "reminders_jinniu_monthly_rating.yaml")
    settings = Settings(database_url=url, scheme="jinniu")
    at = datetime(2027, 1, 25, 9, 5, tzinfo=TZ)
    sent: list[bool] = []
    for _ in range(2):  # a restart between the two attempts
        app = await build_app(settings, clock=FakeClock(at))
        try:
            sent.append(await send_monthly_report(app.services, at))
            sent.append(await send_monthly_report(app.services, at))
            # November's report (sent on the 25th in the story) is not sent again.
            sent.append(
                await send_monthly_report(app.services, datetime(2026, 11, 25, 11, tzinfo=TZ))
            )
            sent.append(await start_round(app.services, datetime(2026, 12, 1, 9, 30, tzinfo=TZ)))
        finally:
            await app.close()
    assert sent == [True, False, False, False, False, False, False, False]
    db = Database(url)
    try:
        async with UnitOfWork(db) as uow:
            keys = [
                r.dedupe_key
                for r in (await uow.session.execute(select(OutboxMessage))).scalars()
                if r.dedupe_key.startswith("report:monthly:2027-01")
            ]
    finally:
        await db.dispose()
    assert len(keys) == 1  # one office member, one message
