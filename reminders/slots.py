"""Due slots of periodic jobs (定期任务的补发): on their day, or late after downtime.

A weekly list, a monthly report or a rating round is due on its working day. If the bot was
down that day, it goes out when the bot runs again (in working hours), once, marked as
late; but only if the bot was already in service before that day, so a new installation
does not send reports of periods it never covered. The claim in `job_runs` keeps each
slot single, whichever replica or tick gets to it first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from handlers.context import Services
from handlers.i18n import N_, gettext
from reminders.stalled_forms import in_working_hours
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Slot:
    """One period of a periodic job that is due now; ``late`` when its day has passed."""

    period: str
    due: date
    late: bool


def due_slots(services: Services, at: datetime, scheduled: list[tuple[str, date]]) -> list[Slot]:
    """Of ``(period, scheduled day)`` pairs, oldest first, those due now: in working hours,
    on or after the scheduled day (moved to the next working day when it is not one)."""
    if not in_working_hours(services, at):
        return []
    today = at.astimezone(services.timezone).date()
    slots = []
    for period, day in scheduled:
        due = services.calendar.next_workday(day)
        if due <= today:
            slots.append(Slot(period, due, late=due < today))
    return slots


async def in_service_before(uow: UnitOfWork, services: Services, day: date) -> bool:
    """Whether the bot ran any job before ``day`` began (local time)."""
    first = await uow.jobs.first_run_at()
    return first is not None and first < datetime.combine(day, time(0), services.timezone)


def late_note(lang: str, due: date) -> str:
    """The line that marks a message sent late."""
    return gettext(
        lang, N_("Sent late: this was due on {day}, while the bot was not running.")
    ).format(day=due.isoformat())


__all__ = ["Slot", "due_slots", "in_service_before", "late_note"]
