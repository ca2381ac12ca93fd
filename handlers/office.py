"""Acceptance by the office (代办受理): accept, request materials (一次性告知) or reject.

Every office member gets each new or resubmitted application as a card with three
buttons; only the office role may press them. The first decision wins: a second member
pressing later is told who decided and when. Accepting creates the project with its code,
the service card where the scheme issues one (一企一卡) and the scheme snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from domain.application import (
    AUTHORIZATION_KEY,
    application_number,
    material,
    project_code,
    project_snapshot,
    service_card_number,
)
from domain.identifiers import format_amount
from domain.scheme import Label, Scheme
from handlers.chat import Button, Outgoing
from handlers.context import Ctx
from handlers.forms import Choice, Field, Form, start_form, text_parser
from handlers.i18n import N_, gettext
from handlers.router import Router
from storage.models import Application, Person
from storage.repos.applications import DECIDED_STATUSES

router = Router("office")


class Speaks(Protocol):
    """Anything that renders text in one person's language (a `Ctx`, a `Voice`)."""

    @property
    def lang(self) -> str: ...
    def _(self, message: str, **params: Any) -> str: ...
    def label(self, label: Any) -> str: ...


@dataclass(frozen=True)
class Voice:
    """Text in someone else's language: the office reading a card, the enterprise a notice."""

    lang: str

    def _(self, message: str, **params: Any) -> str:
        text = gettext(self.lang, message)
        return text.format(**params) if params else text

    def label(self, label: Any) -> str:
        return str(label.en if self.lang == "en" else label.zh)


# -- materials --------------------------------------------------------------------------
def material_name(say: Speaks, scheme: Scheme, key: str) -> str:
    """A material's name in the reader's language (the written authorization included)."""
    if key == AUTHORIZATION_KEY:
        form = scheme.acceptance.application_form
        return say.label(form) if form else say._("Written authorization (书面委托)")
    ref = material(scheme, key)
    return say.label(ref.name) if ref else key


def material_how(say: Speaks, scheme: Scheme, key: str) -> str:
    """How to obtain a material (from the scheme), in the reader's language."""
    if key == AUTHORIZATION_KEY:
        return say._(
            "Signed and sealed by the enterprise; the service office gives you the template."
        )
    ref = material(scheme, key)
    how: Label | None = ref.how_to_obtain if ref else None
    return say.label(how) if how else say._("Ask the service office.")


# -- the card ---------------------------------------------------------------------------
def number_of(app: Application) -> str:
    """The application number the enterprise quotes (A2026-0007)."""
    return application_number(app.id, app.submitted_at.year)


def _when(ctx: Ctx, at: datetime | None) -> str:
    return at.astimezone(ctx.services.timezone).strftime("%Y-%m-%d %H:%M") if at else "—"


def card_text(say: Speaks, scheme: Scheme, app: Application, *, resubmitted: bool) -> str:
    """The application as the office reads it."""
    data = app.data or {}
    title = (
        say._("**Application {number} — documents resubmitted**", number=number_of(app))
        if resubmitted
        else say._("**New application {number}**", number=number_of(app))
    )
    kinds = []
    for kind in data.get("kinds") or ():
        try:
            kinds.append(say.label(scheme.service_kind(kind).label))
        except KeyError:
            kinds.append(kind)
    lines = [
        title,
        say._("Project: {value}", value=app.project_name),
        say._(
            "Enterprise: {name} ({uscc})", name=data.get("enterprise", ""), uscc=data.get("uscc")
        ),
        say._(
            "Contact: {name}, {mobile}", name=data.get("contact_name"), mobile=data.get("mobile")
        ),
    ]
    if app.investment_wan is not None:
        amount = format_amount(Decimal(app.investment_wan), say.lang)
        lines.append(say._("Total investment: {value}", value=amount))
    lines.append(say._("Category: {value}", value=_label_of(say, scheme.categories, app.category)))
    lines.append(say._("Location: {value}", value=data.get("zone", "")))
    lines.append(say._("Stage: {value}", value=_label_of(say, scheme.stages, data.get("stage"))))
    lines.append(say._("Services requested: {value}", value="、".join(kinds)))
    lines.append(say._("Planned start: {value}", value=data.get("start_date", "")))
    provided = [k for k, v in (data.get("materials") or {}).items() if v]
    missing = unprovided(app)
    lines.append(
        say._(
            "Documents provided ({count}): {names}",
            count=len(provided),
            names="、".join(material_name(say, scheme, k) for k in provided) or "—",
        )
    )
    lines.append(
        say._(
            "Not yet available ({count}): {names}",
            count=len(missing),
            names="、".join(material_name(say, scheme, k) for k in missing) or "—",
        )
    )
    return "\n".join(lines)


