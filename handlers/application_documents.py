"""The documents of an application (申报材料): which the form asks for now, and one form
field per document (a "slot") because the scheme's lists are not fixed."""

from __future__ import annotations

from typing import Any

from domain.application import AUTHORIZATION_KEY, materials_now_and_later
from handlers.application_cards import material_name
from handlers.context import Ctx
from handlers.forms import Choice, Field

MAX_DOCUMENTS = 60  # more documents than any category of the presets needs (36 at most)
LATER = "later"


def form_values(ctx: Ctx) -> dict[str, Any]:
    """The values typed so far in the chat's open form."""
    conv = ctx.conversation
    return dict((conv.data or {}).get("values", {})) if conv is not None else {}


def category_documents(ctx: Ctx) -> list[Choice]:
    """The documents of the project's current and next stage: the ones asked now."""
    values = form_values(ctx)
    if not values.get("category"):
        return []
    now, _ = materials_now_and_later(ctx.scheme, values["category"], values.get("stage"))
    return [Choice(m.key, ctx.label(m.name)) for m in now]


def documents_prompt(ctx: Ctx) -> str:
    values = form_values(ctx)
    prompt = ctx._(
        "These are the documents for your project's current and next stage. Press each one "
        "you can send now, then Done; the others are marked “not yet available” and can be "
        "sent later. Press Skip if you have none of them yet."
    )
    if not values.get("category"):
        return prompt
    _, later = materials_now_and_later(ctx.scheme, values["category"], values.get("stage"))
    if not later:
        return prompt
    names = "、".join(dict.fromkeys(ctx.label(m.name) for m in later))
    return prompt + "\n" + ctx._("Needed later, not now: {documents}.", documents=names)


def document_slot(index: int, list_key: str, prefix: str) -> Field:
    """Field number `index` of a list of documents held in ``values[list_key]``.

    The form engine's fields are fixed, the scheme's documents are not: slot i asks for
    the i-th document of the list, and applies only when the list is that long.
    """

    def applies(values: dict[str, Any]) -> bool:
        return index < len(values.get(list_key) or [])

    def key_of(ctx: Ctx) -> str:
        keys = form_values(ctx).get(list_key) or []
        return str(keys[index]) if index < len(keys) else ""

    def choices(ctx: Ctx) -> list[Choice]:
        name = material_name(ctx, ctx.scheme, key_of(ctx))
        return [Choice(LATER, ctx._("{document} — not available yet", document=name))]

    def show(ctx: Ctx, value: Any) -> str:
        if isinstance(value, dict) and value.get("filename"):
            return str(value["filename"])
        return ctx._("not available yet")

    def label(ctx: Ctx) -> str:
        return material_name(ctx, ctx.scheme, key_of(ctx)) or f"📄 {index + 1}"

    def prompt(ctx: Ctx) -> str:
        return ctx._(
            "Please send “{document}” as a file (a scan or a photo is fine). If you do not "
            "have it yet, press the button.",
            document=material_name(ctx, ctx.scheme, key_of(ctx)),
        )

    return Field(
        f"{prefix}{index + 1}",
        label=label,
        prompt=prompt,
        wants_file=True,
        choices=choices,
        show=show,
        when=applies,
    )


def wants_authorization(values: dict[str, Any]) -> bool:
    return bool(set(values.get("kinds") or ()) & set(values.get("_auth_kinds") or ()))


def authorization_choices(ctx: Ctx) -> list[Choice]:
    name = material_name(ctx, ctx.scheme, AUTHORIZATION_KEY)
    return [Choice(LATER, ctx._("{document} — not available yet", document=name))]


def show_authorization(ctx: Ctx, value: Any) -> str:
    if isinstance(value, dict) and value.get("filename"):
        return str(value["filename"])
    return ctx._("not available yet")


def show_documents(ctx: Ctx, value: Any) -> str:
    names = [material_name(ctx, ctx.scheme, k) for k in value or []]
    return "、".join(names) or ctx._("(none)")


__all__ = [
    "LATER",
    "MAX_DOCUMENTS",
    "authorization_choices",
    "category_documents",
    "document_slot",
    "documents_prompt",
    "form_values",
    "show_authorization",
    "show_documents",
    "wants_authorization",
]
