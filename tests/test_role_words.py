"""The scheme's words everywhere (issue 18 point 6): every catalog message that names a role
says it in the preset's own words, in both languages.

For each preset and each message of both catalogs, the role placeholders ({butler},
{specialist}, {backup}, {office}, {leader}) are filled with the preset's role words; the text
must then not contain a generic role word (项目管家, 服务专员, 服务办公室; butler, specialist,
service office) unless the preset itself uses that word in one of its role names.
"""

from __future__ import annotations

import re
from string import Formatter

import pytest
from babel.messages.catalog import Catalog

from bot.i18n_tools import load
from domain.scheme_loader import list_presets, load_scheme
from handlers.render import ROLE_FIELDS, Voice, role_words
from handlers.role_placement import mid_sentence

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


# -- English role words in a sentence -------------------------------------------------------
# Anshan's English role words are sentence-case headings ("Agency officer"): in a sentence
# they read "agency officer", and "a Agency officer" shows an article chosen for one word.

ARTICLE_FIELD = re.compile(r"\b[Aa]n? \{(?:butler|specialist|backup|office|leader|role)\}")
# Ids in files being rewritten elsewhere (reworded there; see the branch's report).
ARTICLE_WAITING: set[str] = set()


class _Any:
    """Stands for any other field of a message (a name, a count, a date)."""

    def __format__(self, spec: str) -> str:
        return "7"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def render_english(msgid: str, preset: str = "anshan") -> str:
    """`msgid` rendered in English as a reader of `preset` sees it (Voice fills the roles)."""
    others = {name: _Any() for name in _fields(msgid) if name not in ROLE_FIELDS}
    return Voice("en", load_scheme(preset))._(msgid, **others)


def _english_ids_with_roles() -> list[str]:
    ids = []
    for message in load("en"):
        for msgid in message.id if isinstance(message.id, tuple) else (message.id,):
            if msgid and ROLE_FIELD.search(msgid):
                ids.append(msgid)
    return ids


def mid_sentence_capitals(text: str, words: list[str]) -> list[str]:
    """Role words written capitalised where no sentence starts."""
    found = []
    for word in words:
        for match in re.finditer(re.escape(word), text):
            before = text[: match.start()].rstrip(" *_•-")
            if before and before[-1] not in ".!?\n":
                found.append(f"…{text[max(0, match.start() - 30) : match.end()]}")
    return found


def wrong_articles(text: str, words: list[str]) -> list[str]:
    """'a' before a role word that starts with a vowel sound (a vowel letter, here)."""
    vowel_initial = [w for w in words if w[:1].lower() in "aeiou"]
    return [
        m.group(0)
        for w in vowel_initial
        for m in re.finditer(r"\b[Aa] " + re.escape(w), text, flags=re.IGNORECASE)
    ]


def test_english_role_words_read_as_words_mid_sentence():
    """Every English message naming a role, rendered with Anshan's roles: no "…has no Agency
    officer on this team", no "a agency officer"."""
    words = sorted(_words("anshan", "en").values(), key=len, reverse=True)
    assert "Agency officer" in words
    capitals, articles = {}, {}
    for msgid in _english_ids_with_roles():
        text = render_english(msgid)
        if found := mid_sentence_capitals(text, words):
            capitals[msgid] = found
        if msgid not in ARTICLE_WAITING and (found := wrong_articles(text, words)):
            articles[msgid] = found
    assert capitals == {}, f"role words capitalised mid-sentence: {capitals}"
    assert articles == {}, f"'a' before a vowel: {articles}"


def test_no_english_message_puts_an_article_before_a_role_word():
    """Which article fits depends on the preset's word: say 'the', 'its', 'every', or none."""
    ids = {msgid for msgid in _english_ids_with_roles() if ARTICLE_FIELD.search(msgid)}
    ids |= {m.id for m in load("en") if isinstance(m.id, str) and ARTICLE_FIELD.search(m.id)}
    assert ids == ARTICLE_WAITING


def test_role_words_are_capitalised_where_a_sentence_starts():
    words = _words("anshan", "en")
    said = render_english("{specialist} wrote. Ask the {office}.\n{butler}: {name}")
    assert said == "Agency officer wrote. Ask the task-force office.\nChief agency officer: 7"
    # Proper names and acronyms stay as the scheme writes them.
    jinniu = render_english("Ask the {office}.", "jinniu")
    assert jinniu == "Ask the District Key Project Service Room."
    assert mid_sentence("CSO") == "CSO" and mid_sentence("Agency officer") == "agency officer"
    assert words["specialist"] == "Agency officer"  # the heading form is unchanged


def test_the_checks_catch_what_they_are_for():
    words = ["Agency officer"]
    assert mid_sentence_capitals("It has no Agency officer yet.", words) != []
    assert mid_sentence_capitals("Agency officer: Li. Ask an agency officer.", words) == []
    assert wrong_articles("Ask a agency officer.", words) == ["a agency officer"]
    assert wrong_articles("Ask the agency officer.", words) == []
