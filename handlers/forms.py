"""The form engine (表单): a dialogue declared as an ordered list of fields.

    PROFILE = Form("profile", title=N_("Contact details"), fields=[
        Field("name", label=N_("Name"), prompt=N_("Your name?"), parse=parse_text),
        Field("mobile", label=N_("Mobile"), prompt=N_("Your mobile?"), parse=parse_mobile),
    ], on_submit=save_profile)

The engine does, once for every form: next, back, skip, cancel, a review screen where any
field can be edited, resume after a restart or a week's pause (the state is a row per chat
and person), numbered replies where a messenger has no buttons, and submit-once (the state
is cleared in the same transaction as the submission, so a second press finds nothing).
A bad answer gets a clear error and the same question again; earlier answers are kept.
"""

from __future__ import annotations

from typing import Any

from handlers.chat import Button, Outgoing
from handlers.context import Ctx
from handlers.form_fields import (
    FORMS,
    KEEP,
    MAX_TEXT,
    Choice,
    Err,
    Field,
    FieldResult,
    Form,
    Ok,
    Parser,
    Text,
    clean_text,
    text_parser,
    words,
)
from handlers.refusals import refuse_roles

REVIEW = "__review__"
PAGE_SIZE = 10  # choice buttons per message; longer lists get pages


# -- state -------------------------------------------------------------------------------
def _state(ctx: Ctx) -> tuple[Form, str, dict[str, Any]] | None:
    conv = ctx.conversation
    if conv is None or not conv.form or conv.form not in FORMS:
        return None
    return FORMS[conv.form], conv.step or "", dict(conv.data or {})


async def _save(ctx: Ctx, form: Form, step: str, data: dict[str, Any]) -> None:
    await ctx.uow.conversations.save(
        ctx.incoming.platform,
        ctx.incoming.chat_id,
        ctx.person.id,
        form=form.name,
        step=step,
        data=data,
        now=ctx.now,
    )
    # Keep the in-memory view in step with the row for the rest of this event.
    ctx.conversation = await ctx.uow.conversations.load(
        ctx.incoming.platform, ctx.incoming.chat_id, ctx.person.id
    )


async def _clear(ctx: Ctx) -> None:
    await ctx.uow.conversations.clear(ctx.incoming.platform, ctx.incoming.chat_id, ctx.person.id)
    ctx.conversation = None


def active_form(ctx: Ctx) -> Form | None:
    state = _state(ctx)
    return state[0] if state else None


# -- asking ------------------------------------------------------------------------------
def _payload(form: Form, action: str, arg: str = "") -> str:
    return f"form:{form.name}:{action}" + (f":{arg}" if arg else "")


def _nav_row(ctx: Ctx, form: Form, fld: Field, first: bool) -> list[Button]:
    row = []
    if not first:
        row.append(Button(ctx._("⬅ Back"), _payload(form, "back")))
    if fld.optional:
        row.append(Button(ctx._("Skip"), _payload(form, "skip")))
    row.append(Button(ctx._("✖ Cancel"), _payload(form, "cancel")))
    return row


