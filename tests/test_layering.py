"""The house rules of DESIGN.md, enforced: an import may only point down the layers,
and only bot/transports/ knows that a messenger exists."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"domain", "storage", "handlers", "reminders", "bot"}
MESSENGERS = {"aiogram", "telegram", "wecom"}

FORBIDDEN = {
    "domain": OURS - {"domain"} | MESSENGERS | {"sqlalchemy", "alembic", "aiosqlite", "asyncpg"},
    "storage": {"handlers", "reminders", "bot"} | MESSENGERS,
    "handlers": {"reminders", "bot"} | MESSENGERS,
    "reminders": {"bot"} | MESSENGERS,
    "bot": set(),
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_only_point_down(package):
    wrong = {
        str(path.relative_to(ROOT)): sorted(imports_of(path) & FORBIDDEN[package])
        for path in modules(package)
    }
    assert {k: v for k, v in wrong.items() if v} == {}


def test_only_transports_know_a_messenger():
    outside = [
        str(path.relative_to(ROOT))
        for package in OURS
        for path in modules(package)
        if imports_of(path) & MESSENGERS and "transports" not in path.parts
    ]
    assert outside == []


def test_the_rule_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from bot.app import App\nimport aiogram.types\n", encoding="utf-8")
    assert imports_of(bad) & FORBIDDEN["domain"] == {"bot", "aiogram"}
