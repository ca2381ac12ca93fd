"""Who cannot be reached (无法联系的人员), as a section of the office's weekly list.

Kept apart from handlers/period_report.py so the weekly list only calls it: staff who never
activated (未激活) and those whose messenger refuses our messages (无法联系), with the day
of their last code or of the refusal, and their backup.
"""

from __future__ import annotations

from domain.reach import Reach
from handlers.context import Services
from handlers.i18n import N_, translate
from storage.uow import UnitOfWork

REACH_LABELS = {Reach.PENDING: N_("not activated"), Reach.UNREACHABLE: N_("unreachable")}


async def unreached_section(
    uow: UnitOfWork, services: Services, lang: str
) -> tuple[str, list[str], list[list[str | int]]]:
    """(title, header, rows) of the staff who cannot be reached, for a report section."""

    def t(msgid: str, **params: object) -> str:
        return translate(lang, msgid, **params)

    unreached = await uow.people.unreached_staff()
    invited = await uow.invites.last_person_codes([p.id for p, _, _ in unreached])
    rows: list[list[str | int]] = []
    for person, reach, since in unreached:
        when = since if reach is Reach.UNREACHABLE else invited.get(person.id)
        backups = "、".join(b.name for b in await uow.people.backups_of(person.id)) or "—"
        rows.append(
            [
                person.name,
                person.mobile or "—",
                t(REACH_LABELS[reach]),
                when.astimezone(services.timezone).date().isoformat() if when else "—",
                backups,
            ]
        )
    header = [
        t(N_("Name")),
        t(N_("Mobile")),
        t(N_("Status")),
        t(N_("Since (last code)")),
        t(N_("Backup")),
    ]
    return t(N_("Not activated or unreachable")), header, rows


__all__ = ["unreached_section"]
