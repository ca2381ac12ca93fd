"""Difficult problems (难点问题) and the dispatch ladder (分级调度): notices and commands.

A project's problems are grouped: one problem lists its overdue items. `/escalate [item]
REASON [level]` reports one up by hand (a specialist or backup their own item; the
butler and the office any), joining the project's open problem or splitting the item
out; `/ack [#id]` takes a problem (the ladder stops raising it for the rung's
``ack_suppresses_workdays``); `/resolve [#id] MINUTES` closes it and pushes the meeting
minutes (会议纪要) to the project group and to every department concerned. Without a
number, both act on the only open problem, or offer the open ones. The ladder is read
from the project's snapshot (DESIGN decision 3); `reminders/ladder.py` raises problems by
itself with the same notices.
"""

from __future__ import annotations

import re
from typing import Any

from domain.bounds import TEXT_LIMITS
from handlers.access import OnProject, may_act
from handlers.chat import ChatKind, Outgoing
from handlers.context import Ctx
from handlers.forms import Field, Form, start_form, text_parser
from handlers.i18n import N_
from handlers.inbound_text import too_long
from handlers.problem_notices import (
    GROUP_LANG,
    concerned_departments,
    ladder_of,
    mention_line,
    notify_problem,
)
from handlers.render import Voice, department_name, item_name
from handlers.router import Router
from storage.models import ChecklistItem, Problem, Project

router = Router("problems")

# reminders/ (the automatic ladder, nudges, reports) reads these through this module.
__all__ = [
    "GROUP_LANG",
    "department_name",
    "ladder_of",
    "mention_line",
    "notify_problem",
    "router",
]

# -- commands --------------------------------------------------------------------------
STAFF_ESCALATE = {"butler", "office", "specialist", "backup"}
STAFF_DISPATCH = {"butler", "office", "leader"}
MINUTES_LIMIT = TEXT_LIMITS["minutes"]
_LEVEL = re.compile(r"^(?:L|l|level)?(\d)$")
_NO_PROBLEM_ACK = N_("No open problem found. Give its number, e.g. /ack #12.")
_NO_PROBLEM_RESOLVE = N_("No open problem found. Give its number, e.g. /resolve #12 MINUTES.")


async def reports_item(ctx: Ctx, project: Project, item: ChecklistItem | None) -> bool:
    """Whether the sender may report this up: the butler and office any item of the
    project (or the project as a whole); a specialist or backup only their own item."""
    if project.butler_id == ctx.person.id or ctx.has_role("office"):
        return True
    if item is not None and item.assignee_id is not None:
        if item.assignee_id == ctx.person.id:
            return True
        backups = await ctx.uow.due.backups_of(project.id, item.assignee_id)
        if any(b.id == ctx.person.id for b in backups):
            return True
    say_role = ctx.label(ctx.scheme.roles.specialist)
    if item is None:
        await ctx.reply(
            ctx._(
                "Name your item first: /escalate ITEM REASON. Each {specialist} reports up "
                "their own items.",
                specialist=say_role,
            )
        )
    else:
        await ctx.reply(
            ctx._(
                "Only the {specialist} of “{item}”, their backup, the {butler} or the "
                "{office} can report it up.",
                specialist=say_role,
                item=item_name(ctx, item),
                butler=ctx.label(ctx.scheme.roles.butler),
                office=ctx.label(ctx.scheme.roles.office),
            )
        )
    return False


