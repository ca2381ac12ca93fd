"""Sending the documents the office requested (补正材料): one file at a time, then the
application goes back to the office."""

from __future__ import annotations

from typing import Any

from handlers.application_cards import notify_office, number_of
from handlers.application_documents import MAX_DOCUMENTS, document_slot
from handlers.context import Ctx
from handlers.forms import Form, start_form
from handlers.i18n import N_
from storage.models import Application


async def start_resubmission(ctx: Ctx, app: Application) -> None:
    """Ask for each document the office requested, one file at a time."""
    requested = list((app.data or {}).get("requested") or [])
    await ctx.reply(
        ctx._(
            "Application {number}: please send the {count} documents the office asked for.",
            number=number_of(app),
            count=len(requested),
        )
    )
    await start_form(ctx, RESUBMIT, {"app_id": app.id, "requested": requested})


async def _resubmitted(ctx: Ctx, values: dict[str, Any]) -> None:
    app = await ctx.uow.applications.get(int(values["app_id"]), for_update=True)
    if app is None or app.status != "materials_requested":
        await ctx.reply(ctx._("This application is no longer waiting for documents."))
        return
    data = dict(app.data or {})
    documents = dict(data.get("materials") or {})
    sent = 0
    for index, key in enumerate(list(values.get("requested") or [])[:MAX_DOCUMENTS]):
        answer = values.get(f"re{index + 1}")
        if isinstance(answer, dict):
            documents[key] = answer
            sent += 1
    data["materials"] = documents
    app.data = data
    app.status = "resubmitted"
    await ctx.uow.applications.save(app)
    await ctx.uow.events.append(
        "application.resubmitted",
        at=ctx.now,
        actor_id=ctx.person.id,
        data={"application_id": app.id, "documents": sent},
    )
    await ctx.reply(
        ctx._(
            "Thank you. The documents for application {number} were sent to the {office}.",
            number=number_of(app),
        )
    )
    await notify_office(ctx, app, resubmitted=True)


RESUBMIT = Form(
    name="resubmit",
    title=N_("Requested documents"),
    fields=[document_slot(i, "requested", "re") for i in range(MAX_DOCUMENTS)],
    on_submit=_resubmitted,
)


__all__ = ["RESUBMIT", "start_resubmission"]
