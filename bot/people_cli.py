"""`daiban people import FILE` and `daiban people invite NAME… | --pending` (人员名册与邀请码).

The office imports the staff roster (name, mobile, role, department, backup of whom);
people already known by mobile get the roster's roles added. Each person then gets a
one-time code to send to the bot as `/start CODE` from Telegram or WeCom.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from domain.reach import Reach
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
    codes, _ = await invite_many(db, [who], now)
    return codes


async def invite_many(
    db: Database, names: list[str], now: datetime, *, pending: bool = False
) -> tuple[list[tuple[Person, str]], list[str]]:
    """New one-time codes for the people named (by name or mobile) and, with `pending`,
    for every staff member not activated yet; each replaces the person's older codes.
    Returns the codes and the names that matched nobody."""
    async with UnitOfWork(db) as uow:
        found: dict[int, Person] = {}
        unknown = []
        for name in names:
            people = await uow.people.named(name.strip())
            if not people:
                unknown.append(name)
            found.update((p.id, p) for p in people)
        if pending:
            for person, reach, _ in await uow.people.unreached_staff():
                if reach is Reach.PENDING:
                    found.setdefault(person.id, person)
        codes = [(p, await issue_person_code(uow, p, now=now)) for p in found.values()]
        for person, _ in codes:
            await uow.events.append("person.invited", at=now, data={"person_id": person.id})
    return codes, unknown


async def invite_command(db: Database, names: list[str], *, pending: bool) -> int:
    """`daiban people invite NAME… | --pending`: print one line per code; the exit status
    (1 when a name matched nobody or there was nobody to invite)."""
    if not names and not pending:
        print("daiban: people invite needs names or mobiles, or --pending", file=sys.stderr)
        return 2
    codes, unknown = await invite_many(db, names, datetime.now(UTC), pending=pending)
    for name in unknown:
        print(
            f"daiban: nobody named {name!r} (or with that mobile) is on the roster",
            file=sys.stderr,
        )
    for person, code in codes:
        print(f"{person.name} ({person.mobile or '—'}): send the bot  /start {code}")
    if pending and not codes and not unknown:
        print("everyone on the roster has activated")
        return 0
    return 1 if unknown or not codes else 0


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
    return await invite_command(db, [target], pending=False)