@router.command(
    "escalate",
    roles=STAFF_ESCALATE,
    chat=ChatKind.GROUP,
    scope=OnProject("staff", via="chat"),
    help=N_("Report a problem up the dispatch ladder: /escalate [item] REASON [level]"),
)
async def escalate(ctx: Ctx) -> None:
    """`/escalate [item] REASON [level]` in a project group: report a problem up by hand.

    The item joins the project's open problem (or opens one) at level 1 or the level
    given, with the reason as written; an item already on a problem with others is split
    out onto its own, at the level it stood."""
    project = ctx.project
    assert project is not None
    words = ctx.args.split()
    item = None
    if words:
        item = await ctx.uow.items.by_code(project.id, words[0])
        if item is not None:
            words = words[1:]
    if not await reports_item(ctx, project, item):
        return
    ladder = ladder_of(project, ctx.scheme)
    level: int | None = None
    if len(words) > 1 and (found := _LEVEL.match(words[-1])):
        level = int(found.group(1))
        words = words[:-1]
    reason = " ".join(words).strip()
    if await too_long(ctx, reason, "reason"):
        return
    if not reason:
        await ctx.reply(
            ctx._("Usage: /escalate [item code] REASON [level 1–{top}]", top=ladder.top.level)
        )
        return
    if level is not None and level not in ladder.levels:
        await ctx.reply(ctx._("There is no level {level} on this project's ladder.", level=level))
        return
    problem, split_from = await file_report(ctx, project, item, reason, level or 0)
    await ctx.uow.events.append(
        "problem.escalated",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=project.id,
        item_id=item.id if item is not None else problem.item_id,
        data={"problem": problem.id, "level": problem.level, "reason": reason},
    )
    await notify_problem(ctx.post, ctx.services, problem)
    if split_from is not None:
        await ctx.reply(
            ctx._(
                "“{item}” split out of problem #{old} onto problem #{id} at level {level}.",
                item=item_name(ctx, item) if item is not None else "",
                old=split_from,
                id=problem.id,
                level=problem.level,
            )
        )
        return
    await ctx.reply(
        ctx._("Problem #{id} raised to level {level}.", id=problem.id, level=problem.level)
    )


async def file_report(
    ctx: Ctx, project: Project, item: ChecklistItem | None, reason: str, level: int
) -> tuple[Problem, int | None]:
    """Open, join or split out the problem the report goes on; the problem and, for a
    split, the number of the problem the item left."""
    uow, now = ctx.uow, ctx.now
    bottom = ladder_of(project, ctx.scheme).bottom.level
    existing = await uow.problems.unresolved_for_item(item.id) if item is not None else None
    if item is not None and existing is not None:
        others = [link for link in await uow.problems.items_of(existing.id)]
        if len(others) > 1:
            await uow.problems.remove_item(existing, item.id)
            problem = await uow.problems.open(
                project_id=project.id,
                item_id=item.id,
                level=max(level, existing.level),
                reason=reason,
                auto=False,
                opened_by_id=ctx.person.id,
                now=now,
            )
            return problem, existing.id
        await uow.problems.add_item(existing, item.id, now, reason)
        if level > existing.level:
            await uow.problems.raise_to(existing, level, now)
        return existing, None
    open_ones = await uow.problems.unresolved_for_project(project.id)
    group = min(open_ones, key=lambda p: p.id) if open_ones and item is not None else None
    if group is not None and item is not None:
        await uow.problems.add_item(group, item.id, now, reason)
        if level > group.level:
            await uow.problems.raise_to(group, level, now)
        return group, None
    problem = await uow.problems.open(
        project_id=project.id,
        item_id=item.id if item is not None else None,
        level=level or bottom,
        reason=reason,
        auto=False,
        opened_by_id=ctx.person.id,
        now=now,
    )
    return problem, None


@router.command(
    "ack",
    roles=STAFF_DISPATCH,
    scope=OnProject("dispatch", via="problem", missing=_NO_PROBLEM_ACK),
    help=N_("Take a problem (pauses automatic raising)"),
)
@router.button(
    "problem:ack:",
    roles=STAFF_DISPATCH,
    scope=OnProject("dispatch", via="problem_button", missing=_NO_PROBLEM_ACK),
)
async def ack(ctx: Ctx) -> None:
    """`/ack [#id]`, or the Acknowledge button under a problem notice: take a problem."""
    problem, project = ctx.target, ctx.project
    assert isinstance(problem, Problem) and project is not None
    rung = ladder_of(project, ctx.scheme).rung_at(problem.level)
    until = ctx.services.calendar.add_workdays(ctx.local_now.date(), rung.ack_suppresses_workdays)
    await ctx.uow.problems.ack(problem, ctx.person.id, until, ctx.now)
    await ctx.uow.events.append(
        "problem.acked",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=problem.project_id,
        item_id=problem.item_id,
        data={"problem": problem.id, "until": until.isoformat()},
    )
    text = ctx._(
        "Problem #{id} acknowledged by {name}; it will not be raised automatically until {until}.",
        id=problem.id,
        name=ctx.person.name,
        until=until.isoformat(),
    )
    await ctx.reply(text)
    if not ctx.in_group:
        await ctx.post.to_project_groups(problem.project_id, Outgoing(text), "ack")


