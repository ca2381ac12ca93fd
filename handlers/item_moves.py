"""Moving an approval item (事项流转): who may, the card that shows it, and what follows.

Every move goes through `domain.items.apply_action` with the actor's relation to the item
(the responsible specialist, their backup, the butler, the office) and is written to the
work log (工作日志) with actor and time. A refusal names the actions the actor may take.
The flow handlers/items.py declares the routes; the forms that ask for a reason or for
the approval's number call `move_item` too.
"""

from __future__ import annotations

from datetime import date

from domain.items import TRANSITIONS, Action, Refusal, Status, apply_action, legal_actions
from handlers.chat import Button, Outgoing
from handlers.context import Ctx
from handlers.i18n import N_
from handlers.item_approval import Approval, approval_lines, recorded_approval
from handlers.item_corrections import tell_correction
from handlers.projects import item_state, store_state
from handlers.render import (
    STATE_LABELS,
    Speaks,
    counts,
    department_label,
    due_text,
    item_name,
    item_number,
    progress_bar,
)
from handlers.stage_advance import CLOSED_STATES, advance_when_stage_closed
from storage.models import ChecklistItem, Project
from storage.uow import UnitOfWork

ACTION_LABELS = {
    Action.SUBMIT: N_("Accept (受理)"),
    Action.START_REVIEW: N_("Start review"),
    Action.REQUEST_CORRECTION: N_("Request correction (补正)"),
    Action.ACCEPT_CORRECTION: N_("Corrections accepted"),
    Action.COMPLETE: N_("Done (办结)"),
    Action.MARK_NOT_APPLICABLE: N_("Not applicable"),
    Action.REOPEN: N_("Reopen"),
}

RECORD = "record"  # a card's button: close the item and record its approval
RECORD_LABEL = N_("Done, with approval number")

TYPED = {
    Action.SUBMIT: "受理",
    Action.START_REVIEW: "办理",
    Action.REQUEST_CORRECTION: "补正",
    Action.ACCEPT_CORRECTION: "重新受理",
    Action.COMPLETE: "办结",
    Action.MARK_NOT_APPLICABLE: "不适用",
    Action.REOPEN: "重开",
}
"""The word to type for an action after `/item N` (the Chinese word works in every language)."""

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
        f"**{item_name(say, item)}** — {project.code}",
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
    if item.state == "done" and (approval := await recorded_approval(uow, item)) is not None:
        lines += approval_lines(say, approval)
    if item.prerequisites:
        names = {i.code: item_name(say, i) for i in await uow.items.of_project(project.id)}
        lines.append(
            say._("After: {items}", items="、".join(names.get(p, p) for p in item.prerequisites))
        )
    buttons: list[list[Button]] = []
    if role is not None and project.status != "archived":
        state = Status(item.state)
        # A 补正 button asks for what is missing; other reasons are typed after the command.
        actions = [
            a
            for a in legal_actions(state, role)
            if not TRANSITIONS[(state, a)].needs_reason or a is Action.REQUEST_CORRECTION
        ]
        row = [Button(say._(ACTION_LABELS[a]), f"it:{item.id}:{a.value}") for a in actions]
        if Action.COMPLETE in actions:
            row.append(Button(say._(RECORD_LABEL), f"it:{item.id}:{RECORD}"))
        buttons = [row[i : i + 2] for i in range(0, len(row), 2)]
    return Outgoing("\n".join(lines), buttons=buttons)


# -- moving -----------------------------------------------------------------------------
def refusal_text(ctx: Ctx, item: ChecklistItem, action: Action, refusal: Refusal) -> str:
    """A refusal in words, naming what the actor may do instead."""
    number = item_number(item)
    legal = "、".join(
        ctx._(
            "{action} (/item {number} {word})",
            action=ctx._(ACTION_LABELS[a]),
            number=number,
            word=TYPED[a],
        )
        for a in refusal.legal
    ) or ctx._("nothing at this stage")
    state = ctx._(STATE_LABELS.get(item.state, item.state))
    if refusal.code == "item.reason_required":
        return ctx._(
            "Give a reason: /item {number} {action} REASON", number=number, action=TYPED[action]
        )
    if refusal.code == "item.not_allowed_for_role":
        return ctx._(
            "You cannot do “{action}” on “{item}”. You can: {legal}.",
            action=ctx._(ACTION_LABELS[action]),
            item=item_name(ctx, item),
            legal=legal,
        )
    if refusal.code in ("item.date_before_start", "item.date_before_pause"):
        return ctx._("That date is before the item's clock started or paused.")
    return ctx._(
        "“{item}” is {state}, so “{action}” is not possible now. You can: {legal}.",
        item=item_name(ctx, item),
        state=state,
        action=ctx._(ACTION_LABELS[action]),
        legal=legal,
    )


async def move_item(
    ctx: Ctx,
    project: Project,
    item: ChecklistItem,
    action: Action,
    reason: str | None,
    *,
    approval: Approval | None = None,
) -> bool:
    """Do `action` on the item as the sender, log it and show the new card (and 销号).

    A 补正 request tells the enterprise once what is missing; closing may record the
    approval (批复文号 / 证照编号 and its file); the last item of the project's stage to
    close moves the project on. False when the move was refused (and said why).
    """
    if project.status == "archived":
        await ctx.reply(ctx._("Project {code} is archived.", code=project.code))
        return False
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
                "Sorry, {name}: “{item}” belongs to {department}. Only its {specialist} "
                "({who}), their backup or the {butler} can move it.",
                name=ctx.person.name,
                item=item_name(ctx, item),
                department=department_label(ctx, department),
                who=assignee.name if assignee else "—",
            )
        )
        return False
    today: date = ctx.local_now.date()
    before = item.state
    result = apply_action(
        item_state(item), action, role, today, ctx.services.calendar, reason=reason
    )
    if isinstance(result, Refusal):
        await ctx.reply(refusal_text(ctx, item, action, result))
        return False
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
            **(approval.to_json() if approval is not None else {}),
        },
    )
    await ctx.reply(await card(ctx, ctx.uow, project, item, role))
    if action is Action.REQUEST_CORRECTION and reason:
        await tell_correction(ctx, project, item, reason)
    if item.state == "done":
        done, total = counts(await ctx.uow.items.of_project(project.id))
        text = ctx._(
            "Ticked off (销号): {item}. Progress {bar}",
            item=item_name(ctx, item),
            bar=progress_bar(done, total),
        )
        if approval is not None and approval.number:
            text += "\n" + ctx._("Approval number: {number}", number=approval.number)
        for chat in await ctx.uow.chats.for_project(project.id):
            await ctx.post.to_chat(chat.platform, chat.external_id, text)
    if item.state in CLOSED_STATES:
        await advance_when_stage_closed(ctx, project, item)
    return True
