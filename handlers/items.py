"""Approval items (手续事项): cards with buttons, `/item CODE ACTION`, `/log`, 销号 progress.

Every move goes through `domain.items.apply_action` with the actor's relation to the item
(the responsible specialist, their backup, the butler, the office) and is written to the
work log (工作日志) with actor and time. A refusal names the actions the actor may take.
"""

from __future__ import annotations

from datetime import date

from domain.items import TRANSITIONS, Action, Refusal, Status, apply_action, legal_actions
from handlers.access import OnProject
from handlers.chat import Button, ChatKind, Outgoing
from handlers.context import Ctx
from handlers.i18n import N_
from handlers.inbound_text import too_long
from handlers.projects import item_state, store_state
from handlers.render import (
    STATE_LABELS,
    Speaks,
    counts,
    department_label,
    due_text,
    item_name,
    progress_bar,
)
from handlers.roles import STAFF
from handlers.router import Router
from storage.models import ChecklistItem, Project
from storage.uow import UnitOfWork

router = Router("items")

ACTION_LABELS = {
    Action.SUBMIT: N_("Accept (受理)"),
    Action.START_REVIEW: N_("Start review"),
    Action.REQUEST_CORRECTION: N_("Request correction (补正)"),
    Action.ACCEPT_CORRECTION: N_("Corrections accepted"),
    Action.COMPLETE: N_("Done (办结)"),
    Action.MARK_NOT_APPLICABLE: N_("Not applicable"),
    Action.REOPEN: N_("Reopen"),
}

ACTION_WORDS = {
    **{a.value: a for a in Action},
    "受理": Action.SUBMIT,
    "review": Action.START_REVIEW,
    "办理": Action.START_REVIEW,
    "办理中": Action.START_REVIEW,
    "correction": Action.REQUEST_CORRECTION,
    "补正": Action.REQUEST_CORRECTION,
    "corrected": Action.ACCEPT_CORRECTION,
    "重新受理": Action.ACCEPT_CORRECTION,
    "done": Action.COMPLETE,
    "办结": Action.COMPLETE,
    "销号": Action.COMPLETE,
    "na": Action.MARK_NOT_APPLICABLE,
    "不适用": Action.MARK_NOT_APPLICABLE,
    "重开": Action.REOPEN,
}


async def item_role(ctx: Ctx, project: Project, item: ChecklistItem) -> str | None:
    """The actor's relation to this item: specialist, backup, butler, office, or None."""
    if item.assignee_id is not None and item.assignee_id == ctx.person.id:
        return "specialist"
    if project.butler_id == ctx.person.id:
        return "butler"
    if item.assignee_id is not None:
        for role in await ctx.uow.people.roles_of(ctx.person.id):
            if role.role == "backup" and role.backup_of_id == item.assignee_id:
                return "backup"
    if ctx.has_role("office"):
        return "office"
    return None


# -- showing ------------------------------------------------------------------------------
async def card(
    say: Speaks, uow: UnitOfWork, project: Project, item: ChecklistItem, role: str | None
) -> Outgoing:
    """An item's card: what it is, who has it, where it stands; buttons for `role`."""
    department = None
    if item.department_id is not None:
        department = next(
            (d for d in await uow.departments.all() if d.id == item.department_id), None
        )
    assignee = await uow.people.get(item.assignee_id) if item.assignee_id else None
    lines = [
        f"**{item_name(say, item)}** ({item.code}) — {project.code}",
        say._(
            "{department} · {who}",
            department=department_label(say, department),
            who=assignee.name if assignee else say._("unassigned"),
        ),
        say._(
            "State: {state} · due {due}",
            state=say._(STATE_LABELS.get(item.state, item.state)),
            due=due_text(say, item.due_on, item.due_provisional),
        ),
    ]
    if item.paused_on is not None:
        lines.append(
            say._(
                "Clock paused for correction (补正) since {date}.", date=item.paused_on.isoformat()
            )
        )
    if item.prerequisites:
        lines.append(say._("After: {items}", items="、".join(item.prerequisites)))
    buttons: list[list[Button]] = []
    if role is not None and project.status != "archived":
        actions = [
            a
            for a in legal_actions(Status(item.state), role)
            if not TRANSITIONS[(Status(item.state), a)].needs_reason
        ]
        row = [Button(say._(ACTION_LABELS[a]), f"it:{item.id}:{a.value}") for a in actions]
        buttons = [row[i : i + 2] for i in range(0, len(row), 2)]
    return Outgoing("\n".join(lines), buttons=buttons)


