"""A stage moves on by itself (阶段自动推进) when the last of its items is closed.

Closed means done (办结) or not applicable. The project moves to the next stage of the
scheme, and past any stage whose items are all closed already (or that has none), but
never past the last stage: 办结 of the whole project stays the butler's `/complete`.
The project's groups are told, and the move is written to the work log.
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.render import stage_name
from storage.models import ChecklistItem, Project

CLOSED_STATES = frozenset({"done", "not_applicable"})
STILL_RUNNING = ("completing", "archived")


def next_open_stage(stage_ids: list[str], current: str, items: list[ChecklistItem]) -> str:
    """The stage the project stands at once every closed stage from `current` is passed."""
    if current not in stage_ids:
        return current
    position = stage_ids.index(current)
    while position + 1 < len(stage_ids):
        here = [i for i in items if i.stage == stage_ids[position]]
        if any(i.state not in CLOSED_STATES for i in here):
            break
        position += 1
    return stage_ids[position]


async def advance_when_stage_closed(ctx: Ctx, project: Project, closed: ChecklistItem) -> bool:
    """Move the project on if `closed` was the last open item of its current stage."""
    if project.status in STILL_RUNNING or closed.stage != project.stage:
        return False
    items = await ctx.uow.items.of_project(project.id)
    before = project.stage
    after = next_open_stage([s.id for s in ctx.scheme.stages], before, items)
    if after == before:
        return False
    project.stage = after
    await ctx.uow.projects.save(project)
    await ctx.uow.events.append(
        "project.stage_advanced",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=project.id,
        data={"from": before, "to": after, "automatic": True, "last_item": closed.code},
    )
    text = ctx._(
        "Every item of {before} is closed: project {code} moves on to {after}.",
        before=stage_name(ctx, ctx.scheme, before),
        code=project.code,
        after=stage_name(ctx, ctx.scheme, after),
    )
    groups = await ctx.uow.chats.for_project(project.id)
    for chat in groups:
        await ctx.post.to_chat(chat.platform, chat.external_id, text)
    here = (ctx.incoming.platform, ctx.incoming.chat_id)
    if all((chat.platform, chat.external_id) != here for chat in groups):
        await ctx.reply(text)
    return True
