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

from bot.roster_messages import describe, describe_file
from domain.roster import (
    ROLES_WITH_DEPARTMENT,
    KnownPerson,
    RosterError,
    RosterResult,
    RowError,
    parse_roster,
)
from domain.scheme import Scheme
from handlers.i18n import N_, translate
from storage.db import Database
from storage.models import Person
from storage.uow import UnitOfWork

STAFF_ROLES = ("butler", "specialist", "backup", "office", "leader")


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


async def known_people(uow: UnitOfWork) -> list[KnownPerson]:
    """Staff already on the roster, whom a backup row may name."""
    seen: dict[int, KnownPerson] = {}
    for role in STAFF_ROLES:
        for person in await uow.people.with_role(role, active_only=False):
            if person.id in seen or not person.mobile:
                continue
            department = next(
                (
                    r.department.code
                    for r in await uow.people.roles_of(person.id)
                    if r.department is not None and r.role in ROLES_WITH_DEPARTMENT
                ),
                None,
            )
            seen[person.id] = KnownPerson(person.name, person.mobile, department)
    return list(seen.values())


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
    created = updated = 0
    async with UnitOfWork(db) as uow:
        for department in scheme.departments:
            await uow.departments.ensure(department.id, department.name.zh, department.name.en)
        people: dict[str, Person] = {}
        for entry in result.entries:
            person = await uow.people.by_mobile(entry.mobile)
            if person is None:
                person = await uow.people.add(entry.name, mobile=entry.mobile, now=now)
                created += 1
            else:
                person.name = entry.name
                updated += 1
            people[entry.mobile] = person
        for entry in result.entries:
            person = people[entry.mobile]
            backed = None
            if entry.backup_of:
                backed = people.get(entry.backup_of) or await uow.people.by_mobile(entry.backup_of)
            for role in entry.roles:
                department = entry.department if role in ROLES_WITH_DEPARTMENT else None
                await uow.people.add_role(
                    person.id,
                    role,
                    department,
                    backup_of_id=backed.id if role == "backup" and backed else None,
                )
        await uow.events.append(
            "roster.imported",
            at=now,
            data={"file": path.name, "created": created, "updated": updated},
        )
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
    headers = result.parsed.headers if result.parsed else {}
    refused = sum(1 for e in result.errors if not e.warning)
    warnings = len(result.errors) - refused
    if strict and result.errors:
        summary = N_(
            "Nothing imported (--strict): {refused} problems and {warnings} warnings to "
            "correct first."
        )
    else:
        summary = N_(
            "Roster imported: {created} new, {updated} updated; {refused} problems (rows "
            "not imported), {warnings} warnings."
        )
    print(
        translate(
            lang,
            summary,
            created=result.created,
            updated=result.updated,
            refused=refused,
            warnings=warnings,
        )
    )
    for error in result.errors:
        print("  " + describe(error, headers, scheme, lang))
    if strict and result.errors:
        return 1
    return 0 if result.imported or not result.errors else 1


__all__ = ["ImportResult", "import_command", "import_roster", "known_people"]
