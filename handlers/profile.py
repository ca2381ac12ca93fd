"""Contact details (联系人信息): who the enterprise contact is and which company they act for.

The first form a visitor meets; the application form (front-door issue) pre-fills from it.
"""

from __future__ import annotations

from typing import Any

from domain.identifiers import validate_mobile, validate_uscc
from handlers.context import Ctx
from handlers.enterprise_claims import claim_enterprise
from handlers.forms import Field, Form, start_form, text_parser
from handlers.i18n import N_
from handlers.router import Router
from handlers.validation import validator_parser

router = Router("profile")


async def _save_profile(ctx: Ctx, values: dict[str, Any]) -> None:
    person = ctx.person
    person.name = values["name"]
    person.mobile = values["mobile"]
    await ctx.reply(ctx._("Thank you, {name}. Your contact details are saved.", name=person.name))
    # A claim, not membership: the credit code is public (see handlers/contacts.py).
    enterprise = await claim_enterprise(ctx, values["enterprise"], values["uscc"])
    await ctx.uow.events.append(
        "profile.updated",
        at=ctx.now,
        actor_id=person.id,
        data={"enterprise_id": enterprise.id, "uscc": values["uscc"]},
    )


PROFILE = Form(
    name="profile",
    title=N_("Contact details"),
    fields=[
        Field(
            "name",
            label=N_("Name"),
            prompt=N_("What is your name?"),
            parse=text_parser(max_length=30),
        ),
        Field(
            "mobile",
            label=N_("Mobile"),
            prompt=N_("Your mobile number (11 digits)?"),
            parse=validator_parser(validate_mobile),
        ),
        Field(
            "enterprise",
            label=N_("Enterprise"),
            prompt=N_("The full name of your enterprise?"),
            parse=text_parser(max_length=100, min_length=2),
        ),
        Field(
            "uscc",
            label=N_("Credit code"),
            prompt=N_("Its unified social credit code (统一社会信用代码, 18 characters)?"),
            parse=validator_parser(validate_uscc),
        ),
    ],
    on_submit=_save_profile,
)


@router.command("profile", help=N_("Your contact details"))
async def profile(ctx: Ctx) -> None:
    await start_form(ctx, PROFILE)
