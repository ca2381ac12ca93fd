"""The application (代办申请): one form, then the scheme's documents for the category.

Contact details come from /profile when the person has given them (the form then starts
at the project name; "back" and the review screen still show and edit them). After the
facts, the enterprise ticks which of the category's documents it can send now; each one
ticked is asked for as a file (or marked "not yet available" after all), and where the
scheme needs written authorization for a requested service kind (Guangzhou 代办) that
file is asked for explicitly. Submitting twice creates one application (idempotency key:
this chat, this person, the moment the form started).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from domain.application import (
    AUTHORIZATION_KEY,
    authorization_kinds,
    materials_for,
    needs_written_authorization,
)
from domain.identifiers import (
    Validated,
    format_amount,
    parse_amount,
    parse_date,
    validate_mobile,
    validate_uscc,
)
from handlers.application_cards import notify_office, number_of
from handlers.application_documents import (
    MAX_DOCUMENTS,
    authorization_choices,
    category_documents,
    document_slot,
    documents_prompt,
    show_authorization,
    show_documents,
    wants_authorization,
)
from handlers.context import Ctx
from handlers.enterprise_claims import claim_enterprise
from handlers.forms import Choice, Field, Form, Ok, resume_form, start_form, text_parser
from handlers.i18n import N_
from handlers.validation import validator_parser
from storage.models import Application

EARLIEST_START_YEARS = 5  # a project may have started already; older than this is a typo
LATEST_START_YEARS = 10


# -- choices from the active scheme -----------------------------------------------------
def _categories(ctx: Ctx) -> list[Choice]:
    return [Choice(c.id, ctx.label(c.label)) for c in ctx.scheme.categories]


def _stages(ctx: Ctx) -> list[Choice]:
    return [Choice(s.id, ctx.label(s.label)) for s in ctx.scheme.stages]


def _kinds(ctx: Ctx) -> list[Choice]:
    return [Choice(k.id, ctx.label(k.label)) for k in ctx.scheme.service_kinds]


# -- parsers ----------------------------------------------------------------------------
def _amount(ctx: Ctx, raw: str) -> Any:
    # Kept as text: form state is JSON, and a float would lose the 万元 precision.
    result = validator_parser(parse_amount)(ctx, raw)
    return Ok(str(result.value)) if isinstance(result, Ok) else result


def _show_amount(ctx: Ctx, value: Any) -> str:
    return format_amount(Decimal(str(value)), ctx.lang)


def _start_date(ctx: Ctx, raw: str) -> Any:
    today = ctx.local_now.date()

    def validate(text: str) -> Validated[str]:
        parsed = parse_date(text, today)
        if parsed.error or parsed.value is None:
            return Validated(None, parsed.error, parsed.detail)
        day = parsed.value
        earliest = today - timedelta(days=365 * EARLIEST_START_YEARS)
        latest = today + timedelta(days=365 * LATEST_START_YEARS)
        if not earliest <= day <= latest:
            return Validated(
                None, "date.range", {"earliest": earliest.isoformat(), "latest": latest.isoformat()}
            )
        return Validated(day.isoformat(), None, {})

    return validator_parser(validate)(ctx, raw)


async def _submit(ctx: Ctx, values: dict[str, Any]) -> None:
    scheme = ctx.scheme
    category = values["category"]
    documents: dict[str, Any] = {m.key: None for m in materials_for(scheme, category)}
    have = list(values.get("have") or [])
    for index, key in enumerate(have[:MAX_DOCUMENTS]):
        answer = values.get(f"doc{index + 1}")
        if key in documents and isinstance(answer, dict):
            documents[key] = answer
    if needs_written_authorization(scheme, values.get("kinds") or ()):
        answer = values.get("authorization")
        documents[AUTHORIZATION_KEY] = answer if isinstance(answer, dict) else None
    # A claim, not membership: the office seats the first contact when it accepts.
    enterprise = await claim_enterprise(ctx, values["enterprise"], values["uscc"])
    data = {k: v for k, v in values.items() if not k.startswith("_") and k != "have"}
    data = {k: v for k, v in data.items() if not k.startswith("doc") and k != "authorization"}
    data["materials"] = documents
    app, new = await ctx.uow.applications.submit(
        idempotency_key=values["_key"],
        contact_person_id=ctx.person.id,
        enterprise_id=enterprise.id,
        project_name=values["project_name"],
        category=category,
        investment_wan=Decimal(str(values["investment"])),
        data=data,
        now=ctx.now,
    )
    if not new:
        await ctx.reply(
            ctx._("This application was already submitted as {number}.", number=number_of(app))
        )
        return
    await ctx.uow.events.append(
        "application.submitted",
        at=ctx.now,
        actor_id=ctx.person.id,
        data={"application_id": app.id, "category": category},
    )
    await ctx.reply(_confirmation(ctx, app))
    await notify_office(ctx, app)


def _confirmation(ctx: Ctx, app: Application) -> str:
    missing = [k for k, v in (app.data.get("materials") or {}).items() if not v]
    lines = [
        ctx._(
            "Thank you. Your application number is **{number}**. The {office} will "
            "check it and reply here.",
            number=number_of(app),
        )
    ]
    if missing:
        lines.append(
            ctx.n_(
                "{n} document is marked “not yet available”; the office will tell you in one "
                "notice what is still needed.",
                "{n} documents are marked “not yet available”; the office will tell you in one "
                "notice what is still needed.",
                len(missing),
            )
        )
    lines.append(ctx._("Send /progress at any time to see where it stands."))
    return "\n".join(lines)


def _text(max_length: int, min_length: int = 2) -> Callable[[Ctx, str], Any]:
    return text_parser(max_length=max_length, min_length=min_length)


APPLY = Form(
    name="apply",
    title=N_("Application for agency service"),
    fields=[
        Field(
            "enterprise",
            label=N_("Enterprise"),
            prompt=N_("The full name of your enterprise?"),
            parse=_text(100),
        ),
        Field(
            "uscc",
            label=N_("Credit code"),
            prompt=N_("Its unified social credit code (统一社会信用代码, 18 characters)?"),
            parse=validator_parser(validate_uscc),
        ),
        Field(
            "contact_name",
            label=N_("Contact person"),
            prompt=N_("The contact person's name?"),
            parse=_text(30, 1),
        ),
        Field(
            "mobile",
            label=N_("Mobile"),
            prompt=N_("The contact person's mobile number (11 digits)?"),
            parse=validator_parser(validate_mobile),
        ),
        Field(
            "project_name",
            label=N_("Project name"),
            prompt=N_("The name of the project?"),
            parse=_text(100),
        ),
        Field(
            "investment",
            label=N_("Total investment"),
            prompt=N_("The total investment, in 万元 or 亿元 (e.g. 8亿元 or 80000万元)?"),
            parse=_amount,
            show=_show_amount,
        ),
        Field(
            "category",
            label=N_("Project category"),
            prompt=N_("Which category is the project?"),
            choices=_categories,
        ),
        Field(
            "zone",
            label=N_("Location"),
            prompt=N_("Where is the project (district, zone or park, and the address)?"),
            # projects.zone holds 100 characters: a longer answer failed at acceptance.
            parse=_text(100),
        ),
        Field(
            "stage",
            label=N_("Current stage"),
            prompt=N_("Which stage is the project in now?"),
            choices=_stages,
        ),
        Field(
            "kinds",
            label=N_("Services requested"),
            prompt=N_("Which services do you ask for?"),
            choices=_kinds,
            multiple=True,
        ),
        Field(
            "start_date",
            label=N_("Planned start"),
            prompt=N_("The planned construction start date (e.g. 2027-03-01)?"),
            parse=_start_date,
        ),
        Field(
            "have",
            label=N_("Documents you can send now"),
            prompt=documents_prompt,
            choices=category_documents,
            multiple=True,
            optional=True,
            show=show_documents,
        ),
        *(document_slot(i, "have", "doc") for i in range(MAX_DOCUMENTS)),
        Field(
            "authorization",
            label=N_("Written authorization"),
            prompt=N_(
                "The agency service (代办) needs your enterprise's written authorization "
                "(书面委托): please send it as a file, signed and sealed. If it is not ready yet, "
                "press the button."
            ),
            wants_file=True,
            choices=authorization_choices,
            show=show_authorization,
            when=wants_authorization,
        ),
    ],
    on_submit=_submit,
)


def _idempotency_key(ctx: Ctx) -> str:
    event = ctx.incoming
    raw = f"{event.platform}|{event.chat_id}|{ctx.person.id}|{event.event_id}|{ctx.now.isoformat()}"
    return "apply:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


async def _stated_enterprise(ctx: Ctx) -> tuple[str, str] | None:
    """Name and credit code to pre-fill: the enterprise the person is a contact of, else the
    one they last claimed in their own words (their profile)."""
    person = ctx.person
    if person.enterprise_id is not None:
        enterprise = await ctx.uow.enterprises.get(person.enterprise_id)
        if enterprise is not None and enterprise.uscc:
            return enterprise.name, enterprise.uscc
    claim = await ctx.uow.enterprises.latest_claim(person.id)
    if claim is None:
        return None
    enterprise = await ctx.uow.enterprises.get(claim.enterprise_id)
    if enterprise is None or not enterprise.uscc:
        return None
    return claim.stated_name, enterprise.uscc


async def start_application(ctx: Ctx) -> None:
    """Begin a new application, pre-filled from the person's contact details."""
    values: dict[str, Any] = {
        "_key": _idempotency_key(ctx),
        "_auth_kinds": list(authorization_kinds(ctx.scheme)),
    }
    person = ctx.person
    stated = await _stated_enterprise(ctx)
    if stated is not None:
        values |= {"enterprise": stated[0], "uscc": stated[1]}
        if person.mobile:
            values |= {"contact_name": person.name, "mobile": person.mobile}
    first_open = next(f for f in APPLY.fields if f.name not in values)
    if first_open is APPLY.fields[0]:
        await start_form(ctx, APPLY, values)
        return
    await ctx.uow.conversations.save(
        ctx.incoming.platform,
        ctx.incoming.chat_id,
        person.id,
        form=APPLY.name,
        step=first_open.name,
        data={"values": values},
        now=ctx.now,
    )
    ctx.conversation = await ctx.uow.conversations.load(
        ctx.incoming.platform, ctx.incoming.chat_id, person.id
    )
    await resume_form(
        ctx, ctx._("Your contact details are filled in from your profile; “Back” shows them.")
    )
