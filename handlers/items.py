"""Approval items (手续事项): cards with buttons, `/item CODE ACTION`, `/log`, 销号 progress.

Every move goes through `domain.items.apply_action` with the actor's relation to the item
(the responsible specialist, their backup, the butler, the office) and is written to the
work log (工作日志) with actor and time. A refusal names the actions the actor may take.
"""

from __future__ import annotations

from datetime import date

from domain.bounds import row_id
from domain.items import (
    TRANSITIONS,
    Action,
    ItemState,
    Refusal,
    Status,
    apply_action,
    legal_actions,
)
from handlers.chat import Button, Outgoing
from handlers.context import Ctx
from handlers.i18n import N_
from handlers.inbound_text import too_long
from handlers.office import Speaks
from handlers.plan import due_text, item_name
from handlers.roles import ROLE_LABELS, STAFF
from handlers.router import Router
from handlers.team import group_project, my_project
from storage.models import ChecklistItem, Project
from storage.uow import UnitOfWork

router = Router("items")

STATE_LABELS = {
    "not_started": N_("not started"),
    "submitted": N_("submitted (受理)"),
    "in_review": N_("in review (办理中)"),
    "correction_needed": N_("correction needed (补正)"),
    "done": N_("done (办结)"),
    "not_applicable": N_("not applicable"),
}

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

BAR_CELLS = 10


# -- reading and writing the clock --------------------------------------------------------
def item_state(item: ChecklistItem) -> ItemState:
    """The domain view of a row: state and working-day clock."""
    return ItemState(
        state=Status(item.state),
        limit_workdays=item.limit_workdays,
        due_on=item.due_on,
        provisional=item.due_provisional,
        started_on=item.started_on,
        paused_on=item.paused_on,
        corrections=item.corrections,
        done_on=item.done_on,
    )


def store_state(item: ChecklistItem, state: ItemState) -> None:
    """Write a moved item's state and clock back onto its row."""
    item.state = state.state.value
    item.due_on, item.due_provisional = state.due_on, state.provisional
    item.started_on, item.paused_on = state.started_on, state.paused_on
    item.corrections, item.done_on = state.corrections, state.done_on


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
def progress_bar(done: int, total: int) -> str:
    """``▓▓▓▓░░░░░░ 4/10``: items ticked off (销号) of the items that apply."""
    filled = round(BAR_CELLS * done / total) if total else 0
    return "▓" * filled + "░" * (BAR_CELLS - filled) + f" {done}/{total}"


def counts(items: list[ChecklistItem]) -> tuple[int, int]:
    """(done, total) over the items that apply to the project."""
    live = [i for i in items if i.state != "not_applicable"]
    return sum(1 for i in live if i.state == "done"), len(live)


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
            department=(department.name_en if say.lang == "en" else department.name_zh)
            if department
            else "—",
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
                department=(department.name_en if ctx.lang == "en" else department.name_zh)
                if department
                else "—",
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
            await ctx.send_to_chat(chat.platform, chat.external_id, text)


async def staff_or_group(ctx: Ctx) -> bool:
    """Item cards and the work log are the team's: in a DM only staff get them (in a group,
    `group_project(staff_only=True)` already refuses the enterprise and strangers)."""
    if ctx.in_group or ctx.has_role(*STAFF):
        return True
    await ctx.reply(
        ctx._(
            "Sorry, this is only for: {roles}. Ask the service office if you need access.",
            roles=", ".join(sorted(ctx._(ROLE_LABELS[r]) for r in STAFF)),
        )
    )
    return False


@router.command("item")
async def item_command(ctx: Ctx) -> None:
    """`/item` lists the items; `/item CODE` shows a card; `/item CODE ACTION [REASON]`."""
    if not await staff_or_group(ctx):
        return
    project, args = await my_project(ctx, ctx.incoming.args)
    if project is None:
        return
    words = args.split()
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


@router.button("it:")
async def item_button(ctx: Ctx) -> None:
    parts = (ctx.incoming.payload or "").removeprefix("it:").split(":")
    item_id = row_id(parts[0])
    item = await ctx.uow.items.get(item_id, for_update=True) if item_id else None
    project = await ctx.uow.projects.get(item.project_id) if item else None
    if (
        item is None
        or project is None
        or len(parts) != 2
        or parts[1] not in Action._value2member_map_
    ):
        await ctx.reply(ctx._("This item no longer exists."))
        return
    if ctx.in_group and await group_project(ctx, staff_only=True) is None:
        return
    await move_item(ctx, project, item, Action(parts[1]), None)


@router.command("log")
async def log_note(ctx: Ctx) -> None:
    """`/log TEXT`: a free note in the project's work log (工作日志)."""
    if not await staff_or_group(ctx):
        return
    project, text = await my_project(ctx, ctx.incoming.args)
    if project is None:
        return
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
