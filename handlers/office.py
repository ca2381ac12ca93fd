"""Acceptance by the office (代办受理): accept, request materials (一次性告知) or reject.

Every office member gets each new or resubmitted application as a card with three
buttons; only the office role may press them. The first decision wins: a second member
pressing later is told who decided and when. Accepting creates the project with its code,
the service card where the scheme issues one (一企一卡) and the scheme snapshot.
"""

from __future__ import annotations

from typing import Any

from domain.application import project_code, project_snapshot, service_card_number
from domain.bounds import row_id
from handlers.application_cards import material_how, material_name, number_of, unprovided
from handlers.chat import Button, ChatKind, Outgoing
from handlers.context import Ctx
from handlers.forms import Choice, Field, Form, start_form, text_parser
from handlers.i18n import N_
from handlers.render import Speaks, Voice, local_time
from handlers.router import Router
from storage.models import Application, Person
from storage.repos.applications import DECIDED_STATUSES

router = Router("office")

# An application card goes to each office member by DM; its buttons answer only there,
# never into a group that holds an enterprise.
OFFICE = frozenset({"office"})


# -- deciding ---------------------------------------------------------------------------
async def _open_application(ctx: Ctx, prefix: str) -> Application | None:
    """The application named by the pressed button, if it is still undecided."""
    raw = (ctx.incoming.payload or "").removeprefix(prefix)
    number = row_id(raw)
    app = await ctx.uow.applications.get(number, for_update=True) if number else None
    if app is None:
        await ctx.reply(ctx._("This application no longer exists."))
        return None
    if app.status in DECIDED_STATUSES:
        await _already_decided(ctx, app)
        return None
    return app


async def _already_decided(ctx: Ctx, app: Application) -> None:
    who = await ctx.uow.people.get(app.decided_by_id) if app.decided_by_id else None
    decision = ctx._("accepted") if app.status == "accepted" else ctx._("rejected")
    await ctx.reply(
        ctx._(
            "Application {number} was already {decision} by {name} at {time}.",
            number=number_of(app),
            decision=decision,
            name=who.name if who else "—",
            time=local_time(app.decided_at, ctx.services.timezone),
        )
    )


async def _contact(ctx: Ctx, app: Application) -> Person | None:
    return await ctx.uow.people.get(app.contact_person_id)


@router.button("app:accept:", roles=OFFICE, chat=ChatKind.DM)
async def accept(ctx: Ctx) -> None:
    app = await _open_application(ctx, "app:accept:")
    if app is None:
        return
    scheme = ctx.scheme
    year = ctx.local_now.year
    projects = ctx.uow.projects
    code_prefix = f"P{year}-"
    sequence = await ctx.uow.sequences.next(
        code_prefix, issued_before=await projects.count_codes(code_prefix)
    )
    code = project_code(year, sequence)
    card = None
    if scheme.acceptance.issues_service_card and scheme.acceptance.service_card_prefix:
        prefix = scheme.acceptance.service_card_prefix
        if app.enterprise_id is not None:
            card = await projects.card_of_enterprise(app.enterprise_id)
        if card is None:
            card_prefix = f"{prefix}-{year}-"
            issued = await ctx.uow.sequences.next(
                card_prefix, issued_before=await projects.count_cards(card_prefix)
            )
            card = service_card_number(prefix, year, issued)
    data = app.data or {}
    project = await ctx.uow.projects.add(
        code=code,
        name=app.project_name,
        enterprise_id=app.enterprise_id,
        application_id=app.id,
        category=app.category,
        stage=data.get("stage") or scheme.stages[0].id,
        status="accepted",
        zone=(data.get("zone") or None),
        accepted_at=ctx.now,
        service_card_no=card,
        snapshot=project_snapshot(scheme, app.category),
        created_at=ctx.now,
    )
    app.status, app.decided_at, app.decided_by_id = "accepted", ctx.now, ctx.person.id
    await ctx.uow.applications.save(app)
    if app.enterprise_id is not None:  # the office's acceptance seats the first contact
        from handlers.enterprise_claims import seat_first_contact

        await seat_first_contact(ctx, app.enterprise_id, app.contact_person_id)
    await ctx.uow.events.append(
        "application.accepted",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=project.id,
        data={"application_id": app.id, "code": code, "service_card": card},
    )
    contact = await _contact(ctx, app)
    if contact is not None:
        say = Voice(contact.lang, ctx.scheme)
        lines = [
            say._(
                "Your application {number} has been accepted. Project code: {code}.",
                number=number_of(app),
                code=code,
            )
        ]
        if card:
            lines.append(say._("Your service card number (一企一卡): {card}.", card=card))
        lines.append(
            say._(
                "What happens next: the {office} assigns your project its {butler}, who forms the "
                "project team with you and the {specialist} of each approval department; the team "
                "works with you in a group chat. Send /progress at any time to see where things "
                "stand.",
                butler=say.label(scheme.roles.butler),
            )
        )
        await ctx.post.to_person(contact.id, Outgoing("\n".join(lines), notice="accepted"))
    await ctx.reply(
        ctx._(
            "Accepted: application {number} is now project {code}.",
            number=number_of(app),
            code=code,
        )
        + (" " + ctx._("Service card: {card}.", card=card) if card else "")
    )