@router.command(
    "resolve",
    roles=STAFF_DISPATCH,
    scope=OnProject(
        "dispatch",
        via="problem",
        missing=_NO_PROBLEM_RESOLVE,
    ),
    help=N_("Close a problem with the meeting minutes: /resolve MINUTES"),
)
async def resolve(ctx: Ctx) -> None:
    """`/resolve [#id] MINUTES`: close a problem and push the minutes (会议纪要)."""
    problem, project = ctx.target, ctx.project
    assert isinstance(problem, Problem) and project is not None
    minutes = ctx.args.strip()
    if not minutes:
        await ctx.reply(ctx._("Write the meeting minutes after /resolve, e.g. /resolve #12 …"))
        return
    if await too_long(ctx, minutes, "minutes"):
        return
    await close_problem(ctx, project, problem, minutes)


@router.button(
    "problem:resolve:",
    roles=STAFF_DISPATCH,
    scope=OnProject("dispatch", via="problem_button", missing=_NO_PROBLEM_RESOLVE),
)
async def resolve_button(ctx: Ctx) -> None:
    """A problem offered by a bare /resolve: ask for the minutes, then close it."""
    problem = ctx.target
    assert isinstance(problem, Problem)
    await start_form(ctx, RESOLVE, {"problem_id": problem.id})


async def _minutes_given(ctx: Ctx, values: dict[str, Any]) -> None:
    problem = await ctx.uow.problems.get(int(values["problem_id"]))
    project = await ctx.uow.projects.get(problem.project_id) if problem is not None else None
    if problem is None or problem.state == "resolved" or project is None:
        await ctx.reply(ctx._(_NO_PROBLEM_RESOLVE))
        return
    if await may_act(ctx, project, "dispatch"):
        await close_problem(ctx, project, problem, str(values["minutes"]))


RESOLVE = Form(
    name="resolve_problem",
    title=N_("Close a problem"),
    fields=[
        Field(
            "minutes",
            label=N_("Meeting minutes"),
            prompt=N_(
                "The meeting minutes (会议纪要)? They go to the project group and to the "
                "departments concerned."
            ),
            parse=text_parser(max_length=MINUTES_LIMIT, min_length=2),
        )
    ],
    on_submit=_minutes_given,
    roles=frozenset(STAFF_DISPATCH),
)


async def close_problem(ctx: Ctx, project: Project, problem: Problem, minutes: str) -> None:
    """Resolve the problem (all its items) and push the minutes to the group and to the
    departments concerned."""
    await ctx.uow.problems.resolve(problem, ctx.person.id, minutes, ctx.now)
    await ctx.uow.events.append(
        "problem.resolved",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=problem.project_id,
        item_id=problem.item_id,
        data={"problem": problem.id, "minutes": minutes},
    )

    def notice(lang: str) -> Outgoing:
        return Outgoing(
            Voice(lang)._(
                "Problem #{id} of {project} is resolved. Meeting minutes (会议纪要):\n{minutes}",
                id=problem.id,
                project=project.name,
                minutes=minutes,
            )
        )

    await ctx.post.to_project_groups(project.id, notice(GROUP_LANG), "minutes")
    for person in await concerned_departments(ctx.uow, project, problem):
        await ctx.post.to_person(person.id, notice(person.lang), f"minutes:u{person.id}")
    await ctx.reply(ctx._("Problem #{id} closed; the minutes were sent.", id=problem.id))
