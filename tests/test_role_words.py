"""The scheme's words everywhere (issue 18 point 6): every catalog message that names a role
says it in the preset's own words, in both languages.

For each preset and each message of both catalogs, the role placeholders ({butler},
{specialist}, {backup}, {office}, {leader}) are filled with the preset's role words; the text
must then not contain a generic role word (项目管家, 服务专员, 服务办公室; butler, specialist,
service office) unless the preset itself uses that word in one of its role names.
"""

from __future__ import annotations

import re

import pytest
from babel.messages.catalog import Catalog

from bot.i18n_tools import load
from domain.scheme_loader import list_presets, load_scheme
from handlers.render import Voice, role_words

GENERIC = {
    "zh_CN": ("项目管家", "服务专员", "服务办公室"),
    "en": ("butler", "specialist", "service office"),
}
ROLE_FIELD = re.compile(r"\{(butler|specialist|backup|office|leader)\}")
PRESETS = list_presets()


def _voice_lang(lang: str) -> str:
    return "en" if lang == "en" else "zh"


def _words(preset: str, lang: str) -> dict[str, str]:
    return role_words(Voice(_voice_lang(lang)), load_scheme(preset))


def _forbidden(words: dict[str, str], lang: str) -> list[str]:
    """The generic words this preset names differently (absent from all its role names)."""
    own = " ".join(words.values()).lower()
    return [g for g in GENERIC[lang] if g.lower() not in own]


def offenders(catalog: Catalog, words: dict[str, str], lang: str) -> list[str]:
    """Catalog texts that, rendered with `words`, still say a generic role word."""
    forbidden = _forbidden(words, lang)
    found = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            text = ROLE_FIELD.sub(lambda m: words[m.group(1)], string).lower()
            if any(g.lower() in text for g in forbidden):
                found.append(string)
    return found


def test_presets_name_their_roles_differently():
    """The check has teeth: most presets name at least one role unlike the generic words."""
    assert "anshan" in PRESETS
    assert _forbidden(_words("anshan", "zh_CN"), "zh_CN") == list(GENERIC["zh_CN"])
    assert _forbidden(_words("anshan", "en"), "en") == list(GENERIC["en"])
    assert _forbidden(_words("tongzhou", "zh_CN"), "zh_CN") == ["服务办公室"]


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("preset", PRESETS)
def test_every_message_says_the_schemes_role_words(preset, lang):
    bad = offenders(load(lang), _words(preset, lang), lang)
    assert bad == [], f"{preset} {lang}: generic role words in {len(bad)} messages: {bad[:8]}"


def test_self_check_catches_an_offending_message():
    """A message that hard-codes a generic word fails; the same message with a placeholder
    passes, and a preset whose own name is that word lets it through."""
    catalog = Catalog(locale="zh_CN")
    catalog.add("Ask the butler.", "请联系项目管家。")
    words = _words("anshan", "zh_CN")
    assert offenders(catalog, words, "zh_CN") == ["请联系项目管家。"]
    assert offenders(catalog, _words("tongzhou", "zh_CN"), "zh_CN") == []
    fixed = Catalog(locale="zh_CN")
    fixed.add("Ask the {butler}.", "请联系{butler}。")
    assert offenders(fixed, words, "zh_CN") == []
    english = Catalog(locale="en")
    english.add("Ask the Service Office.", "Ask the Service Office.")
    assert offenders(english, _words("anshan", "en"), "en") == ["Ask the Service Office."]
