"""The application flow (代办申请): /apply opens the form (handlers/application_form.py), or,
when the office asked for documents, the resubmission (handlers/resubmission.py)."""

from __future__ import annotations

from handlers.access import Mine
from handlers.application_cards import number_of
from handlers.application_form import APPLY, start_application
from handlers.context import Ctx
from handlers.i18n import N_
from handlers.resubmission import RESUBMIT, start_resubmission
from handlers.roles import STAFF
from handlers.router import Router
from storage.models import Application

router = Router("apply")


@router.command(
    "apply",
    help=N_("Apply for the agency service, or send requested documents"),
    not_for=STAFF,  # staff apply for no one: the enterprise is the applicant (申报主体)
)
@router.button("menu:apply")
async def apply(ctx: Ctx) -> None:
    waiting = await ctx.uow.applications.of_contact(
        ctx.person.id, statuses=("materials_requested",)
    )
    if waiting:
        await start_resubmission(ctx, waiting[0])
        return
    await start_application(ctx)


@router.button("app:resubmit:", scope=Mine("application"))
async def resubmit_pressed(ctx: Ctx) -> None:
    app = ctx.target
    assert isinstance(app, Application)
    if app.status != "materials_requested":
        await ctx.reply(
            ctx._(
                "Application {number} is not waiting for documents from you.",
                number=number_of(app),
            )
        )
        return
    await start_resubmission(ctx, app)


__all__ = [
    "APPLY",
    "RESUBMIT",
    "apply",
    "resubmit_pressed",
    "start_application",
    "start_resubmission",
]
