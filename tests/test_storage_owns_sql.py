"""Storage owns its SQL (issue 15): above storage/, a module reaches the database only
through the repositories of the unit of work, never through its session or SQLAlchemy's
query builders."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ABOVE_STORAGE = ("handlers", "reminders", "bot")
# Parsing a database URL (for a log line or a file path) is not SQL.
ALLOWED_FROM_SQLALCHEMY = {"make_url"}


def _names_uow(node: ast.expr) -> bool:
    """`uow`, `self.uow`, `ctx.uow`, `work_uow`…: an expression that names a unit of work."""
    if isinstance(node, ast.Name):
        return node.id.lower().endswith("uow")
    if isinstance(node, ast.Attribute):
        return node.attr.lower().endswith("uow")
    return False


def violations(source: str) -> list[str]:
    """What in `source` goes around the repositories, one line each, in line order."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "session" and _names_uow(node.value):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name.split(".")[0] == "sqlalchemy"
            ]
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.split(".")[0] == "sqlalchemy"
        ):
            found += [
                f"line {node.lineno}: from {node.module} import {alias.name}"
                for alias in node.names
                if alias.name not in ALLOWED_FROM_SQLALCHEMY
            ]
    return sorted(found, key=lambda line: int(line.split(":")[0].removeprefix("line ")))


@pytest.mark.parametrize("package", ABOVE_STORAGE)
def test_no_module_above_storage_touches_the_session_or_builds_sql(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): found
        for path in sorted((ROOT / package).rglob("*.py"))
        if (found := violations(path.read_text(encoding="utf-8")))
    }
    assert wrong == {}


def test_the_rule_catches_each_way_around_the_repositories() -> None:
    source = (
        "from sqlalchemy import make_url, select\n"
        "import sqlalchemy.orm\n"
        "async def f(uow, ctx):\n"
        "    await uow.session.execute(select(1))\n"
        "    session = ctx.uow.session\n"
        "    bot.session.close()  # an HTTP client's session is not the database's\n"
    )
    assert violations(source) == [
        "line 1: from sqlalchemy import select",
        "line 2: import sqlalchemy.orm",
        "line 4: uow.session",
        "line 5: ctx.uow.session",
    ]
