"""Which problem? (选择问题): a bare /ack or /resolve with several open problems.

With one open problem the command acts on it; with several, each is offered as a button
(`problem:ack:ID` takes it; `problem:resolve:ID` asks for the minutes, then closes it).
"""

from __future__ import annotations

from handlers.chat import Button, Outgoing
from handlers.context import Ctx
from storage.models import Problem, Project

OFFERED = 8


async def open_problems_here(ctx: Ctx, here: Project | None, *, overseer: bool) -> list[Problem]:
    """The open problems a bare /ack or /resolve may mean: the group's project's (``here``);
    in a DM every project's for the office and leaders, the sender's as butler otherwise."""
    if ctx.in_group:
        return await ctx.uow.problems.unresolved_for_project(here.id) if here else []
    if overseer:
        return await ctx.uow.problems.unresolved()
    found: list[Problem] = []
    for project in await ctx.uow.members.projects_of(ctx.person.id, "butler"):
        found += await ctx.uow.problems.unresolved_for_project(project.id)
    return found


async def offer_problems(ctx: Ctx, open_ones: list[Problem]) -> None:
    """Several open problems: one button each, for /ack or /resolve."""
    command = "resolve" if ctx.incoming.command == "resolve" else "ack"
    shown = sorted(open_ones, key=lambda p: (-p.level, p.id))[:OFFERED]
    codes = await ctx.uow.due.project_labels(sorted({p.project_id for p in shown}))
    lines = [
        ctx._(
            "Level {level} · {code} {name}",
            level=p.level,
            code=codes[p.project_id][0],
            name=codes[p.project_id][1],
        )
        for p in shown
    ]
    text = ctx._("{n} problems are open; which one?", n=len(open_ones))
    buttons = [
        [Button(f"#{p.id} · {line}", f"problem:{command}:{p.id}")]
        for p, line in zip(shown, lines, strict=True)
    ]
    if command == "resolve":
        example = f"/{command} #{shown[0].id} …"
        text += "\n" + ctx._("Press one, or give its number, e.g. {example}", example=example)
    await ctx.reply(Outgoing(text, buttons=buttons))
