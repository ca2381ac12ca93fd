"""Application cards (申请卡片): an application as the office reads it, and its documents.

Shared by the application flow (apply.py), the office's decisions (office.py), the
enterprise's progress (progress.py) and the project file (completion.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.application import AUTHORIZATION_KEY, application_number, material
from domain.identifiers import format_amount
from domain.scheme import Label, Scheme
from handlers.chat import Button, Outgoing
from handlers.context import Ctx
from handlers.render import Speaks, Voice
from storage.models import Application


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
            "Signed and sealed by the enterprise; the {office} gives you the template."
        )
    ref = material(scheme, key)
    how: Label | None = ref.how_to_obtain if ref else None
    return say.label(how) if how else say._("Ask the {office}.")


# -- the card ---------------------------------------------------------------------------
def number_of(app: Application) -> str:
    """The application number the enterprise quotes (A2026-0007)."""
    return application_number(app.id, app.submitted_at.year)


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
    lines.append(say._("Category: {value}", value=label_of(say, scheme.categories, app.category)))
    lines.append(say._("Location: {value}", value=data.get("zone", "")))
    lines.append(say._("Stage: {value}", value=label_of(say, scheme.stages, data.get("stage"))))
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


def label_of(say: Speaks, entries: Any, wanted: str | None) -> str:
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
    # A credit code proves nothing: say when the applicant is not one of its known contacts.
    contacts = await ctx.uow.enterprises.contacts(app.enterprise_id) if app.enterprise_id else []
    stranger = bool(contacts) and all(c.id != app.contact_person_id for c in contacts)
    for member in await ctx.uow.people.with_role("office"):
        say = Voice(member.lang, ctx.scheme)
        buttons = [
            [
                Button(say._("✔ Accept"), f"app:accept:{app.id}"),
                Button(say._("Request materials"), f"app:request:{app.id}"),
            ],
            [Button(say._("✖ Reject"), f"app:reject:{app.id}")],
        ]
        text = card_text(say, ctx.scheme, app, resubmitted=resubmitted)
        if stranger:
            text += "\n" + say._(
                "⚠ The applicant is not a confirmed contact of this enterprise; its contacts: "
                "{names}.",
                names="、".join(c.name for c in contacts),
            )
        if await ctx.post.to_person(member.id, Outgoing(text, buttons=buttons)):
            sent += 1
    return sent
