"""The ladder by itself (自动分级调度): one problem per project, climbing as the scheme says.

Each working day: a project's overdue items that reach the ladder's first threshold form
one problem (问题按项目归并), later ones join the project's open problem rather than
opening their own. Each unresolved problem then stands where `Ladder.standing` puts it:
on the rung its oldest item's lateness has reached, at most one rung higher after its
rung's ``ack_timeout_workdays`` of silence. An ``/ack`` pauses it until ``ack_until``
has passed. The rules are `domain/ladder.py`'s; this module applies them and writes the
moves, a slice of projects at a time (reminders/round_slices.py). Notices: the groups
get the card when a problem opens or climbs; each person hears of the day's moves in
their one morning message (reminders/morning.py), not in a DM per problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from domain.ladder import Ladder, acknowledgement_holds, ladders_by_project, workdays_unacknowledged
from handlers import log_context
from handlers.context import Services
from handlers.postman import Postman
from handlers.problem_card import gather_many
from handlers.problems import notify_problem
from reminders.round_slices import RoundSlices
from storage.models import Problem
from storage.repos.due import DueItem
from storage.uow import UnitOfWork

AUTO_REASON = "逾期事项"  # stored only; the reason shown is recomputed (problem_card.py)


def suppressed(problem: Problem, today: date) -> bool:
    """An acknowledgement still holds: no automatic raise today."""
    return acknowledgement_holds(problem.state, problem.ack_until, today)


async def ladder_round(
    services: Services, slices: RoundSlices, at: datetime, today: date, items: list[DueItem]
) -> None:
    """Group today's overdue items into their projects' problems, then move each problem
    to where the ladder says it stands today: a slice of projects at a time."""
    calendar = services.calendar
    late: dict[date, int] = {}
    overdue: dict[int, int] = {}  # item id → working days overdue today
    by_project: dict[int, list[DueItem]] = {}
    for item in items:
        if item.due_on not in late:
            late[item.due_on] = max(0, calendar.workdays_between(item.due_on, today))
        overdue[item.item_id] = late[item.due_on]
        by_project.setdefault(item.project_id, []).append(item)
    async with slices.slice() as uow:
        with_problems = await uow.problems.projects_unresolved()
    post: Postman | None = None

    async def work(uow: UnitOfWork, project_ids: Sequence[int]) -> None:
        nonlocal post
        post = (post or Postman(uow, at, f"ladder:{today.isoformat()}")).within(uow)
        await _projects(post, services, today, list(project_ids), by_project, overdue)

    await slices.each(sorted(set(by_project) | with_problems), work)


async def _projects(
    post: Postman,
    services: Services,
    today: date,
    project_ids: list[int],
    by_project: dict[int, list[DueItem]],
    overdue: dict[int, int],
) -> None:
    """One slice of the ladder: these projects' problems, opened, joined and moved."""
    uow, at = post.uow, post.now
    ladders = await project_ladders(uow, services, project_ids)
    unresolved = await uow.problems.unresolved_of(project_ids)
    on_problem = await uow.problems.unresolved_by_item(project_ids)
    target: dict[int, Problem] = {}  # the project's oldest open problem: where items join
    for problem in sorted(unresolved, key=lambda p: p.id):
        target.setdefault(problem.project_id, problem)
    opened: set[int] = set()
    joined: dict[int, list[int]] = {}
    for project_id in project_ids:
        log_context.bind_project(project_id)
        ladder = ladders[project_id]
        late_items = [
            i for i in by_project.get(project_id, []) if ladder.rung_for_overdue(overdue[i.item_id])
        ]
        late_items.sort(key=lambda i: (-overdue[i.item_id], i.item_id))
        for item in late_items:
            if item.item_id in on_problem:
                continue
            problem = target.get(project_id)
            if problem is None:
                rung = ladder.rung_for_overdue(overdue[item.item_id])
                assert rung is not None
                problem = await uow.problems.open(
                    project_id=project_id,
                    item_id=item.item_id,
                    level=rung.level,
                    reason=AUTO_REASON,
                    auto=True,
                    opened_by_id=None,
                    now=at,
                )
                target[project_id] = problem
                unresolved.append(problem)
                opened.add(problem.id)
            else:
                await uow.problems.add_item(problem, item.item_id, at)
                if problem.id not in opened:
                    joined.setdefault(problem.id, []).append(item.item_id)
            on_problem[item.item_id] = problem
            await _log(uow, problem, at, "problem.auto_raised", overdue[item.item_id], item)

    links = await uow.problems.items_of_many([p.id for p in unresolved])
    moved: list[tuple[Problem, bool]] = []
    for problem in unresolved:
        log_context.bind_project(problem.project_id)
        oldest = max((overdue.get(link.item_id, 0) for link in links[problem.id]), default=0)
        climbed = False
        if problem.id not in opened and not suppressed(problem, today):
            level = standing(ladders[problem.project_id], problem, oldest, today, services)
            if level is not None:
                await uow.problems.raise_to(problem, level, at)
                await _log(uow, problem, at, "problem.climbed", oldest, None)
                climbed = True
        if problem.id in opened or climbed or problem.id in joined:
            moved.append((problem, climbed))
    # The groups see the card; each person reads the day's news in their morning message.
    moved_projects = sorted({p.project_id for p, _ in moved})
    await post.learn(projects=moved_projects, groups=moved_projects)
    facts = await gather_many(post, [p for p, _ in moved], today, services.calendar)
    for problem, climbed in moved:
        log_context.bind_project(problem.project_id)
        await notify_problem(
            post,
            services,
            problem,
            climbed=climbed,
            joined=None if problem.id in opened or climbed else joined[problem.id],
            dm=False,
            facts=facts[problem.id],
        )


def standing(
    ladder: Ladder, problem: Problem, oldest: int, today: date, services: Services
) -> int | None:
    """The level the problem moves up to today, or None (domain rule `Ladder.standing`)."""
    raised_on = problem.raised_at.astimezone(services.timezone).date()
    silent = workdays_unacknowledged(raised_on, problem.ack_until, today, services.calendar)
    rung = ladder.standing(problem.level, oldest, silent)
    return rung.level if rung is not None else None


async def project_ladders(uow: UnitOfWork, services: Services, ids: list[int]) -> dict[int, Ladder]:
    """Each project's snapshotted ladder (equal snapshots are read once)."""
    return ladders_by_project(await uow.due.ladders(ids), services.scheme)


async def _log(
    uow: UnitOfWork,
    problem: Problem,
    at: datetime,
    kind: str,
    overdue: int | None,
    item: DueItem | None,
) -> None:
    await uow.events.append(
        kind,
        at=at,
        project_id=problem.project_id,
        item_id=item.item_id if item is not None else problem.item_id,
        data={"problem": problem.id, "level": problem.level, "overdue": overdue},
        flush=False,
    )
