"""The escalation ladder (分级调度): typed rungs, their snapshot, and the climbing rule.

A project's ladder is copied from the scheme when it is accepted (DESIGN decision 3) and
stored as the snapshot's ``escalation`` list; `Ladder.from_snapshot` reads every snapshot
written so far (older ones lack the two acknowledgement fields: their defaults apply).

The rules, each counted in working days (`Ladder.standing`; schemes/README.md states them
for offices):
- a problem lists a project's overdue items; it stands on the highest rung whose
  threshold its *oldest* item's days overdue have crossed (`Ladder.rung_for_overdue`);
  a problem standing lower is raised to it;
- silence climbs at most one rung above that: once nobody has acknowledged the problem
  for the rung's ``ack_timeout_workdays`` — counted from the later of the day the oldest
  item crossed the rung's threshold, the day the problem reached the rung, and the day an
  acknowledgement ran out — it climbs to the next rung, and no further until the oldest
  item's lateness crosses the next threshold. So rung k+1 is reached no earlier than
  ``threshold(k) + ack_timeout(k)`` working days overdue, whatever nobody does;
- an acknowledgement holds both off until its ``ack_until`` day has passed
  (`acknowledgement_holds`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.calendar import WorkCalendar
from domain.scheme import EscalationLevel, Scheme

DEFAULT_ACK_TIMEOUT_WORKDAYS = 1
DEFAULT_ACK_SUPPRESSES_WORKDAYS = 2


@dataclass(frozen=True, slots=True)
class RungText:
    """A rung's text in both languages, as snapshotted."""

    zh: str
    en: str

    def text(self, lang: str) -> str:
        """English for ``en`` (Chinese when the snapshot has none), Chinese otherwise."""
        return (self.en if lang == "en" else self.zh) or self.zh

    @classmethod
    def from_snapshot(cls, raw: Mapping[str, Any]) -> RungText:
        return cls(str(raw.get("zh", "")), str(raw.get("en", "")))

    def to_snapshot(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


@dataclass(frozen=True, slots=True)
class Rung:
    """One level of a project's ladder: who dispatches, whom it tells, when it applies."""

    level: int
    name: RungText
    dispatcher: RungText
    notify_roles: tuple[str, ...]
    threshold_workdays_overdue: int
    ack_timeout_workdays: int = DEFAULT_ACK_TIMEOUT_WORKDAYS
    ack_suppresses_workdays: int = DEFAULT_ACK_SUPPRESSES_WORKDAYS

    @classmethod
    def from_snapshot(cls, raw: Mapping[str, Any]) -> Rung:
        return cls(
            level=int(raw["level"]),
            name=RungText.from_snapshot(raw["name"]),
            dispatcher=RungText.from_snapshot(raw["dispatcher"]),
            notify_roles=tuple(str(role) for role in raw["notify_roles"]),
            threshold_workdays_overdue=int(raw["threshold_workdays_overdue"]),
            ack_timeout_workdays=int(raw.get("ack_timeout_workdays", DEFAULT_ACK_TIMEOUT_WORKDAYS)),
            ack_suppresses_workdays=int(
                raw.get("ack_suppresses_workdays", DEFAULT_ACK_SUPPRESSES_WORKDAYS)
            ),
        )

    @classmethod
    def from_scheme(cls, level: EscalationLevel) -> Rung:
        return cls(
            level=level.level,
            name=RungText(level.name.zh, level.name.en),
            dispatcher=RungText(level.dispatcher.zh, level.dispatcher.en),
            notify_roles=tuple(level.notify_roles),
            threshold_workdays_overdue=level.threshold_workdays_overdue,
            ack_timeout_workdays=level.ack_timeout_workdays,
            ack_suppresses_workdays=level.ack_suppresses_workdays,
        )

    def to_snapshot(self) -> dict[str, Any]:
        # Key order as snapshots have always been written: equal ladders stay equal text.
        return {
            "level": self.level,
            "name": self.name.to_snapshot(),
            "dispatcher": self.dispatcher.to_snapshot(),
            "notify_roles": list(self.notify_roles),
            "threshold_workdays_overdue": self.threshold_workdays_overdue,
            "ack_timeout_workdays": self.ack_timeout_workdays,
            "ack_suppresses_workdays": self.ack_suppresses_workdays,
        }


@dataclass(frozen=True, slots=True)
class Ladder:
    """A project's rungs, lowest level first; never empty."""

    rungs: tuple[Rung, ...]

    def __post_init__(self) -> None:
        if not self.rungs:
            raise ValueError("a ladder needs at least one rung")
        levels = [rung.level for rung in self.rungs]
        if levels != sorted(set(levels)):
            raise ValueError(f"rungs must have distinct levels in ascending order: {levels}")

    @classmethod
    def of(cls, rungs: Iterable[Rung]) -> Ladder:
        """A ladder of these rungs, in level order."""
        return cls(tuple(sorted(rungs, key=lambda rung: rung.level)))

    @classmethod
    def from_scheme(cls, levels: Iterable[EscalationLevel]) -> Ladder:
        """The scheme's ladder, as a project accepted today would snapshot it."""
        return cls.of(Rung.from_scheme(level) for level in levels)

    @classmethod
    def from_snapshot(cls, raw: Sequence[Mapping[str, Any]]) -> Ladder:
        """The ladder of a snapshot's ``escalation`` list (any format written so far)."""
        return cls.of(Rung.from_snapshot(rung) for rung in raw)

    def to_snapshot(self) -> list[dict[str, Any]]:
        """The snapshot's ``escalation`` list (JSON-ready)."""
        return [rung.to_snapshot() for rung in self.rungs]

    @property
    def bottom(self) -> Rung:
        return self.rungs[0]

    @property
    def top(self) -> Rung:
        return self.rungs[-1]

    @property
    def levels(self) -> frozenset[int]:
        return frozenset(rung.level for rung in self.rungs)

    def rung_at(self, level: int) -> Rung:
        """The rung of ``level`` (the top one for a level the ladder does not have)."""
        for rung in self.rungs:
            if rung.level == level:
                return rung
        return self.top

    def rung_above(self, level: int) -> Rung | None:
        """The next rung up from ``level``, or None at the top."""
        return next((rung for rung in self.rungs if rung.level > level), None)

    def rung_for_overdue(self, workdays_overdue: int) -> Rung | None:
        """The highest rung whose threshold ``workdays_overdue`` has crossed; None while
        the item is not overdue or below every threshold."""
        if workdays_overdue <= 0:
            return None
        crossed = [r for r in self.rungs if r.threshold_workdays_overdue <= workdays_overdue]
        return crossed[-1] if crossed else None

    def raise_for_overdue(self, level: int, workdays_overdue: int) -> Rung | None:
        """The rung a problem at ``level`` must be raised to for its item's days overdue,
        or None when it already stands there or higher."""
        rung = self.rung_for_overdue(workdays_overdue)
        return rung if rung is not None and rung.level > level else None

    def standing(self, level: int, workdays_overdue: int, silent_workdays: int) -> Rung | None:
        """The rung a problem at ``level`` moves up to today, or None when it stays.

        ``workdays_overdue``: its oldest item's; ``silent_workdays``: how long it has waited
        unacknowledged at its level (`workdays_unacknowledged`). The caller checks first
        that no acknowledgement holds (`acknowledgement_holds`).
        """
        threshold = self.rung_for_overdue(workdays_overdue)
        if threshold is None or threshold.level < level:
            return None
        if threshold.level > level:
            return threshold
        since_crossed = workdays_overdue - threshold.threshold_workdays_overdue
        if min(since_crossed, silent_workdays) >= threshold.ack_timeout_workdays:
            return self.rung_above(level)
        return None

    def climb(self, level: int, workdays_unacknowledged: int) -> Rung | None:
        """The rung a problem at ``level`` climbs to after waiting this many working days
        unacknowledged, or None (its rung's timeout has not passed, or it is at the top)."""
        above = self.rung_above(level)
        if above is None or workdays_unacknowledged < self.rung_at(level).ack_timeout_workdays:
            return None
        return above


def project_ladder(escalation: Sequence[Mapping[str, Any]] | None, scheme: Scheme) -> Ladder:
    """A project's ladder: its snapshot's, or the live scheme's for a project whose
    snapshot has none (accepted before snapshots carried the ladder)."""
    if escalation:
        return Ladder.from_snapshot(escalation)
    return Ladder.from_scheme(scheme.escalation)


def ladders_by_project(
    escalations: Mapping[int, Sequence[Mapping[str, Any]] | None], scheme: Scheme
) -> dict[int, Ladder]:
    """`project_ladder` for many projects; one list object shared by several projects
    (equal snapshots, as `DueRepo.ladders` returns them) is read once."""
    read: dict[int, Ladder] = {}
    out: dict[int, Ladder] = {}
    for project_id, escalation in escalations.items():
        key = id(escalation)
        if key not in read:
            read[key] = project_ladder(escalation, scheme)
        out[project_id] = read[key]
    return out


def acknowledgement_holds(state: str, ack_until: date | None, today: date) -> bool:
    """An acknowledged problem is not raised by itself until ``ack_until`` has passed."""
    return state == "acked" and ack_until is not None and today <= ack_until


def workdays_unacknowledged(
    raised_on: date, ack_until: date | None, today: date, calendar: WorkCalendar
) -> int:
    """Working days a problem raised on ``raised_on`` has waited unacknowledged at its
    level; an acknowledgement that ran out restarts the wait from its last day."""
    since = ack_until if ack_until is not None and ack_until > raised_on else raised_on
    return calendar.workdays_between(since, today)


__all__ = [
    "Ladder",
    "Rung",
    "RungText",
    "acknowledgement_holds",
    "ladders_by_project",
    "project_ladder",
    "workdays_unacknowledged",
]
