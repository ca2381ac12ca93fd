"""What a form is made of (表单字段): fields, choices, the form itself, and the parsers
every form can use. The engine that walks a form is handlers/forms.py.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from handlers.context import Ctx

MAX_TEXT = 500


@dataclass(frozen=True)
class Ok:
    value: Any


@dataclass(frozen=True)
class Err:
    message: str  # already translated


FieldResult = Ok | Err
Parser = Callable[[Ctx, str], FieldResult]
# A field's words: a msgid, or computed per person (e.g. naming the scheme's document).
Text = str | Callable[[Ctx], str]


def words(ctx: Ctx, text: Text) -> str:
    """A field's label or prompt in the person's language."""
    return text(ctx) if callable(text) else ctx._(text)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str  # msgid, or a scheme label already in the user's language


@dataclass(frozen=True)
class Field:
    """One question: how to ask it, how to read the answer, how to show it back."""

    name: str
    label: Text  # msgid, or a function of ctx: the short name on the review screen
    prompt: Text  # msgid, or a function of ctx: the question
    parse: Parser | None = None
    choices: Callable[[Ctx], Sequence[Choice]] | None = None
    multiple: bool = False
    optional: bool = False
    wants_file: bool = False
    show: Callable[[Ctx, Any], str] | None = None
    when: Callable[[dict[str, Any]], bool] | None = None  # ask only when this holds

    def applies(self, values: dict[str, Any]) -> bool:
        return self.when is None or self.when(values)


@dataclass(frozen=True)
class Form:
    name: str
    title: str  # msgid
    fields: list[Field]
    on_submit: Callable[[Ctx, dict[str, Any]], Awaitable[None]]
    # Who may answer its steps: the roles of the route that opens it, checked again at
    # every step (a role withdrawn mid-form stops it; cancelling always works).
    roles: frozenset[str] = frozenset()
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})
        FORMS[self.name] = self

    def applicable(self, values: dict[str, Any]) -> list[Field]:
        return [f for f in self.fields if f.applies(values)]


FORMS: dict[str, Form] = {}


# -- parsers every form can use ----------------------------------------------------------
KEEP = {"\n", "\u2060"}  # line breaks; the word joiner that neutralises typed markup


def clean_text(text: str) -> str:
    """Drop control and format characters (keeping line breaks and the markup-breaking word
    joiner of handlers/inbound_text.py) and surrounding space."""
    kept = [
        ch
        for ch in unicodedata.normalize("NFC", text)
        if ch in KEEP or unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
    ]
    return "".join(kept).strip()


def text_parser(max_length: int = 100, min_length: int = 1) -> Parser:
    def parse(ctx: Ctx, raw: str) -> FieldResult:
        text = clean_text(raw)
        length = len(text.replace("\u2060", ""))  # the invisible markup breakers do not count
        if length < min_length:
            return Err(ctx._("This cannot be empty. Please type your answer."))
        if length > max_length:
            return Err(
                ctx._(
                    "That is {length} characters; at most {limit} fit here. Please shorten it.",
                    length=length,
                    limit=max_length,
                )
            )
        return Ok(text)

    return parse
