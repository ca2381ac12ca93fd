"""Report periods (报表期间): an ISO week ``2026-W48``, a month ``2026-11``, a quarter
``2026Q4``; their first and last days, and the period a day falls in."""

from __future__ import annotations

import re
from datetime import date, timedelta

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


class PeriodError(ValueError):
    """A period that is not 2026-W48, 2026-11 or 2026Q4 (or not of the report's kind)."""


def period_bounds(kind: str, period: str) -> tuple[date, date]:
    """First and last day of a period: ``2026-W48`` (ISO week), ``2026-11``, ``2026Q4``."""
    try:
        if kind == "weekly" and (m := _WEEK.match(period)):
            first = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
            return first, first + timedelta(days=6)
        if kind == "monthly" and (m := _MONTH.match(period)):
            first = date(int(m.group(1)), int(m.group(2)), 1)
            return first, _month_end(first)
        if kind == "quarterly" and (m := _QUARTER.match(period)):
            first = date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
            return first, _month_end(date(first.year, first.month + 2, 1))
    except ValueError:
        pass
    examples = {"weekly": "2026-W48", "monthly": "2026-11", "quarterly": "2026Q4"}
    raise PeriodError(f"{kind} periods look like {examples.get(kind, '2026-11')}, not {period!r}")


def period_of(kind: str, day: date) -> str:
    """The period of ``kind`` that contains ``day``."""
    if kind == "weekly":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "monthly":
        return f"{day.year}-{day.month:02d}"
    if kind == "quarterly":
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def _month_end(first: date) -> date:
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


__all__ = ["PeriodError", "period_bounds", "period_of"]
