"""Rating rounds (考评轮次): which period a day belongs to and when its round is open.

A round asks for the ratings of one period (``2026-11``, ``2026Q4`` or ``2026``, by the
scheme's ``rating_cycle``). It opens on the period's first working day at the start of
working hours and stays open until the period ends; a "Rate" button is only honoured
while the round of its period is open.
"""

from __future__ import annotations

from datetime import date, datetime, time

from domain.calendar import WorkCalendar
from domain.scheme import RatingCycle


def rating_period(cycle: RatingCycle, day: date) -> str:
    """The rating period containing ``day``: ``2026-11``, ``2026Q4`` or ``2026``."""
    if cycle == RatingCycle.MONTHLY:
        return f"{day.year}-{day.month:02d}"
    if cycle == RatingCycle.QUARTERLY:
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def period_start(cycle: RatingCycle, day: date) -> date:
    """The first day of the rating period containing ``day``."""
    if cycle == RatingCycle.MONTHLY:
        return day.replace(day=1)
    if cycle == RatingCycle.QUARTERLY:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, 1, 1)


def open_round(
    cycle: RatingCycle, calendar: WorkCalendar, local_now: datetime, opens_at: time
) -> str | None:
    """The period whose round is open at ``local_now`` (the office's wall clock), or None
    before this period's round has opened."""
    today = local_now.date()
    first = calendar.next_workday(period_start(cycle, today))
    if today < first or (today == first and local_now.time() < opens_at):
        return None
    return rating_period(cycle, today)
