"""Importing the staff roster (人员名册导入) into the store: shared by `daiban people import`
and a roster file the office sends the bot in a direct chat."""

from __future__ import annotations

from datetime import datetime

from domain.roster import ROLES_WITH_DEPARTMENT, KnownPerson, RosterResult
from domain.scheme import Scheme
from handlers.i18n import N_, translate
from handlers.roster_messages import describe
from storage.models import Person
from storage.uow import UnitOfWork

STAFF_ROLES = ("butler", "specialist", "backup", "office", "leader")
SUMMARY = N_(
    "Roster imported: {created} new, {updated} updated; {refused} problems (rows not "
    "imported), {warnings} warnings."
)


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


async def apply_roster(
    uow: UnitOfWork, scheme: Scheme, result: RosterResult, now: datetime, source: str
) -> tuple[int, int]:
    """Create or update the roster's people and roles; (created, updated)."""
    created = updated = 0
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
        data={"file": source, "created": created, "updated": updated},
    )
    return created, updated


def import_lines(
    result: RosterResult, created: int, updated: int, scheme: Scheme, lang: str
) -> list[str]:
    """The summary, then one sentence per problem (row, column, fix)."""
    refused = len(result.refused)
    summary = translate(
        lang,
        SUMMARY,
        created=created,
        updated=updated,
        refused=refused,
        warnings=len(result.errors) - refused,
    )
    return [summary, *(describe(e, result.headers, scheme, lang) for e in result.errors)]


__all__ = ["apply_roster", "import_lines", "known_people"]
