"""Progress for the enterprise (项目进度): its own projects and pending applications.

Only what the person's enterprise (or the person) applied for is shown; nobody sees
another enterprise's projects.
"""

from __future__ import annotations

from domain.calendar import WorkCalendar
from handlers.application_cards import number_of
from handlers.chat import ChatKind
from handlers.context import Ctx
from handlers.i18n import N_
from handlers.roles import STAFF
from handlers.router import Router
from storage.repos.applications import OPEN_STATUSES

router = Router("progress")


def _status_text(ctx: Ctx, status: str) -> str:
    if status == "submitted":
        return ctx._("being checked by the {office}")
    if status == "resubmitted":
        return ctx._("documents resubmitted; being checked by the {office}")
    if status == "materials_requested":
        return ctx._("waiting for documents from you (send /apply)")
    if status == "accepted":
        return ctx._("accepted")
    return status


def _label_of(ctx: Ctx, entries: object, wanted: str) -> str:
    for entry in entries:  # type: ignore[attr-defined]
        if entry.id == wanted:
            return ctx.label(entry.label)
    return wanted


# The sender's projects and applications are not a group's business.
@router.command(
    "progress",
    chat=ChatKind.DM,
    help=N_("Your projects and applications: where they stand"),
    elsewhere=N_(
        "Send /progress in a direct chat with me; here /status shows this group's project."
    ),
    not_for=STAFF,  # the enterprise's view; staff follow their work with /status and /mine
)
@router.button("menu:progress", chat=ChatKind.DM)
async def progress(ctx: Ctx) -> None:
    person = ctx.person
    projects = await ctx.uow.projects.of_contact(person.id, person.enterprise_id)
    pending = await ctx.uow.applications.of_contact(
        person.id, person.enterprise_id, statuses=OPEN_STATUSES
    )
    if not projects and not pending:
        await ctx.reply(
            ctx._("You have no projects or applications yet. Send /apply to apply for the service.")
        )
        return
    calendar: WorkCalendar = ctx.services.calendar
    lines = [ctx._("**Your projects**")] if projects else []
    for project in projects:
        status = _status_text(ctx, project.status)
        stage = _label_of(ctx, ctx.scheme.stages, project.stage)
        lines.append(
            ctx._(
                "**{code} {name}** — {status}; stage: {stage}",
                code=project.code,
                name=project.name,
                status=status,
                stage=stage,
            )
        )
        done = await ctx.uow.projects.progress(project.id)
        lines.append(ctx._("  Items done: {done} of {total}", done=done.done, total=done.total))
        if done.next_item is not None and done.next_item.due_on is not None:
            item = done.next_item
            name = item.name_en if ctx.lang == "en" else item.name_zh
            provisional = (
                " " + ctx._("(provisional)") if calendar.is_provisional(item.due_on) else ""
            )
            lines.append(
                ctx._("  Next due: {item} by {date}", item=name, date=item.due_on.isoformat())
                + provisional
            )
        if project.butler_id is not None:
            butler = await ctx.uow.people.get(project.butler_id)
            lines.append(
                ctx._(
                    "  {role}: {name}",
                    role=ctx.label(ctx.scheme.roles.butler),
                    name=butler.name if butler else "—",
                )
            )
        else:
            lines.append(
                ctx._("  {role}: not assigned yet", role=ctx.label(ctx.scheme.roles.butler))
            )
        if project.service_card_no:
            lines.append(ctx._("  Service card: {card}", card=project.service_card_no))
    if pending:
        lines.append(ctx._("**Applications in progress**"))
        for app in pending:
            lines.append(
                ctx._(
                    "{number} {name} — {status}",
                    number=number_of(app),
                    name=app.project_name,
                    status=_status_text(ctx, app.status),
                )
            )
    await ctx.reply("\n".join(lines))
