"""The two item moves that ask before they act: 要求补正 asks what is missing (to tell the
enterprise once, 一次性告知), and closing with the approval asks for its number (批复文号 /
证照编号) and its file. Both end in `move_item`, which checks the mover again."""

from __future__ import annotations

from typing import Any

from domain.bounds import TEXT_LIMITS
from domain.items import Action
from handlers.context import Ctx
from handlers.forms import Field, Form, start_form, text_parser
from handlers.i18n import N_
from handlers.item_approval import MAX_NUMBER, Approval
from handlers.item_moves import move_item
from handlers.render import item_name
from storage.models import ChecklistItem


async def _item_and_project(ctx: Ctx, values: dict[str, Any]) -> tuple[Any, Any]:
    item = await ctx.uow.items.get(int(values["item_id"]), for_update=True)
    project = await ctx.uow.projects.get(item.project_id) if item is not None else None
    if item is None or project is None:
        await ctx.reply(ctx._("This item no longer exists."))
        return None, None
    return item, project


async def _correction_asked(ctx: Ctx, values: dict[str, Any]) -> None:
    item, project = await _item_and_project(ctx, values)
    if item is not None:
        await move_item(ctx, project, item, Action.REQUEST_CORRECTION, str(values["missing"]))


async def _approval_given(ctx: Ctx, values: dict[str, Any]) -> None:
    item, project = await _item_and_project(ctx, values)
    if item is None:
        return
    file = values.get("file")
    approval = Approval(values.get("number") or None, file if isinstance(file, dict) else None)
    await move_item(ctx, project, item, Action.COMPLETE, None, approval=approval)


CORRECTION = Form(
    name="item_correction",
    title=N_("Request correction (补正)"),
    fields=[
        Field(
            "missing",
            label=N_("What is missing"),
            prompt=N_(
                "What must the enterprise still supply or correct? Write everything, one thing "
                "per line: the enterprise is told all of it in one notice (一次性告知)."
            ),
            parse=text_parser(max_length=TEXT_LIMITS["reason"]),
        )
    ],
    on_submit=_correction_asked,
)

APPROVAL = Form(
    name="item_approval",
    title=N_("Close the item with its approval"),
    fields=[
        Field(
            "number",
            label=N_("Approval number"),
            prompt=N_(
                "The approval's document number (批复文号) or licence number (证照编号)? "
                "Skip if there is none."
            ),
            parse=text_parser(max_length=MAX_NUMBER),
            optional=True,
        ),
        Field(
            "file",
            label=N_("Approval file"),
            prompt=N_("Send the approval as a file (a scan or a photo), or skip."),
            wants_file=True,
            optional=True,
        ),
    ],
    on_submit=_approval_given,
)


async def ask_missing(ctx: Ctx, item: ChecklistItem) -> None:
    """Open the 补正 form for `item`."""
    await ctx.reply(ctx._("Request correction for “{item}”.", item=item_name(ctx, item)))
    await start_form(ctx, CORRECTION, {"item_id": item.id})


async def ask_approval(ctx: Ctx, item: ChecklistItem) -> None:
    """Open the form that closes `item` with its approval."""
    await ctx.reply(ctx._("Close “{item}” and record its approval.", item=item_name(ctx, item)))
    await start_form(ctx, APPROVAL, {"item_id": item.id})
