"""`daiban people import FILE [--strict]` (人员名册导入): the roster into the store.

Every valid row is imported, rows with warnings too; each problem is printed as a
sentence naming the row, the column and the fix. The exit status is 0 when anything
was imported, 1 when nothing could be; with ``--strict`` any problem imports nothing
and exits 1, so an office can check a file first.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from domain.roster import (
    RosterError,
    RosterResult,
    RowError,
    parse_roster,
)
from domain.scheme import Scheme
from handlers.i18n import N_, translate
from handlers.roster_import import apply_roster, import_lines, known_people
from handlers.roster_messages import describe_file
from storage.db import Database
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class ImportResult:
    """How an import went: people created, people updated, the problems (errors and
    warnings), and the file's headers to name the columns by."""

    created: int
    updated: int
    errors: tuple[RowError, ...]
    parsed: RosterResult | None = None

    @property
    def imported(self) -> int:
        return self.created + self.updated


async def import_roster(
    db: Database, scheme: Scheme, path: Path, now: datetime, *, strict: bool = False
) -> ImportResult:
    """Create or update the people of a roster file; bad rows are reported, not imported
    (with `strict`, nothing is imported when any row has a problem)."""
    async with UnitOfWork(db) as uow:
        known = await known_people(uow)
    result = parse_roster(path, scheme.departments, scheme.roles, known)
    if strict and result.errors:
        return ImportResult(0, 0, result.errors, result)
    async with UnitOfWork(db) as uow:
        created, updated = await apply_roster(uow, scheme, result, now, path.name)
    return ImportResult(created, updated, result.errors, result)


async def import_command(
    db: Database, scheme: Scheme, path: Path, now: datetime, *, strict: bool, lang: str
) -> int:
    """Run the import, print what happened in `lang`; the exit status."""
    try:
        result = await import_roster(db, scheme, path, now, strict=strict)
    except RosterError as exc:
        print(f"daiban: {describe_file(exc, path.name, lang)}", file=sys.stderr)
        return 1
    parsed = result.parsed or RosterResult((), result.errors)
    if strict and result.errors:
        refused = len(parsed.refused)
        print(
            translate(
                lang,
                N_(
                    "Nothing imported (--strict): {refused} problems and {warnings} warnings "
                    "to correct first."
                ),
                refused=refused,
                warnings=len(result.errors) - refused,
            )
        )
        for line in import_lines(parsed, 0, 0, scheme, lang)[1:]:
            print("  " + line)
    else:
        summary, *problems = import_lines(parsed, result.created, result.updated, scheme, lang)
        print(summary)
        for line in problems:
            print("  " + line)
    if strict and result.errors:
        return 1
    return 0 if result.imported or not result.errors else 1


__all__ = ["ImportResult", "import_command", "import_roster"]
