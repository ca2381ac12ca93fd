"""`daiban people import FILE` and `daiban people invite NAME` (人员名册与邀请码).

The office imports the staff roster (name, mobile, role, department, backup of whom);
people already known by mobile get the roster's roles added. Each person then gets a
one-time code to send to the bot as `/start CODE` from Telegram or WeCom.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from domain.roster import RosterError, RowError, parse_roster
from domain.scheme import Scheme
from handlers.invites import issue_person_code
from storage.db import Database
from storage.models import Person
from storage.uow import UnitOfWork

ROLES_WITH_DEPARTMENT = {"specialist", "backup"}


@dataclass(frozen=True)
class ImportResult:
    """How an import went: people created, people updated, the rows refused."""

    created: int
    updated: int
    errors: tuple[RowError, ...]


async def import_roster(db: Database, scheme: Scheme, path: Path, now: datetime) -> ImportResult:
    """Create or update the people of a roster file; bad rows are reported, not imported."""
    result = parse_roster(path, scheme.departments, scheme.roles)
    created = updated = 0
    async with UnitOfWork(db) as uow:
        for known in scheme.departments:
            await uow.departments.ensure(known.id, known.name.zh, known.name.en)
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
            backed = people.get(entry.backup_of) if entry.backup_of else None
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
    return ImportResult(created, updated, result.errors)


async def invite(db: Database, who: str, now: datetime) -> list[tuple[Person, str]]:
    """One-time codes for the people named (or with this mobile); empty when nobody is."""
    async with UnitOfWork(db) as uow:
        found = await uow.people.named(who)
        codes = [(person, await issue_person_code(uow, person, now=now)) for person in found]
        for person, _ in codes:
            await uow.events.append("person.invited", at=now, data={"person_id": person.id})
    return codes


async def people_command(db: Database, scheme: Scheme, action: str, target: str) -> int:
    """Run `daiban people import FILE` or `daiban people invite NAME`; the exit status."""
    now = datetime.now(UTC)
    if action == "import":
        try:
            result = await import_roster(db, scheme, Path(target), now)
        except RosterError as exc:
            print(f"daiban: {exc}", file=sys.stderr)
            return 1
        print(f"roster imported: {result.created} new, {result.updated} updated")
        for error in result.errors:
            detail = ", ".join(f"{k}={v}" for k, v in error.detail.items())
            print(f"  row {error.row} {error.column}: {error.code} {detail}".rstrip())
        return 1 if result.errors else 0
    codes = await invite(db, target, now)
    if not codes:
        print(
            f"daiban: nobody named {target!r} (or with that mobile) is on the roster",
            file=sys.stderr,
        )
        return 1
    for person, code in codes:
        print(f"{person.name} ({person.mobile or '—'}): send the bot  /start {code}")
    return 0
