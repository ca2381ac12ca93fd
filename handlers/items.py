"""Approval items (手续事项): cards with buttons, `/item CODE ACTION`, `/log`, 销号 progress.

Every move goes through `domain.items.apply_action` with the actor's relation to the item
(the responsible specialist, their backup, the butler, the office) and is written to the
work log (工作日志) with actor and time. A refusal names the actions the actor may take.
"""

from __future__ import annotations

from domain.items import Action, Status, legal_actions
from handlers.access import OnProject
from handlers.chat import ChatKind
from handlers.context import Ctx
from handlers.i18n import N_
from handlers.inbound_text import too_long
from handlers.item_approval import MAX_NUMBER, Approval
from handlers.item_forms import ask_approval, ask_missing
from handlers.item_moves import (
    ACTION_WORDS,
    RECORD,
    TYPED,
    card,
    item_role,
    move_item,
)
from handlers.render import STATE_LABELS, item_name, item_number
from handlers.roles import STAFF
from handlers.router import Router
from storage.models import ChecklistItem, Project

router = Router("items")

SHOW = "show"  # ``it:ITEM:show``: a card's button elsewhere (/mine) that only shows it


# Item cards and the work log are the team's: in a DM only staff get them; in a group
# the scope refuses the enterprise and strangers. A card's buttons are authorised alike.
ON_ITEMS = OnProject("staff")
ON_ITEM = OnProject("staff", via="item")


async def find_item(ctx: Ctx, project: Project, word: str) -> ChecklistItem | None:
    """The project's item named by its number in the list, its name or its code."""
    wanted = word.strip().casefold()
    for item in await ctx.uow.items.of_project(project.id):
        names = {item.code.casefold(), item.name_zh.casefold(), item.name_en.casefold()}
        if wanted == str(item_number(item)) or wanted in names:
            return await ctx.uow.items.get(item.id, for_update=True)
    return None


@router.command(
    "item",
    chat=ChatKind.DM,
    roles=STAFF,
    scope=ON_ITEMS,
    help=N_("An item's card, or move it: /item CODE ACTION"),
)
@router.command("item", chat=ChatKind.GROUP, scope=ON_ITEMS)
async def item_command(ctx: Ctx) -> None:
    """`/item` lists the items; `/item N` shows a card; `/item N ACTION [REASON]` moves it.
    N is the item's number in the list, its name or its code."""
    project = ctx.project
    assert project is not None
    words = ctx.args.split()
    if not words:
        items = [i for i in await ctx.uow.items.of_project(project.id) if i.state != "done"]
        lines = [ctx._("Open items of {code}: send /item N to see one.", code=project.code)]
        lines += [
            f"{item_number(i)}. {item_name(ctx, i)} · {ctx._(STATE_LABELS.get(i.state, i.state))}"
            for i in items
        ]
        await ctx.reply("\n".join(lines))
        return
    item = await find_item(ctx, project, words[0])
    if item is None:
        await ctx.reply(
            ctx._(
                "Project {project} has no item “{word}”. Send /item to list them.",
                project=project.code,
                word=words[0],
            )
        )
        return
    if len(words) == 1:
        await ctx.reply(
            await card(ctx, ctx.uow, project, item, await item_role(ctx, project, item))
        )
        return
    action = ACTION_WORDS.get(words[1].lower()) or ACTION_WORDS.get(words[1])
    if action is None:
        await ctx.reply(
            ctx._(
                "Unknown action “{word}”. Actions: {actions}",
                word=words[1],
                actions="、".join(dict.fromkeys(TYPED.values())),
            )
        )
        return
    reason = " ".join(words[2:])
    if await too_long(ctx, reason, "reason"):
        return
    if action is Action.COMPLETE:
        # What follows 办结 is the approval's number (批复文号 / 证照编号).
        if len(reason) > MAX_NUMBER:
            await ctx.reply(
                ctx._(
                    "An approval number has at most {limit} characters; that one has {length}.",
                    limit=MAX_NUMBER,
                    length=len(reason),
                )
            )
            return
        approval = Approval(reason) if reason else None
        await move_item(ctx, project, item, action, None, approval=approval)
        return
    asks = not reason and action is Action.REQUEST_CORRECTION
    if asks and await may_move(ctx, project, item, action):
        await ask_missing(ctx, item)
        return
    await move_item(ctx, project, item, action, reason or None)


@router.button("it:", chat=ChatKind.DM, roles=STAFF, scope=ON_ITEM)
@router.button("it:", chat=ChatKind.GROUP, scope=ON_ITEM)
async def item_button(ctx: Ctx) -> None:
    """A card's button (``it:ITEM:ACTION``): the scope found the item, in its own project.
    补正 asks what is missing first; ``it:ITEM:record`` closes with the approval's number."""
    item, project = ctx.target, ctx.project
    assert isinstance(item, ChecklistItem) and project is not None
    parts = (ctx.incoming.payload or "").split(":")
    word = parts[2] if len(parts) == 3 else ""
    if word == SHOW:  # from /mine: the card, with the moves the presser may make
        role = await item_role(ctx, project, item)
        await ctx.reply(await card(ctx, ctx.uow, project, item, role))
        return
    action = Action.COMPLETE if word == RECORD else Action._value2member_map_.get(word)
    if not isinstance(action, Action):
        await ctx.reply(ctx._("This item no longer exists."))
        return
    if action is Action.REQUEST_CORRECTION and await may_move(ctx, project, item, action):
        await ask_missing(ctx, item)
        return
    if word == RECORD and await may_move(ctx, project, item, action):
        await ask_approval(ctx, item)
        return
    await move_item(ctx, project, item, action, None)


async def may_move(ctx: Ctx, project: Project, item: ChecklistItem, action: Action) -> bool:
    """Whether the sender may do `action` now: only they are asked for its details (the
    form's end checks again); anyone else gets `move_item`'s refusal."""
    role = await item_role(ctx, project, item)
    return role is not None and action in legal_actions(Status(item.state), role)


@router.command(
    "log",
    chat=ChatKind.DM,
    roles=STAFF,
    scope=ON_ITEMS,
    help=N_("Add a note to the project's work log"),
)
@router.command("log", chat=ChatKind.GROUP, scope=ON_ITEMS)
async def log_note(ctx: Ctx) -> None:
    """`/log TEXT`: a free note in the project's work log (工作日志)."""
    project = ctx.project
    assert project is not None
    text = ctx.args
    if not text.strip():
        await ctx.reply(ctx._("Write the note after the command: /log TEXT"))
        return
    if await too_long(ctx, text.strip(), "log"):  # refused whole, never cut short
        return
    await ctx.uow.events.append(
        "log.note",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=project.id,
        data={"text": text.strip()},
    )
    await ctx.reply(ctx._("Noted in the work log of {code}.", code=project.code))
