"""`daiban people import FILE`, `daiban people template` and `daiban people invite NAME`
(人员名册与邀请码).

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
from domain.scheme import Scheme
from handlers.invites import issue_person_code
from storage.db import Database
from storage.models import Person
from storage.uow import UnitOfWork

__all__ = ["ImportResult", "import_roster", "invite", "people_command"]


async def invite(db: Database, who: str, now: datetime) -> list[tuple[Person, str]]:
    """One-time codes for the people named (or with this mobile); empty when nobody is."""
    async with UnitOfWork(db) as uow:
        found = await uow.people.named(who)
        codes = [(person, await issue_person_code(uow, person, now=now)) for person in found]
        for person, _ in codes:
            await uow.events.append("person.invited", at=now, data={"person_id": person.id})
    return codes


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