# -- moving -----------------------------------------------------------------------------
def refusal_text(ctx: Ctx, item: ChecklistItem, action: Action, refusal: Refusal) -> str:
    """A refusal in words, naming what the actor may do instead."""
    legal = "、".join(
        f"{ctx._(ACTION_LABELS[a])} (/item {item.code} {a.value})" for a in refusal.legal
    ) or ctx._("nothing at this stage")
    state = ctx._(STATE_LABELS.get(item.state, item.state))
    if refusal.code == "item.reason_required":
        return ctx._(
            "Give a reason: /item {code} {action} REASON", code=item.code, action=action.value
        )
    if refusal.code == "item.not_allowed_for_role":
        return ctx._(
            "You cannot do “{action}” on item {code}. You can: {legal}.",
            action=ctx._(ACTION_LABELS[action]),
            code=item.code,
            legal=legal,
        )
    if refusal.code in ("item.date_before_start", "item.date_before_pause"):
        return ctx._("That date is before the item's clock started or paused.")
    return ctx._(
        "Item {code} is {state}, so “{action}” is not possible now. You can: {legal}.",
        code=item.code,
        state=state,
        action=ctx._(ACTION_LABELS[action]),
        legal=legal,
    )


async def move_item(
    ctx: Ctx, project: Project, item: ChecklistItem, action: Action, reason: str | None
) -> None:
    """Do `action` on the item as the sender, log it and show the new card (and 销号)."""
    if project.status == "archived":
        await ctx.reply(ctx._("Project {code} is archived.", code=project.code))
        return
    role = await item_role(ctx, project, item)
    if role is None:
        department = None
        if item.department_id is not None:
            department = next(
                (d for d in await ctx.uow.departments.all() if d.id == item.department_id), None
            )
        assignee = await ctx.uow.people.get(item.assignee_id) if item.assignee_id else None
        await ctx.reply(
            ctx._(
                "Sorry, {name}: item {code} belongs to {department}. Only its specialist "
                "({who}), their backup or the project butler can move it.",
                name=ctx.person.name,
                code=item.code,
                department=department_label(ctx, department),
                who=assignee.name if assignee else "—",
            )
        )
        return
    today: date = ctx.local_now.date()
    before = item.state
    result = apply_action(
        item_state(item), action, role, today, ctx.services.calendar, reason=reason
    )
    if isinstance(result, Refusal):
        await ctx.reply(refusal_text(ctx, item, action, result))
        return
    store_state(item, result)
    await ctx.uow.flush()
    await ctx.uow.events.append(
        f"item.{action.value}",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=project.id,
        item_id=item.id,
        data={
            "item": item.code,
            "from": before,
            "to": item.state,
            "role": role,
            "due_on": item.due_on.isoformat() if item.due_on else None,
            "reason": reason,
        },
    )
    await ctx.reply(await card(ctx, ctx.uow, project, item, role))
    if item.state == "done":
        done, total = counts(await ctx.uow.items.of_project(project.id))
        text = ctx._(
            "Ticked off (销号): {item}. Progress {bar}",
            item=item_name(ctx, item),
            bar=progress_bar(done, total),
        )
        for chat in await ctx.uow.chats.for_project(project.id):
            await ctx.post.to_chat(chat.platform, chat.external_id, text)


# Item cards and the work log are the team's: in a DM only staff get them; in a group
# the scope refuses the enterprise and strangers. A card's buttons are authorised alike.
ON_ITEMS = OnProject("staff")
ON_ITEM = OnProject("staff", via="item")


@router.command(
    "item",
    chat=ChatKind.DM,
    roles=STAFF,
    scope=ON_ITEMS,
    help=N_("An item's card, or move it: /item CODE ACTION"),
)
@router.command("item", chat=ChatKind.GROUP, scope=ON_ITEMS)
async def item_command(ctx: Ctx) -> None:
    """`/item` lists the items; `/item CODE` shows a card; `/item CODE ACTION [REASON]`."""
    project = ctx.project
    assert project is not None
    words = ctx.args.split()
    if not words:
        items = [i for i in await ctx.uow.items.of_project(project.id) if i.state != "done"]
        lines = [ctx._("Open items of {code}: send /item CODE to see one.", code=project.code)]
        lines += [
            f"• {i.code} — {item_name(ctx, i)} · {ctx._(STATE_LABELS.get(i.state, i.state))}"
            for i in items
        ]
        await ctx.reply("\n".join(lines))
        return
    item = await ctx.uow.items.by_code(project.id, words[0], for_update=True)
    if item is None:
        await ctx.reply(
            ctx._("Project {project} has no item {code}.", project=project.code, code=words[0])
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
                actions=", ".join(a.value for a in Action),
            )
        )
        return
    reason = " ".join(words[2:])
    if await too_long(ctx, reason, "reason"):
        return
    await move_item(ctx, project, item, action, reason or None)


@router.button("it:", chat=ChatKind.DM, roles=STAFF, scope=ON_ITEM)
@router.button("it:", chat=ChatKind.GROUP, scope=ON_ITEM)
async def item_button(ctx: Ctx) -> None:
    """A card's button (``it:ITEM:ACTION``): the scope found the item, in its own project."""
    item, project = ctx.target, ctx.project
    assert isinstance(item, ChecklistItem) and project is not None
    parts = (ctx.incoming.payload or "").split(":")
    if len(parts) != 3 or parts[2] not in Action._value2member_map_:
        await ctx.reply(ctx._("This item no longer exists."))
        return
    await move_item(ctx, project, item, Action(parts[2]), None)


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
