"""The working-day calendar (工作日): official days off and make-up working days (调休).

Every statutory limit and escalation threshold is counted through one `WorkCalendar`.
Official data comes from the ``chinese_calendar`` package, which knows 2004–2026; a
deployment can add later years and local holidays in an override file.

Counting rule (民法典 第二百零一条: the day a period starts is not counted, counting
begins the next day): ``add_workdays(start, n)`` for ``n >= 1`` is the n-th working day
strictly after ``start``, whether or not ``start`` is itself a working day; an
application accepted on Sunday has Monday as day 1. ``add_workdays(start, 0)`` is
``start``; ``n < 0`` is the |n|-th working day strictly before ``start``.
``workdays_between(a, b)`` counts working days in ``(a, b]`` (negated for ``b < a``),
so ``workdays_between(a, add_workdays(a, n)) == n`` for every ``n >= 0``, and for
``n < 0`` whenever ``a`` is a working day (due dates always are).

Years nobody has defined are counted Monday–Friday and reported as provisional
(`DueDate.provisional`, `is_provisional`), never as official.

Override file (YAML)::

    # A deployment adds next year's schedule the day the State Council publishes it.
    years: [2027]     # years this file fully defines (weekends + these lists are authoritative)
    holidays:         # days off that would otherwise be working days
      - 2027-01-01
      - {from: 2027-02-06, to: 2027-02-14, name: 春节}
    workdays:         # make-up working days (调休) on weekends
      - 2027-02-20

Each list entry is a date, ``{date: D, name: N}`` or ``{from: D, to: D, name: N}``.
Entries win over the package day by day, in any year, so a local holiday in 2026 is
just a ``holidays`` entry; a ``workdays`` entry on a weekday cancels a holiday.
Listing a year under ``years`` only marks it as official (no longer provisional).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from os import PathLike
from pathlib import Path

import chinese_calendar
import yaml

__all__ = [
    "CalendarError",
    "CalendarOverrides",
    "DueDate",
    "WorkCalendar",
    "load_overrides",
    "parse_overrides",
]

_MAX_ORDINAL = date.max.toordinal()
# Nobody takes a holiday longer than a year; a longer range is a typo in a year.
_MAX_RANGE_DAYS = 366
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


class CalendarError(ValueError):
    """An override file that cannot be read or is malformed."""


@dataclass(frozen=True)
class CalendarOverrides:
    """Local additions to the official calendar, parsed from an override file."""

    years: frozenset[int] = frozenset()
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    names: Mapping[date, str] = field(default_factory=dict, compare=False)
    source: str = field(default="<string>", compare=False)


@dataclass(frozen=True)
class DueDate:
    """A computed deadline; `provisional` when it relies on an undefined year."""

    on: date
    provisional: bool


class WorkCalendar:
    """Official working days with 调休, plus local overrides; immutable once built."""

    def __init__(self, overrides: CalendarOverrides | None = None) -> None:
        overrides = overrides or CalendarOverrides()
        package_years = {d.year for d in chinese_calendar.holidays}
        self._known_years = frozenset(package_years | overrides.years)
        # Only days that differ from plain Monday–Friday are stored (ordinal -> workday?).
        special: dict[int, bool] = {}
        self._mark(special, chinese_calendar.holidays, workday=False)
        self._mark(special, chinese_calendar.workdays, workday=True)
        self._mark(special, overrides.holidays, workday=False)
        self._mark(special, overrides.workdays, workday=True)
        self._special = special
        # Prefix sums of the corrections make any span O(log n), not a day loop.
        self._special_ordinals = sorted(special)
        self._prefix = [0]
        for ordinal in self._special_ordinals:
            self._prefix.append(self._prefix[-1] + (1 if special[ordinal] else -1))

    @staticmethod
    def _mark(special: dict[int, bool], days: Iterable[date], *, workday: bool) -> None:
        for day in days:
            ordinal = day.toordinal()
            if (day.weekday() < 5) == workday:
                special.pop(ordinal, None)
            else:
                special[ordinal] = workday

    @property
    def known_years(self) -> frozenset[int]:
        """Years defined officially, by the package or by an override file."""
        return self._known_years

    def is_known(self, d: date) -> bool:
        """Whether `d` falls in a year whose schedule is officially defined."""
        return d.year in self._known_years

    def is_provisional(self, d: date) -> bool:
        """Whether `d` falls in a year counted Monday–Friday for lack of a schedule."""
        return not self.is_known(d)

    def is_workday(self, d: date) -> bool:
        """Whether `d` is a working day."""
        workday = self._special.get(d.toordinal())
        return d.weekday() < 5 if workday is None else workday

    def next_workday(self, d: date, include_today: bool = True) -> date:
        """The first working day on or after `d` (strictly after if not include_today)."""
        if include_today and self.is_workday(d):
            return date.fromordinal(d.toordinal())
        return self.add_workdays(d, 1)

    def add_workdays(self, start: date, n: int) -> date:
        """The n-th working day strictly after `start` (before it for n < 0)."""
        ordinal = start.toordinal()
        if n == 0:
            return date.fromordinal(ordinal)
        # Backwards, the target is the working day leaving |n| working days in [it, start).
        target = self._rank(ordinal) + n if n > 0 else self._rank(ordinal - 1) + n + 1
        return date.fromordinal(self._first_at_rank(target, ordinal))

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative of (end, start] when end < start."""
        return self._rank(end.toordinal()) - self._rank(start.toordinal())

    def due_date(self, start: date, n: int) -> DueDate:
        """`add_workdays(start, n)`, flagged provisional if it crosses an undefined year."""
        on = self.add_workdays(start, n)
        first, last = sorted((start.toordinal(), on.toordinal()))
        if first == last:
            return DueDate(on, provisional=False)
        # The counted days are (start, on] or [on, start): the start day itself never counts.
        if on > start:
            first += 1
        else:
            last -= 1
        years = range(date.fromordinal(first).year, date.fromordinal(last).year + 1)
        return DueDate(on, provisional=any(y not in self._known_years for y in years))

    def _rank(self, ordinal: int) -> int:
        """Working days in [0001-01-01, ordinal]; 0001-01-01 is a Monday."""
        weeks, rest = divmod(ordinal, 7)
        correction = self._prefix[bisect_right(self._special_ordinals, ordinal)]
        return weeks * 5 + min(rest, 5) + correction

    def _first_at_rank(self, target: int, near: int) -> int:
        """The smallest ordinal whose rank reaches `target`: a working day."""
        step = abs(target - self._rank(near)) * 7 // 5 + 8
        if self._rank(near) >= target:
            hi, lo = near, near - step
            while lo > 0 and self._rank(lo) >= target:
                step *= 2
                lo = near - step
            if lo <= 0:
                lo = 0  # rank(0) is 0: no day precedes 0001-01-01
                if target <= 0:
                    raise OverflowError("working day before 0001-01-01")
        else:
            lo, hi = near, near + step
            while hi < _MAX_ORDINAL and self._rank(hi) < target:
                step *= 2
                hi = near + step
            hi = min(hi, _MAX_ORDINAL)
            if self._rank(hi) < target:
                raise OverflowError("working day after 9999-12-31")
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._rank(mid) >= target:
                hi = mid
            else:
                lo = mid
        return hi


