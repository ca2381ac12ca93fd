"""A guard over the whole run (翻译守卫): no Chinese reader is shown an English message.

`tests/test_i18n.py` checks the ids that extraction finds. An id it cannot find (a string
inside an f-string, one chosen at run time without `N_`) would reach a Chinese reader in
English with every test green. So while the tests run, every `zh_CN` lookup of an id with
English words that the catalog does not hold is recorded, with the test that asked, and
the run fails at the end listing them. Chinese ids (scheme labels) pass through as they are.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

import handlers.i18n as i18n
from tests.needs import in_ci

ENGLISH = re.compile(r"[A-Za-z]{3,}")
PLACEHOLDER = re.compile(r"\{\w*\}")
MISSED: dict[str, str] = {}  # message id -> the first test that looked it up
_current = {"test": "(collection)"}
_catalog_lookup = i18n.translations


class _Watched:
    """A catalog whose misses for Chinese are recorded."""

    def __init__(self, catalog: Any, lang: str) -> None:
        self.catalog = catalog
        self.lang = lang

    def _note(self, message: str, out: str) -> None:
        # A pure format ("{code} {name}") may rightly translate to itself: ask the catalog.
        if self.lang != "zh_CN" or out != message or message in self.catalog._catalog:
            return
        if ENGLISH.search(PLACEHOLDER.sub("", message)):
            MISSED.setdefault(message, _current["test"])

    def gettext(self, message: str) -> str:
        out = self.catalog.gettext(message)
        self._note(message, out)
        return out

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        out = self.catalog.ngettext(singular, plural, n)
        self._note(singular if n == 1 else plural, out)
        return out


def _watched_translations(lang: str) -> _Watched:
    return _Watched(_catalog_lookup(lang), lang)


i18n.translations = _watched_translations  # type: ignore[assignment]


def pytest_runtest_setup(item: pytest.Item) -> None:
    _current["test"] = item.nodeid


def _print_untranslated(terminalreporter: Any) -> None:
    if not MISSED:
        return
    terminalreporter.section("untranslated for zh_CN", red=True)
    terminalreporter.line(
        "Shown to a Chinese reader in English (mark with N_ or move out of the f-string, "
        "then `daiban i18n update` and translate):"
    )
    for message, test in sorted(MISSED.items()):
        terminalreporter.line(f"  {message!r}  (first in {test})")


def _not_run(terminalreporter: Any) -> dict[str, int]:
    """Reasons of the tests skipped for a missing prerequisite (tests/needs.py), counted."""
    counts: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        counts[reason] = counts.get(reason, 0) + 1
    return counts


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any) -> None:
    _print_untranslated(terminalreporter)
    for reason, count in sorted(_not_run(terminalreporter).items()):
        terminalreporter.write_line(f"{count} test(s) {reason}", yellow=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if MISSED and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if in_ci() and reporter is not None and reporter.stats.get("skipped"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED  # CI=true: nothing may be skipped
