"""Every user-facing string is translated in both catalogs; every zh variant reaches Chinese."""

import re

import pytest

from bot.i18n_tools import extract, load, untranslated
from handlers.i18n import LANGS, gettext, normalize_lang


@pytest.mark.parametrize(
    "code", ["zh-hans", "zh-hant", "zh-cn", "zh", "zh_CN", "zh-TW", "ZH-HANS-CN", "zh_Hant_HK"]
)
def test_every_chinese_code_reaches_chinese(code):
    assert normalize_lang(code) == "zh_CN"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en", "en"),
        ("en-US", "en"),
        ("en_GB", "en"),
        (None, "zh_CN"),
        ("", "zh_CN"),
        ("fr", "zh_CN"),
    ],
)
def test_other_codes(code, expected):
    assert normalize_lang(code) == expected


@pytest.mark.parametrize("lang", LANGS)
def test_catalog_translates_every_message(lang):
    missing = untranslated(lang)
    assert missing == [], (
        f"{lang}: untranslated — run `daiban i18n update` and fill in: {missing[:10]}"
    )


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w*)\}", text))


@pytest.mark.parametrize("lang", LANGS)
def test_translations_keep_the_placeholders(lang):
    catalog = load(lang)
    for message in extract():
        found = catalog.get(message.id)
        if found is None or not found.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = found.string if isinstance(found.string, tuple) else (found.string,)
        wanted = set().union(*(_placeholders(i) for i in ids))
        for string in strings:
            assert _placeholders(string) <= wanted, (
                f"{lang}: {string!r} uses placeholders not in {ids[0]!r}"
            )


def test_chinese_is_really_chinese():
    assert (
        gettext("zh_CN", "Cancelled. Nothing was submitted.") != "Cancelled. Nothing was submitted."
    )
    assert re.search(r"[\u4e00-\u9fff]", gettext("zh-hans", "Cancelled. Nothing was submitted."))
