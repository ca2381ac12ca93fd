"""`daiban people import FILE`, `daiban people template` and `daiban people invite NAME… |
--pending` (人员名册与邀请码).

The office imports the staff roster (bot/roster_import.py; a ready file from
bot/roster_template.py); people already known by mobile get the roster's roles added.
Each person then gets a one-time code to send to the bot as `/start CODE` from Telegram
or WeCom.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.roster_import import ImportResult, import_command, import_roster
from bot.roster_template import describe_written, write_template
from domain.reach import Reach
from domain.scheme import Scheme
from handlers.invites import issue_person_code
from storage.db import Database
from storage.models import Person
from storage.uow import UnitOfWork

__all__ = ["ImportResult", "import_roster", "invite", "people_command"]


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


async def people_command(
    db: Database,
    scheme: Scheme,
    action: str,
    target: str,
    *,
    strict: bool = False,
    lang: str = "zh_CN",
) -> int:
    """Run `daiban people import FILE`, `… template [FILE]` or `… invite NAME`; the exit
    status."""
    now = datetime.now(UTC)
    if action == "import":
        return await import_command(db, scheme, Path(target), now, strict=strict, lang=lang)
    if action == "template":
        print(describe_written(write_template(scheme, target or None, lang), lang))
        return 0
    return await invite_command(db, [target] if target else [], pending=False)
