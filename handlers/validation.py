"""Localized messages for the domain validators' error codes (校验提示).

`domain/identifiers.py` returns codes and details; this turns them into a sentence that
says what is wrong and how to fix it, in the user's language.
"""

from __future__ import annotations

from typing import Any

from handlers.context import Ctx
from handlers.forms import Err, FieldResult, Ok, Parser, clean_text
from handlers.i18n import N_

MESSAGES = {
    "uscc.length": N_(
        "A unified social credit code has 18 characters; you sent {got}. It is printed on the "
        "business licence (营业执照)."
    ),
    "uscc.charset": N_(
        "Character {position} (“{char}”) cannot appear in a unified social credit code (the "
        "letters I, O, Z, S, V are never used). Please check the business licence."
    ),
    "uscc.authority": N_(
        "A unified social credit code starts with 1–9, A, N or Y (the registering authority); "
        "“{got}” is not possible. Please check the first character."
    ),
    "uscc.division": N_(
        "Characters 3 to 8 of a unified social credit code are the 6-digit area code; “{got}” is "
        "not. Please check them."
    ),
    "uscc.checksum": N_(
        "This unified social credit code does not add up: its last character should be {expected},"
        " not {got}. Please check for a mistyped character."
    ),
    "uscc.format": N_(
        "This is not a valid unified social credit code. Please copy it from the business licence "
        "(18 characters)."
    ),
    "mobile.format": N_(
        "Please give a mainland mobile number: 11 digits starting with 1, e.g. 13812345678."
    ),
    "amount.format": N_(
        "Please give the amount as a number with its unit, e.g. 8亿元 or 80000万元."
    ),
    "amount.positive": N_("The amount must be greater than zero."),
    "amount.too_large": N_(
        "That amount is implausibly large; please check the unit (万元 or 亿元)."
    ),
    "date.format": N_("Please give a date such as 2026-12-01 or 2026年12月1日."),
    "date.range": N_(
        "That date is implausible for this project; please give a date between {earliest} and "
        "{latest}."
    ),
}


def message_for(ctx: Ctx, code: str, detail: dict[str, Any] | None = None) -> str:
    msgid = (
        MESSAGES.get(code)
        or MESSAGES.get(code.split(".")[0] + ".format")
        or N_("This answer is not valid; please check it.")
    )
    try:
        return ctx._(msgid, **(detail or {}))
    except (KeyError, IndexError):  # a detail the message needs is missing: say it plainly
        return (
            ctx._(MESSAGES.get(code.split(".")[0] + ".format", msgid))
            if "{" in msgid
            else ctx._(msgid)
        )


def validator_parser(validate: Any) -> Parser:
    """A form parser from a domain validator returning `Validated(value, error, detail)`."""

    def parse(ctx: Ctx, raw: str) -> FieldResult:
        text = clean_text(raw)
        if not text:
            return Err(ctx._("This cannot be empty. Please type your answer."))
        if len(text) > 200:
            return Err(message_for(ctx, "x.format"))
        result = validate(text)
        if result.error:
            return Err(message_for(ctx, result.error, result.detail))
        return Ok(result.value)

    return parse