@router.button("app:reject:", roles=OFFICE, chat=ChatKind.DM)
async def reject(ctx: Ctx) -> None:
    app = await _open_application(ctx, "app:reject:")
    if app is not None:
        await start_form(ctx, REJECT, {"app_id": app.id, "_number": number_of(app)})


async def _rejected(ctx: Ctx, values: dict[str, Any]) -> None:
    app = await ctx.uow.applications.get(int(values["app_id"]), for_update=True)
    if app is None:
        await ctx.reply(ctx._("This application no longer exists."))
        return
    if app.status in DECIDED_STATUSES:
        await _already_decided(ctx, app)
        return
    reason = values["reason"]
    app.status, app.decided_at, app.decided_by_id = "rejected", ctx.now, ctx.person.id
    app.decision_reason = reason
    await ctx.uow.applications.save(app)
    await ctx.uow.events.append(
        "application.rejected",
        at=ctx.now,
        actor_id=ctx.person.id,
        data={"application_id": app.id, "reason": reason},
    )
    contact = await _contact(ctx, app)
    if contact is not None:
        say = Voice(contact.lang, ctx.scheme)
        await ctx.post.to_person(
            contact.id,
            say._(
                "Your application {number} was not accepted. The {office} gives this "
                "reason:\n{reason}",
                number=number_of(app),
                reason=reason,
            ),
        )
    await ctx.reply(ctx._("Rejected; the enterprise has been told the reason."))


REJECT = Form(
    name="reject_application",
    title=N_("Reject an application"),
    fields=[
        Field(
            "reason",
            label=N_("Reason"),
            prompt=N_("Why is it not accepted? The enterprise receives your words as written."),
            parse=text_parser(max_length=1000, min_length=2),
        )
    ],
    on_submit=_rejected,
    roles=frozenset({"office"}),
)


@router.button("app:request:", roles=OFFICE, chat=ChatKind.DM)
async def request_materials(ctx: Ctx) -> None:
    app = await _open_application(ctx, "app:request:")
    if app is None:
        return
    missing = unprovided(app)
    if not missing:
        await ctx.reply(
            ctx._(
                "Application {number} has every listed document. Accept it, or reject it with a "
                "reason.",
                number=number_of(app),
            )
        )
        return
    await start_form(ctx, REQUEST, {"app_id": app.id, "_unprovided": missing})


def _unprovided_choices(ctx: Ctx) -> list[Choice]:
    values = (ctx.conversation.data or {}).get("values", {}) if ctx.conversation else {}
    keys = values.get("_unprovided") or []
    return [Choice(k, material_name(ctx, ctx.scheme, k)) for k in keys]


async def _requested(ctx: Ctx, values: dict[str, Any]) -> None:
    app = await ctx.uow.applications.get(int(values["app_id"]), for_update=True)
    if app is None:
        await ctx.reply(ctx._("This application no longer exists."))
        return
    if app.status in DECIDED_STATUSES:
        await _already_decided(ctx, app)
        return
    picked = set(values.get("missing") or [])
    keys = [k for k in unprovided(app) if k in picked]  # in the order they were asked
    note = values.get("note")
    app.status = "materials_requested"
    app.data = {**(app.data or {}), "requested": keys, "request_note": note}
    await ctx.uow.applications.save(app)
    await ctx.uow.events.append(
        "application.materials_requested",
        at=ctx.now,
        actor_id=ctx.person.id,
        data={"application_id": app.id, "materials": keys},
    )
    contact = await _contact(ctx, app)
    if contact is not None:
        notice = one_time_notice(Voice(contact.lang, ctx.scheme), ctx, app)
        notice.notice = "materials"
        await ctx.post.to_person(contact.id, notice)
    await ctx.reply(
        ctx._(
            "The enterprise has been sent one notice listing {count} missing documents.",
            count=len(keys),
        )
    )


def one_time_notice(say: Speaks, ctx: Ctx, app: Application) -> Outgoing:
    """The one-time notice (一次性告知): every missing document and how to obtain it."""
    data = app.data or {}
    keys = data.get("requested") or []
    lines = [
        say._(
            "**Application {number}: documents still needed (one-time notice, 一次性告知)**",
            number=number_of(app),
        )
    ]
    for index, key in enumerate(keys, start=1):
        lines.append(
            say._(
                "{index}. {name} — how to obtain it: {how}",
                index=index,
                name=material_name(say, ctx.scheme, key),
                how=material_how(say, ctx.scheme, key),
            )
        )
    if data.get("request_note"):
        lines.append(say._("Note from the {office}: {note}", note=data["request_note"]))
    lines.append(
        say._("This list is complete. Press the button below (or send /apply) to send them.")
    )
    button = Button(say._("Send the documents"), f"app:resubmit:{app.id}")
    return Outgoing("\n".join(lines), buttons=[[button]])


REQUEST = Form(
    name="request_materials",
    title=N_("Request missing documents"),
    fields=[
        Field(
            "missing",
            label=N_("Missing documents"),
            prompt=N_("Which documents must the enterprise still supply?"),
            choices=_unprovided_choices,
            multiple=True,
        ),
        Field(
            "note",
            label=N_("Note"),
            prompt=N_("A note for the enterprise (optional)?"),
            parse=text_parser(max_length=500),
            optional=True,
        ),
    ],
    on_submit=_requested,
    roles=frozenset({"office"}),
)