async def _ask(ctx: Ctx, form: Form, fld: Field, data: dict[str, Any], note: str = "") -> None:
    values = data.get("values", {})
    steps = form.applicable(values)
    position = steps.index(fld) + 1 if fld in steps else 1
    lines = [note] if note else []
    lines.append(f"**{ctx._(form.title)}** ({position}/{len(steps)})")
    lines.append(words(ctx, fld.prompt))
    buttons: list[list[Button]] = []
    if fld.choices is not None:
        picked = set(data.get("picked", [])) if fld.multiple else set()
        choices = list(fld.choices(ctx))
        pages = max(1, -(-len(choices) // PAGE_SIZE))
        page = min(int(data.get("page", 0)), pages - 1)
        first = page * PAGE_SIZE
        for number, choice in enumerate(choices[first : first + PAGE_SIZE], start=first + 1):
            mark = "☑ " if choice.value in picked else ""
            label = f"{mark}{ctx._(choice.label)}"
            buttons.append([Button(label, _payload(form, "pick", choice.value))])
            lines.append(f"{number}. {ctx._(choice.label)}")
        if pages > 1:
            lines.append(ctx._("Page {page} of {pages}.", page=page + 1, pages=pages))
            turn = []
            if page > 0:
                turn.append(Button(ctx._("◀ Previous"), _payload(form, "page", str(page - 1))))
            if page < pages - 1:
                turn.append(Button(ctx._("Next ▶"), _payload(form, "page", str(page + 1))))
            buttons.append(turn)
        if fld.multiple:
            buttons.append([Button(ctx._("Done"), _payload(form, "done"))])
            lines.append(ctx._("Press each that applies, then Done."))
        else:
            lines.append(ctx._("Press a button or reply with its number."))
    if fld.name in values:
        lines.append(ctx._("Current answer: {value}", value=_shown(ctx, fld, values[fld.name])))
    buttons.append(_nav_row(ctx, form, fld, first=position == 1))
    await ctx.reply(Outgoing("\n".join(lines), buttons=buttons))


def _shown(ctx: Ctx, fld: Field, value: Any) -> str:
    if value is None:
        return ctx._("(skipped)")
    if fld.show is not None:
        return fld.show(ctx, value)
    if fld.choices is not None:
        labels = {c.value: ctx._(c.label) for c in fld.choices(ctx)}
        if isinstance(value, list):
            return "、".join(labels.get(v, v) for v in value) or ctx._("(none)")
        return labels.get(value, str(value))
    if isinstance(value, dict) and "filename" in value:
        return str(value["filename"])
    return str(value)


async def _review(ctx: Ctx, form: Form, data: dict[str, Any], note: str = "") -> None:
    values = data.get("values", {})
    lines = [note] if note else []
    lines.append(ctx._("**{title}: please check before submitting**", title=ctx._(form.title)))
    edit_buttons: list[Button] = []
    for fld in form.applicable(values):
        lines.append(
            ctx._(
                "• {label}: {value}",
                label=words(ctx, fld.label),
                value=_shown(ctx, fld, values.get(fld.name)),
            )
        )
        edit_buttons.append(
            Button(
                ctx._("Edit {label}", label=words(ctx, fld.label)), _payload(form, "edit", fld.name)
            )
        )
    rows = [[Button(ctx._("✔ Submit"), _payload(form, "submit"))]]
    rows += [edit_buttons[i : i + 2] for i in range(0, len(edit_buttons), 2)]
    rows.append([Button(ctx._("✖ Cancel"), _payload(form, "cancel"))])
    await ctx.reply(Outgoing("\n".join(lines), buttons=rows))


async def start_form(ctx: Ctx, form: Form, values: dict[str, Any] | None = None) -> None:
    """Begin `form` in this chat (replacing any unfinished form) and ask its first question."""
    data: dict[str, Any] = {"values": dict(values or {})}
    first = form.applicable(data["values"])[0]
    await _save(ctx, form, first.name, data)
    await _ask(ctx, form, first, data)


async def resume_form(ctx: Ctx, note: str = "") -> bool:
    """Ask the current question of the unfinished form again; False when there is none."""
    state = _state(ctx)
    if state is None:
        return False
    form, step, data = state
    if step == REVIEW or step not in form.by_name:
        await _review(ctx, form, data, note)
    else:
        await _ask(ctx, form, form.by_name[step], data, note)
    return True


# -- answering ---------------------------------------------------------------------------
async def _advance(ctx: Ctx, form: Form, current: str, data: dict[str, Any]) -> None:
    values = data["values"]
    data.pop("picked", None)
    data.pop("page", None)
    if data.get("editing"):
        data.pop("editing")
        await _save(ctx, form, REVIEW, data)
        await _review(ctx, form, data)
        return
    steps = form.applicable(values)
    names = [f.name for f in steps]
    index = names.index(current) + 1 if current in names else 0
    # Skip fields answered earlier (resumed or pre-filled forms) only when going forward.
    if index < len(steps):
        await _save(ctx, form, steps[index].name, data)
        await _ask(ctx, form, steps[index], data)
    else:
        await _save(ctx, form, REVIEW, data)
        await _review(ctx, form, data)


async def _back(ctx: Ctx, form: Form, step: str, data: dict[str, Any]) -> None:
    steps = form.applicable(data["values"])
    names = [f.name for f in steps]
    if step == REVIEW:
        target = steps[-1]
    else:
        index = names.index(step) if step in names else 0
        target = steps[max(index - 1, 0)]
    data.pop("picked", None)
    data.pop("editing", None)
    data.pop("page", None)
    await _save(ctx, form, target.name, data)
    await _ask(ctx, form, target, data)


def _match_choice(ctx: Ctx, fld: Field, text: str) -> str | None:
    choices = list(fld.choices(ctx)) if fld.choices else []
    cleaned = clean_text(text).casefold()
    if cleaned.isascii() and cleaned.isdigit() and 1 <= int(cleaned) <= len(choices):
        return choices[int(cleaned) - 1].value
    for choice in choices:
        if cleaned in {choice.value.casefold(), ctx._(choice.label).casefold()}:
            return choice.value
    return None


async def _accept_value(ctx: Ctx, form: Form, fld: Field, data: dict[str, Any], value: Any) -> None:
    data.setdefault("values", {})[fld.name] = value
    await _advance(ctx, form, fld.name, data)


async def handle_form_event(ctx: Ctx) -> bool:
    """Feed the event to the chat's unfinished form; False when it is not the form's."""
    event = ctx.incoming
    if event.payload is not None and event.payload.startswith("form:"):
        return await _handle_button(ctx, event.payload)
    state = _state(ctx)
    if state is None:
        return False
    form, step, data = state
    data.setdefault("values", {})
    if event.command in {"cancel", "back", "skip"}:
        return await _handle_button(ctx, _payload(form, event.command))
    if event.command is not None or event.payload is not None:
        return False  # other commands and buttons work during a form; it stays open
    if not await _may_answer(ctx, form):
        return True
    if step == REVIEW:
        await _review(ctx, form, data, ctx._("Please press Submit, or Edit to change an answer."))
        return True
    fld = form.by_name.get(step)
    if fld is None:
        await _clear(ctx)
        return False
    if fld.wants_file:
        if event.attachment is None:
            await _ask(ctx, form, fld, data, ctx._("Please send the document as a file."))
            return True
        file_info = {
            "filename": event.attachment.filename,
            "ref": event.attachment.ref,
            "size": event.attachment.size,
        }
        await _accept_value(ctx, form, fld, data, file_info)
        return True
    if event.attachment is not None:
        await _ask(
            ctx, form, fld, data, ctx._("A file is not expected here; please answer in text.")
        )
        return True
    if fld.choices is not None:
        value = _match_choice(ctx, fld, event.text)
        if value is None:
            await _ask(ctx, form, fld, data, ctx._("Please choose one of the options."))
            return True
        if fld.multiple:
            return await _toggle(ctx, form, fld, data, value)
        await _accept_value(ctx, form, fld, data, value)
        return True
    assert fld.parse is not None, f"field {fld.name} has neither parse nor choices"
    result = fld.parse(ctx, event.text)
    if isinstance(result, Err):
        await _ask(ctx, form, fld, data, "⚠ " + result.message)
        return True
    await _accept_value(ctx, form, fld, data, result.value)
    return True


async def _toggle(ctx: Ctx, form: Form, fld: Field, data: dict[str, Any], value: str) -> bool:
    picked = list(data.get("picked", data["values"].get(fld.name) or []))
    if value in picked:
        picked.remove(value)
    else:
        picked.append(value)
    data["picked"] = picked
    await _save(ctx, form, fld.name, data)
    await _ask(ctx, form, fld, data)
    return True


async def _may_answer(ctx: Ctx, form: Form) -> bool:
    """Whether the sender still has a role the form asks for; refuses when not."""
    if not form.roles or ctx.has_role(*form.roles):
        return True
    await refuse_roles(ctx, form.roles)
    return False


async def _handle_button(ctx: Ctx, payload: str) -> bool:
    _, form_name, action, *rest = [*payload.split(":", 3), ""][:4]
    arg = rest[0] if rest else ""
    state = _state(ctx)
    if state is None or state[0].name != form_name:
        await ctx.reply(
            ctx._(
                "That form is no longer open (it was submitted or cancelled). Send /help to see "
                "what you can do."
            )
        )
        return True
    form, step, data = state
    data.setdefault("values", {})
    fld = form.by_name.get(step)
    if action != "cancel" and not await _may_answer(ctx, form):
        return True
    if action == "cancel":
        await _clear(ctx)
        await ctx.reply(ctx._("Cancelled. Nothing was submitted."))
    elif action == "back":
        await _back(ctx, form, step, data)
    elif action == "skip" and fld is not None and fld.optional:
        await _accept_value(ctx, form, fld, data, None)
    elif action == "pick" and fld is not None and fld.choices is not None:
        valid = {c.value for c in fld.choices(ctx)}
        if arg not in valid:
            await _ask(ctx, form, fld, data, ctx._("Please choose one of the options."))
        elif fld.multiple:
            await _toggle(ctx, form, fld, data, arg)
        else:
            await _accept_value(ctx, form, fld, data, arg)
    elif action == "done" and fld is not None and fld.multiple:
        picked = list(data.get("picked", data["values"].get(fld.name) or []))
        if not picked and not fld.optional:
            await _ask(ctx, form, fld, data, ctx._("Please choose at least one."))
        else:
            await _accept_value(ctx, form, fld, data, picked)
    elif action == "page" and fld is not None and fld.choices is not None and arg.isdecimal():
        pages = max(1, -(-len(list(fld.choices(ctx))) // PAGE_SIZE))
        data["page"] = min(int(arg[:6]), pages - 1)
        await _save(ctx, form, fld.name, data)
        await _ask(ctx, form, fld, data)
    elif action == "edit" and arg in form.by_name:
        data["editing"] = True
        data.pop("page", None)
        await _save(ctx, form, arg, data)
        await _ask(ctx, form, form.by_name[arg], data)
    elif action == "submit" and step == REVIEW:
        await _clear(ctx)
        await form.on_submit(ctx, data["values"])
    else:
        # A stale button of an earlier step: show where the form stands now.
        await resume_form(
            ctx, ctx._("That button belongs to an earlier step; here is where you are now.")
        )
    return True


__all__ = [
    "FORMS",
    "KEEP",
    "MAX_TEXT",
    "PAGE_SIZE",
    "REVIEW",
    "Choice",
    "Err",
    "Field",
    "FieldResult",
    "Form",
    "Ok",
    "Parser",
    "Text",
    "active_form",
    "clean_text",
    "handle_form_event",
    "resume_form",
    "start_form",
    "text_parser",
    "words",
]