def load_overrides(path: str | PathLike[str]) -> CalendarOverrides:
    """Read and parse an override file; unreadable or malformed files raise CalendarError."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarError(f"{source}: cannot read override file: {exc}") from exc
    return parse_overrides(text, source=source)


class _Loader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so a bad date is reported with its entry."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_overrides(text: str, source: str = "<string>") -> CalendarOverrides:
    """Parse override YAML (format in the module docstring); errors name source and entry."""
    try:
        document = yaml.load(text, Loader=_Loader)  # safe: _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        raise CalendarError(f"{source}: not valid YAML: {exc}") from exc
    if document is None:
        return CalendarOverrides(source=source)
    if not isinstance(document, dict):
        raise CalendarError(f"{source}: expected a mapping with years/holidays/workdays")
    unknown = sorted(str(key) for key in document if key not in ("years", "holidays", "workdays"))
    if unknown:
        raise CalendarError(
            f"{source}: unknown key(s) {', '.join(unknown)}; expected years, holidays, workdays"
        )
    names: dict[date, str] = {}
    years = _parse_years(document.get("years"), source)
    holidays = _parse_days(document.get("holidays"), "holidays", source, names)
    workdays = _parse_days(document.get("workdays"), "workdays", source, names)
    both = sorted(holidays & workdays)
    if both:
        raise CalendarError(
            f"{source}: {both[0].isoformat()} is listed both as a holiday and as a workday"
        )
    return CalendarOverrides(years, frozenset(holidays), frozenset(workdays), names, source)


def _parse_years(raw: object, source: str) -> frozenset[int]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list):
        raise CalendarError(f"{source}: years: expected a list like [2027], got {raw!r}")
    years: set[int] = set()
    for index, year in enumerate(raw):
        if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
            raise CalendarError(f"{source}: years[{index}]: {year!r} is not a year")
        years.add(year)
    return frozenset(years)


def _parse_days(raw: object, key: str, source: str, names: dict[date, str]) -> set[date]:
    if raw is None:
        return set()
    if not isinstance(raw, list):
        raise CalendarError(f"{source}: {key}: expected a list of dates, got {raw!r}")
    days: set[date] = set()
    for index, entry in enumerate(raw):
        where = f"{source}: {key}[{index}]: {entry!r}"
        first, last, name = _parse_entry(entry, where)
        span = (last - first).days
        if span < 0:
            raise CalendarError(f"{where}: 'to' is before 'from'")
        if span >= _MAX_RANGE_DAYS:
            raise CalendarError(f"{where}: a range of {span + 1} days is surely a typo")
        for offset in range(span + 1):
            day = first + timedelta(days=offset)
            days.add(day)
            if name:
                names[day] = name
    return days


def _parse_entry(entry: object, where: str) -> tuple[date, date, str | None]:
    if not isinstance(entry, dict):
        day = _parse_date(entry, where)
        return day, day, None
    keys = set(entry)
    name = entry.get("name")
    if name is not None and not isinstance(name, str):
        raise CalendarError(f"{where}: 'name' must be text")
    if keys == {"date"} or keys == {"date", "name"}:
        day = _parse_date(entry["date"], where)
        return day, day, name
    if keys == {"from", "to"} or keys == {"from", "to", "name"}:
        return _parse_date(entry["from"], where), _parse_date(entry["to"], where), name
    raise CalendarError(f"{where}: expected a date, {{date, name}} or {{from, to, name}}")


def _parse_date(value: object, where: str) -> date:
    match = _ISO_DATE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise CalendarError(f"{where}: {value!r} is not a date like 2027-01-01")
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError as exc:
        raise CalendarError(f"{where}: {value!r} is not a valid date ({exc})") from exc
