"""Binding a group writes the plan's dates onto the checklist rows, exactly as planned."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from domain.application import project_snapshot
from domain.calendar import WorkCalendar
from domain.planning import plan_for_project, runs_in_parallel
from domain.scheme_loader import load_scheme
from handlers.team import assign_team, bind_chat
from storage.db import Database
from storage.migrate import upgrade
from storage.uow import UnitOfWork

NOW = datetime(2026, 9, 25, 1, 0, tzinfo=UTC)
BOUND_ON = date(2026, 9, 25)  # the Friday before National Day (国庆节, Oct 1–7 off)


async def test_rows_written_on_binding_carry_the_plans_dates_across_a_holiday(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'plan.sqlite3'}"
    await upgrade(url)
    scheme = load_scheme("tongzhou")
    calendar = WorkCalendar()
    db = Database(url)
    try:
        async with UnitOfWork(db) as uow:
            for d in scheme.departments:
                await uow.departments.ensure(d.id, d.name.zh, d.name.en)
            butler = await uow.people.add("Zhao", roles=[("butler", None)], now=NOW)
            planner = await uow.people.add(
                "Qin", roles=[("specialist", "planning_natural_resources")], now=NOW
            )
            project = await uow.projects.add(
                code="P2026-0100",
                name="Plant",
                category="building",
                stage="planning_permit",
                status="accepted",
                snapshot=project_snapshot(scheme, "building"),
                created_at=NOW,
            )
            await assign_team(uow, project, butler.id, now=NOW, actor_id=None)
            chat = await uow.chats.get_or_create("test", "g1", "group", "team", now=NOW)
            plan = await bind_chat(
                uow, scheme, calendar, project, chat, today=BOUND_ON, now=NOW, actor_id=butler.id
            )
            rows = {r.code: r for r in await uow.items.of_project(project.id)}
            assert chat.project_id == project.id
    finally:
        await db.dispose()

    expected = plan_for_project(scheme, "building", "planning_permit", BOUND_ON, calendar)
    assert plan == expected
    assert list(rows) == list(expected.item_ids)
    for planned in expected.items:
        row = rows[planned.item_id]
        assert (row.planned_start, row.due_on, row.due_provisional) == (
            planned.planned_start,
            planned.due_on,
            planned.provisional,
        )
        assert row.prerequisites == list(planned.prerequisites)
        assert row.limit_workdays == planned.limit_workdays
    # 5 working days from Friday 25 Sep cannot fall inside the National Day week.
    permit = rows["land_use_planning_permit"]
    assert permit.due_on == calendar.add_workdays(BOUND_ON, 5)
    assert permit.due_on > date(2026, 10, 7)
    # The planning specialist is responsible for planning items; parallel items both start at once.
    assert permit.assignee_id == planner.id
    assert runs_in_parallel(expected, "eia_approval", "land_use_planning_permit")
    assert rows["eia_approval"].planned_start == rows["land_use_planning_permit"].planned_start
    design = rows["design_scheme_review"]
    assert design.planned_start == permit.due_on  # waits for its prerequisite