def _label_of(say: Speaks, entries: Any, wanted: str | None) -> str:
    for entry in entries:
        if entry.id == wanted:
            return say.label(entry.label)
    return wanted or "—"


def unprovided(app: Application) -> list[str]:
    """The application's documents marked "not yet available", in the order asked."""
    return [k for k, v in ((app.data or {}).get("materials") or {}).items() if not v]


async def notify_office(ctx: Ctx, app: Application, *, resubmitted: bool = False) -> int:
    """Send the application card to every office member; returns how many got it."""
    sent = 0
    for member in await ctx.uow.people.with_role("office"):
        say = Voice(member.lang)
        buttons = [
            [
                Button(say._("✔ Accept"), f"app:accept:{app.id}"),
                Button(say._("Request materials"), f"app:request:{app.id}"),
            ],
            [Button(say._("✖ Reject"), f"app:reject:{app.id}")],
        ]
        text = card_text(say, ctx.scheme, app, resubmitted=resubmitted)
        if await ctx.send_to_person(member.id, Outgoing(text, buttons=buttons)):
            sent += 1
    return sent


# -- deciding ---------------------------------------------------------------------------
async def _open_application(ctx: Ctx, prefix: str) -> Application | None:
    """The application named by the pressed button, if it is still undecided."""
    raw = (ctx.incoming.payload or "").removeprefix(prefix)
    app = await ctx.uow.applications.get(int(raw), for_update=True) if raw.isdigit() else None
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
            time=_when(ctx, app.decided_at),
        )
    )


async def _contact(ctx: Ctx, app: Application) -> Person | None:
    return await ctx.uow.people.get(app.contact_person_id)


@router.button("app:accept:", roles={"office"})
async def accept(ctx: Ctx) -> None:
    app = await _open_application(ctx, "app:accept:")
    if app is None:
        return
    scheme = ctx.scheme
    year = ctx.local_now.year
    code = project_code(year, await ctx.uow.projects.count_codes(f"P{year}-") + 1)
    card = None
    if scheme.acceptance.issues_service_card and scheme.acceptance.service_card_prefix:
        prefix = scheme.acceptance.service_card_prefix
        if app.enterprise_id is not None:
            card = await ctx.uow.projects.card_of_enterprise(app.enterprise_id)
        if card is None:
            issued = await ctx.uow.projects.count_cards(f"{prefix}-{year}-")
            card = service_card_number(prefix, year, issued + 1)
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
    await ctx.uow.events.append(
        "application.accepted",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=project.id,
        data={"application_id": app.id, "code": code, "service_card": card},
    )
    contact = await _contact(ctx, app)
    if contact is not None:
        say = Voice(contact.lang)
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
                "What happens next: the service office assigns you a {butler}, who forms the "
                "project team with you and a specialist of each approval department; the team "
                "works with you in a group chat. Send /progress at any time to see where things "
                "stand.",
                butler=say.label(scheme.roles.butler),
            )
        )
        await ctx.send_to_person(contact.id, Outgoing("\n".join(lines), notice="accepted"))
    await ctx.reply(
        ctx._(
            "Accepted: application {number} is now project {code}.",
            number=number_of(app),
            code=code,
        )
        + (" " + ctx._("Service card: {card}.", card=card) if card else "")
    )


@router.button("app:reject:", roles={"office"})
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
        say = Voice(contact.lang)
        await ctx.send_to_person(
            contact.id,
            say._(
                "Your application {number} was not accepted. The service office gives this "
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
)


@router.button("app:request:", roles={"office"})
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
        notice = one_time_notice(Voice(contact.lang), ctx, app)
        notice.notice = "materials"
        await ctx.send_to_person(contact.id, notice)
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
        lines.append(say._("Note from the service office: {note}", note=data["request_note"]))
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
)
