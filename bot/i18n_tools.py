"""Keeping the catalogs (翻译目录) in step with the code.

`daiban i18n update` extracts every message id from the source and merges it into
`locales/<lang>/LC_MESSAGES/daiban.po`: new ids are added untranslated, ids the code no
longer uses are dropped, translations are kept. `tests/test_i18n.py` fails while any id is
untranslated in either catalog.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from handlers.i18n import DOMAIN, LANGS, LOCALES_DIR

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ("handlers", "reminders", "bot")
# `translate(lang, msgid, …)` translates, then formats (handlers/i18n.py); `_t` is its
# local name in the flow, reminder and report modules.
KEYWORDS = {
    "_": None,
    "N_": None,
    "n_": (1, 2),
    "gettext": (2,),
    "ngettext": (2, 3),
    "_t": (2,),
    "translate": (2,),
}


def extract() -> Catalog:
    """Every message id used in the source, with where it is used."""
    template = Catalog(domain=DOMAIN, project="daiban")
    for folder in SOURCE_DIRS:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            template.add(
                message,
                locations=[(f"{folder}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def po_path(lang: str) -> Path:
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def load(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, domain=DOMAIN, project="daiban")
    with path.open("rb") as po:
        return read_po(po, locale=lang)


def update() -> dict[str, int]:
    """Merge the extracted ids into both catalogs; returns untranslated counts per language."""
    template = extract()
    missing: dict[str, int] = {}
    for lang in LANGS:
        catalog = load(lang)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as po:
            write_po(po, catalog, width=100, sort_output=True, omit_header=False)
        missing[lang] = sum(1 for m in catalog if m.id and not _translated(m.string))
    return missing


def _translated(string: object) -> bool:
    if isinstance(string, tuple | list):
        return all(string)
    return bool(string)


def untranslated(lang: str) -> list[str]:
    template = extract()
    catalog = load(lang)
    result = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id)
        if found is None or not _translated(found.string) or found.fuzzy:
            result.append(message.id if isinstance(message.id, str) else message.id[0])
    return result
