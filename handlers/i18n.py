"""Translations (国际化): gettext catalogs in `locales/`, chosen per user.

Message ids are English; `zh_CN` is the default language and both catalogs translate
every id. Catalogs are read from the `.po` sources and compiled in memory, so there is
no build step and no stale `.mo` file.
"""

from __future__ import annotations

import io
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from handlers.role_placement import fill

DOMAIN = "daiban"
DEFAULT_LANG = "zh_CN"
LANGS = ("zh_CN", "en")
LOCALES_DIR = Path(__file__).resolve().parents[1] / "locales"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where the user is known."""
    return message


@lru_cache(maxsize=256)  # a handful of codes, asked for every string shown
def normalize_lang(code: str | None, default: str = DEFAULT_LANG) -> str:
    """Map a messenger's language code to a catalog: every `zh*` reaches Chinese.

    Telegram sends IETF tags (`zh-hans`, `zh-hant`, `en-US`), WeCom and browsers send
    `zh_CN`, `zh-TW`, `zh`; all Chinese variants share the one Simplified catalog.
    """
    if not code:
        return default
    tag = code.strip().lower().replace("_", "-")
    if tag.startswith("zh"):
        return "zh_CN"
    if tag.startswith("en"):
        return "en"
    return default


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of `lang` (cached for the process)."""
    path = LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def gettext(lang: str, message: str) -> str:
    return translations(normalize_lang(lang)).gettext(message)


def ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    return translations(normalize_lang(lang)).ngettext(singular, plural, n)


def translate(lang: str, message: str, **params: Any) -> str:
    """`message` in `lang` with its ``{fields}`` filled in: translated first, then
    formatted, since a translation may place the fields differently (and an English role
    word is cased by where it lands, handlers/role_placement.py)."""
    return fill(normalize_lang(lang), gettext(lang, message), params)
