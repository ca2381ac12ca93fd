"""Role words in English sentences (角色名称的大小写): a scheme writes its role names as
headings ("Agency officer"); inside a sentence they read "…has no agency officer yet".

A `RoleWord` is a role's name as the scheme writes it (`Voice.label` of a scheme role gives
one). When a message is filled in English, each role word is capitalised where a sentence
starts and lower-cased at its first letter elsewhere; acronyms and proper names ("District
Key Project Service Room") stay as written. Person names are plain strings, never touched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_FIELD = re.compile(r"(?<!\{)\{(\w+)\}")
# Marks that may stand before a sentence's first word: spaces, list bullets, quotes, emphasis.
_LEAD = " \t*_•·-–—“\"'(「【"
_SENTENCE_END = ".!?\n"


class RoleWord(str):
    """A role's name as the scheme writes it (a heading: "Agency officer")."""

    __slots__ = ()


def mid_sentence(word: str) -> str:
    """The role word as it reads inside a sentence: "Agency officer" → "agency officer".

    Kept as written: acronyms and words with capitals inside ("CSO", "WeCom"), and proper
    names, whose other words are capitalised too ("District Key Project Service Room").
    """
    head = word.split("(", 1)[0].split()
    if not head:
        return word
    first = head[0]
    if not first[:1].isupper() or any(c.isupper() for c in first[1:]):
        return word
    if any(w[:1].isupper() for w in head[1:]):
        return word
    return first[0].lower() + word[1:]


def sentence_start(word: str) -> str:
    """The role word as the first word of a sentence: its first letter capitalised."""
    return word[:1].upper() + word[1:]


def _starts_sentence(text: str, at: int) -> bool:
    before = text[:at].rstrip(_LEAD)
    return not before or before[-1] in _SENTENCE_END


def place_role_words(text: str, params: Mapping[str, Any]) -> str:
    """`text` (an English message, not yet formatted) with each field that `params` fills
    with a `RoleWord` written in, cased by where it stands; other fields stay to format."""

    def placed(match: re.Match[str]) -> str:
        word = params.get(match.group(1))
        if not isinstance(word, RoleWord):
            return match.group(0)
        if _starts_sentence(text, match.start()):
            cased = sentence_start(word)
        else:
            cased = mid_sentence(word)
        return cased.replace("{", "{{").replace("}", "}}")

    return _FIELD.sub(placed, text)


def fill(lang: str, text: str, params: Mapping[str, Any]) -> str:
    """`text` (already translated into `lang`) with its fields filled; English role words
    are cased by their place in the sentence."""
    if not params:
        return text
    if lang == "en" and any(isinstance(value, RoleWord) for value in params.values()):
        text = place_role_words(text, params)
    return text.format(**params)
