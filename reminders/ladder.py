"""The ladder by itself (自动分级调度): thresholds open and raise problems; silence climbs.

Each working day: an overdue item whose working days overdue cross a rung's threshold
gets a problem at that rung (or its problem is raised to it); a problem nobody
acknowledged within its rung's ``ack_timeout_workdays`` climbs one rung; an ``/ack``
pauses both until its ``ack_until`` day has passed.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from domain.calendar import WorkCalendar
from handlers import log_context
from handlers.context import Services
from handlers.i18n import gettext
from handlers.postman import Postman
from handlers.problems import (
    Rung,
    ladder_from,
    notify_problem,
    rung_above,
    rung_at,
    rung_for_overdue,
)
from storage.models import Problem
from storage.repos.due import DueItem
from storage.uow import UnitOfWork


def suppressed(problem: Problem, today: date) -> bool:
    """An acknowledgement still holds: no automatic raise today."""
    return problem.state == "acked" and problem.ack_until is not None and today <= problem.ack_until


def unacked_for(problem: Problem, today: date, calendar: WorkCalendar, tz: tzinfo) -> int:
    """Working days the problem has waited unacknowledged at its level."""
    since = problem.raised_at.astimezone(tz).date()
    if problem.ack_until is not None and problem.ack_until > since:
        since = problem.ack_until  # an expired acknowledgement restarts the wait
    return calendar.workdays_between(since, today)


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
        rung = rung_for_overdue(ladders[item.project_id], overdue)
        if rung is None:
            continue
        problem = open_by_item.get(item.item_id)
        if problem is None:
            reason = gettext("zh_CN", "Overdue by {n} working days").format(n=overdue)
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
        elif rung.level > problem.level and not suppressed(problem, today):
            await uow.problems.raise_to(problem, rung.level, at)
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
) -> dict[int, list[Rung]]:
    """Each project's snapshotted ladder; identical snapshots are parsed once.

    `DueRepo.ladders` returns equal ladders as one shared list, so its identity is the key.
    """
    parsed: dict[int, list[Rung]] = {}
    out: dict[int, list[Rung]] = {}
    for pid, raw in (await uow.due.ladders(ids)).items():
        key = id(raw)
        if key not in parsed:
            parsed[key] = ladder_from(raw, services.scheme)
        out[pid] = parsed[key]
    return out


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
        ladder = ladders[problem.project_id]
        rung = rung_at(ladder, problem.level)
        above = rung_above(ladder, problem.level)
        waited = unacked_for(problem, today, services.calendar, services.timezone)
        if above is None or waited < rung.ack_timeout_workdays:
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
