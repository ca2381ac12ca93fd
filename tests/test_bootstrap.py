"""Services built once (issue 15): `bot/app.py` is the one bootstrap, and every command
that works on the store (the running bot, `daiban jobs`, `report`, `people`, `archive`,
`export`) gets its services there, so all read the configuration the same way."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import build_services
from bot.config import ConfigError, load_settings
from domain.clock import FakeClock

ROOT = Path(__file__).resolve().parents[1]
BOOTSTRAP = ROOT / "bot" / "app.py"
# What only the bootstrap builds: the services and the pieces it wires into them. (Loading
# a scheme is not among them: `daiban scheme check FILE` validates any scheme file.)
WIRED = {"Services", "Database", "WorkCalendar", "build_router", "SystemClock"}


def builds(source: str) -> list[str]:
    """The calls in `source` that build what only the bootstrap may build."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in WIRED:
                found.append(f"line {node.lineno}: {name}(…)")
    return found


def test_only_the_bootstrap_builds_services() -> None:
    wrong = {
        str(path.relative_to(ROOT)): found
        for package in ("bot", "handlers", "reminders")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != BOOTSTRAP and (found := builds(path.read_text(encoding="utf-8")))
    }
    assert wrong == {}
    assert builds(BOOTSTRAP.read_text(encoding="utf-8")), "the bootstrap itself builds them"


def test_the_rule_catches_services_built_by_hand() -> None:
    source = "services = Services(db=Database(url), router=build_router())\n"
    assert builds(source) == [
        "line 1: Services(…)",
        "line 1: Database(…)",
        "line 1: build_router(…)",
    ]


def test_services_follow_the_settings(tmp_path: Path) -> None:
    holidays = tmp_path / "holidays.yaml"
    holidays.write_text("years: [2027]\nholidays:\n  - 2027-01-04\n", encoding="utf-8")
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}",
        scheme="jinniu",
        timezone="Asia/Urumqi",
        holidays_file=holidays,
    )
    clock = FakeClock(datetime(2027, 1, 4, 9, tzinfo=UTC))
    services = build_services(settings, clock=clock)
    assert services.scheme.id == "jinniu"
    assert services.timezone == ZoneInfo("Asia/Urumqi")
    assert services.clock is clock
    assert not services.calendar.is_workday(date(2027, 1, 4)), "the local holiday is known"
    assert services.calendar.is_workday(date(2027, 1, 5))


def test_an_unusable_scheme_names_its_variable() -> None:
    with pytest.raises(ConfigError, match="DAIBAN_SCHEME"):
        build_services(load_settings(scheme="no-such-scheme"))
