"""The ladder by itself (自动分级调度): thresholds open and raise problems; silence climbs.

Each working day: an overdue item whose working days overdue cross a rung's threshold
gets a problem at that rung (or its problem is raised to it); a problem nobody
acknowledged within its rung's ``ack_timeout_workdays`` climbs one rung; an ``/ack``
pauses both until its ``ack_until`` day has passed. The rules are `domain/ladder.py`'s;
this module reads the problems and projects, applies them, and writes the moves.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from domain.calendar import WorkCalendar
from domain.ladder import (
    Ladder,
    acknowledgement_holds,
    ladders_by_project,
    workdays_unacknowledged,
)
from handlers import log_context
from handlers.context import Services
from handlers.i18n import translate
from handlers.postman import Postman
from handlers.problems import notify_problem
from storage.models import Problem
from storage.repos.due import DueItem
from storage.uow import UnitOfWork


def suppressed(problem: Problem, today: date) -> bool:
    """An acknowledgement still holds: no automatic raise today."""
    return acknowledgement_holds(problem.state, problem.ack_until, today)


def unacked_for(problem: Problem, today: date, calendar: WorkCalendar, tz: tzinfo) -> int:
    """Working days the problem has waited unacknowledged at its level."""
    raised_on = problem.raised_at.astimezone(tz).date()
    return workdays_unacknowledged(raised_on, problem.ack_until, today, calendar)


async def ladder_round(
    uow: UnitOfWork, services: Services, at: datetime, today: date, items: list[DueItem]
) -> int:
    """Open/raise problems for today's overdue items, then climb the silent ones."""
    post = Postman(uow, at, f"ladder:{today.isoformat()}")
    calendar, scheme = services.calendar, services.scheme
    ladders = await project_ladders(uow, services, sorted({i.project_id for i in items}))
    late: dict[date, int] = {}
    touched: set[int] = set()
    notices = 0
    # Each item's newest unresolved problem, in one query rather than one per item.
    open_by_item: dict[int, Problem] = {}
    for problem in await uow.problems.unresolved():
        if problem.item_id is not None:
            newest = open_by_item.get(problem.item_id)
            if newest is None or problem.id > newest.id:
                open_by_item[problem.item_id] = problem
    for item in items:
        log_context.bind_project(item.project_id)
        if item.due_on not in late:
            late[item.due_on] = max(0, calendar.workdays_between(item.due_on, today))
        overdue = late[item.due_on]
        ladder = ladders[item.project_id]
        rung = ladder.rung_for_overdue(overdue)
        if rung is None:
            continue
        problem = open_by_item.get(item.item_id)
        if problem is None:
            reason = translate("zh_CN", "Overdue by {n} working days", n=overdue)
            problem = await uow.problems.open(
                project_id=item.project_id,
                item_id=item.item_id,
                level=rung.level,
                reason=reason,
                auto=True,
                opened_by_id=None,
                now=at,
            )
            climbed = False
        elif (
            raised := ladder.raise_for_overdue(problem.level, overdue)
        ) is not None and not suppressed(problem, today):
            await uow.problems.raise_to(problem, raised.level, at)
            climbed = True
        else:
            continue
        touched.add(problem.id)
        await _log(uow, problem, at, "problem.auto_raised", overdue)
        notices += await notify_problem(post, scheme, problem, overdue=overdue, climbed=climbed)
    notices += await climb_silent(uow, services, at, today, touched, post)
    return notices


async def project_ladders(
    uow: UnitOfWork, services: Services, ids: list[int]
) -> dict[int, Ladder]:
    """Each project's snapshotted ladder (equal snapshots are read once)."""
    return ladders_by_project(await uow.due.ladders(ids), services.scheme)


async def climb_silent(
    uow: UnitOfWork,
    services: Services,
    at: datetime,
    today: date,
    skip: set[int],
    post: Postman,
) -> int:
    """Raise every unacknowledged problem whose rung's ack timeout has passed."""
    notices = 0
    problems = await uow.problems.unresolved()
    ladders = await project_ladders(uow, services, sorted({p.project_id for p in problems}))
    for problem in problems:
        if problem.id in skip or suppressed(problem, today):
            continue
        log_context.bind_project(problem.project_id)
        waited = unacked_for(problem, today, services.calendar, services.timezone)
        above = ladders[problem.project_id].climb(problem.level, waited)
        if above is None:
            continue
        await uow.problems.raise_to(problem, above.level, at)
        await _log(uow, problem, at, "problem.climbed", None)
        overdue = 0
        if problem.item_id is not None:
            item = await uow.items.get(problem.item_id)
            if item is not None and item.due_on is not None and item.paused_on is None:
                overdue = max(0, services.calendar.workdays_between(item.due_on, today))
        notices += await notify_problem(
            post, services.scheme, problem, overdue=overdue, climbed=True
        )
    return notices


async def _log(
    uow: UnitOfWork, problem: Problem, at: datetime, kind: str, overdue: int | None
) -> None:
    await uow.events.append(
        kind,
        at=at,
        project_id=problem.project_id,
        item_id=problem.item_id,
        data={"problem": problem.id, "level": problem.level, "overdue": overdue},
    )
