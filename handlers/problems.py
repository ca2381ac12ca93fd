"""Difficult problems (难点问题) and the dispatch ladder (分级调度): notices and commands.

`/escalate [item] REASON [level]` raises a problem by hand; `/ack [#id]` takes it (the
ladder stops raising it for the rung's ``ack_suppresses_workdays``); `/resolve [#id]
MINUTES` closes it and pushes the meeting minutes (会议纪要) to the project group and to
every department concerned. The ladder is read from the project's snapshot (DESIGN
decision 3); `reminders/ladder.py` raises problems by itself with the same notices.
"""

from __future__ import annotations

import re

from handlers.access import OnProject
from handlers.chat import ChatKind, Outgoing
from handlers.context import Ctx
from handlers.i18n import N_
from handlers.inbound_text import too_long
from handlers.problem_notices import (
    GROUP_LANG,
    concerned_departments,
    ladder_of,
    mention_line,
    notify_problem,
)
from handlers.render import Voice, department_name
from handlers.router import Router
from storage.models import Problem

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
STAFF_ESCALATE = {"butler", "office"}
STAFF_DISPATCH = {"butler", "office", "leader"}
_LEVEL = re.compile(r"^(?:L|l|level)?(\d)$")
_NO_PROBLEM_ACK = N_("No open problem found. Give its number, e.g. /ack #12.")


@router.command(
    "escalate",
    roles=STAFF_ESCALATE,
    chat=ChatKind.GROUP,
    scope=OnProject("dispatch", via="chat"),
    help=N_("Raise a problem on the dispatch ladder: /escalate [item] REASON [level]"),
)
async def escalate(ctx: Ctx) -> None:
    """`/escalate [item] REASON [level]` in a project group: raise a problem by hand."""
    project = ctx.project
    assert project is not None
    words = ctx.args.split()
    item = None
    if words:
        item = await ctx.uow.items.by_code(project.id, words[0])
        if item is not None:
            words = words[1:]
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
    existing = await ctx.uow.problems.unresolved_for_item(item.id) if item else None
    if existing is not None:
        above = ladder.rung_above(existing.level)
        target = level or (above.level if above else existing.level)
        if target > existing.level:
            await ctx.uow.problems.raise_to(existing, target, ctx.now)
        problem = existing
    else:
        problem = await ctx.uow.problems.open(
            project_id=project.id,
            item_id=item.id if item else None,
            level=level or ladder.bottom.level,
            reason=reason,
            auto=False,
            opened_by_id=ctx.person.id,
            now=ctx.now,
        )
    await ctx.uow.events.append(
        "problem.escalated",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=project.id,
        item_id=problem.item_id,
        data={"problem": problem.id, "level": problem.level, "reason": reason},
    )
    await notify_problem(ctx.post, ctx.scheme, problem)
    await ctx.reply(
        ctx._("Problem #{id} raised to level {level}.", id=problem.id, level=problem.level)
    )


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
        missing=N_("No open problem found. Give its number, e.g. /resolve #12 MINUTES."),
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
