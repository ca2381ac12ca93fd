"""An approval item's life (事项状态) and its working-day clock, including the 补正 pause.

States and moves (the full table is `TRANSITIONS`):

- not_started --submit (受理)--> submitted --start_review--> in_review (办理中)
- submitted / in_review --request_correction--> correction_needed (补正)
- correction_needed --accept_correction (重新受理)--> in_review
- submitted / in_review --complete--> done (办结); a 即办件 needs no separate review
- any open state --mark_not_applicable--> not_applicable
- done / not_applicable --reopen--> in_review

The table `TRANSITIONS` is the single source: who may do what from where. The responsible
specialist, their backup and the butler move items; dropping an item from the project
(not_applicable) changes the plan's scope, so only the butler and the office may; only
the butler may reopen a closed item. Reopening and marking not applicable need a reason
for the work log; a 补正 request needs one too: what is missing, told to the enterprise.

The clock (DOMAIN.md "Time"): the due date before 受理 is the planned one; 受理 on S sets
``due = S + limit`` working days. 补正 requested on P stops the clock (a paused item is
never overdue). When corrected materials are accepted on R the clock runs again under
one of two rules:

- ``restart`` (default): the period is counted afresh from R, ``due = R + limit``.
  Reason: 《行政许可法》第三十二条 makes the period of an application start on the day the
  complete materials are accepted; a 补正 means they were not complete, so re-acceptance
  (重新受理) starts the full statutory period again.
- ``resume``: the working days left at P (``workdays_between(P, due)``, negative when it
  was already overdue) continue from R, for a scheme that promises a shorter clock.

A reopened item keeps the due date it had (reopening corrects a mistaken close; the
butler re-dates with /plan if needed); an item closed before it ever started starts its
clock on the reopening day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any

from domain.calendar import WorkCalendar
from domain.planning import PlannedItem, due_after

__all__ = [
    "OPEN_STATES",
    "TRANSITIONS",
    "Action",
    "CorrectionClock",
    "ItemState",
    "Refusal",
    "Status",
    "Transition",
    "apply_action",
    "is_due_soon",
    "legal_actions",
    "workdays_late",
    "workdays_overdue",
]


class Status(StrEnum):
    """Where an item stands (事项状态)."""

    NOT_STARTED = "not_started"
    SUBMITTED = "submitted"  # 受理
    IN_REVIEW = "in_review"  # 办理中
    CORRECTION_NEEDED = "correction_needed"  # 补正
    DONE = "done"  # 办结
    NOT_APPLICABLE = "not_applicable"


OPEN_STATES = frozenset(
    {Status.NOT_STARTED, Status.SUBMITTED, Status.IN_REVIEW, Status.CORRECTION_NEEDED}
)
"""States in which the item is still to be handled."""


class Action(StrEnum):
    """What someone does to an item (a button under the item's card, or a command)."""

    SUBMIT = "submit"  # 受理: the department accepts the application
    START_REVIEW = "start_review"  # 办理中
    REQUEST_CORRECTION = "request_correction"  # 补正: materials must be corrected
    ACCEPT_CORRECTION = "accept_correction"  # 重新受理: corrected materials accepted
    COMPLETE = "complete"  # 办结
    MARK_NOT_APPLICABLE = "mark_not_applicable"
    REOPEN = "reopen"


class CorrectionClock(StrEnum):
    """How the clock runs again after 补正 (see the module docstring)."""

    RESTART = "restart"
    RESUME = "resume"


@dataclass(frozen=True)
class Transition:
    """One legal move: from a state, by an action, to a state, by some roles."""

    source: Status
    action: Action
    target: Status
    roles: frozenset[str]
    needs_reason: bool = False


_MOVERS = frozenset({"specialist", "backup", "butler"})
_SCOPE = frozenset({"butler", "office"})
_BUTLER = frozenset({"butler"})

TRANSITIONS: Mapping[tuple[Status, Action], Transition] = {
    (t.source, t.action): t
    for t in (
        Transition(Status.NOT_STARTED, Action.SUBMIT, Status.SUBMITTED, _MOVERS),
        Transition(Status.SUBMITTED, Action.START_REVIEW, Status.IN_REVIEW, _MOVERS),
        # 补正 says what is missing: the enterprise is told it all at once (一次性告知).
        *(
            Transition(s, Action.REQUEST_CORRECTION, Status.CORRECTION_NEEDED, _MOVERS, True)
            for s in (Status.SUBMITTED, Status.IN_REVIEW)
        ),
        Transition(Status.CORRECTION_NEEDED, Action.ACCEPT_CORRECTION, Status.IN_REVIEW, _MOVERS),
        # A 即办件 is done on the spot: 受理 then 办结, no separate review.
        Transition(Status.SUBMITTED, Action.COMPLETE, Status.DONE, _MOVERS),
        Transition(Status.IN_REVIEW, Action.COMPLETE, Status.DONE, _MOVERS),
        *(
            Transition(s, Action.MARK_NOT_APPLICABLE, Status.NOT_APPLICABLE, _SCOPE, True)
            for s in (
                Status.NOT_STARTED,
                Status.SUBMITTED,
                Status.IN_REVIEW,
                Status.CORRECTION_NEEDED,
            )
        ),
        Transition(Status.DONE, Action.REOPEN, Status.IN_REVIEW, _BUTLER, True),
        Transition(Status.NOT_APPLICABLE, Action.REOPEN, Status.IN_REVIEW, _BUTLER, True),
    )
}
"""(state, action) → the transition; anything not listed is illegal."""


@dataclass(frozen=True)
class ItemState:
    """An item's state and clock. ``due_on`` is the planned due date until 受理, then the
    statutory one; ``paused_on`` is set exactly while 补正 is pending; ``started_on`` is the
    first 受理; ``corrections`` counts 补正 requests."""

    state: Status
    limit_workdays: int
    due_on: date | None = None
    provisional: bool = False
    started_on: date | None = None
    paused_on: date | None = None
    corrections: int = 0
    done_on: date | None = None

    @classmethod
    def planned(cls, item: PlannedItem) -> ItemState:
        """A not-yet-started item on its planned due date."""
        return cls(Status.NOT_STARTED, item.limit_workdays, item.due_on, item.provisional)

    @property
    def is_open(self) -> bool:
        """Whether the item is still to be handled."""
        return self.state in OPEN_STATES

    @property
    def is_paused(self) -> bool:
        """Whether the clock is stopped for 补正."""
        return self.paused_on is not None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: dates as ISO strings or null."""
        return {
            "state": self.state.value,
            "limit_workdays": self.limit_workdays,
            "due_on": _iso(self.due_on),
            "provisional": self.provisional,
            "started_on": _iso(self.started_on),
            "paused_on": _iso(self.paused_on),
            "corrections": self.corrections,
            "done_on": _iso(self.done_on),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ItemState:
        """The state written by `to_json`."""
        return cls(
            state=Status(data["state"]),
            limit_workdays=int(data["limit_workdays"]),
            due_on=_date(data.get("due_on")),
            provisional=bool(data.get("provisional", False)),
            started_on=_date(data.get("started_on")),
            paused_on=_date(data.get("paused_on")),
            corrections=int(data.get("corrections", 0)),
            done_on=_date(data.get("done_on")),
        )


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


@dataclass(frozen=True)
class Refusal:
    """Why an action was refused: a `code` for the message and what the actor may do now.

    Codes: item.illegal_transition, item.not_allowed_for_role, item.reason_required,
    item.date_before_start, item.date_before_pause.
    """

    code: str
    legal: tuple[Action, ...]
    detail: Mapping[str, str]


def legal_actions(state: Status, role: str | None = None) -> tuple[Action, ...]:
    """Actions possible from `state` (for `role` only, when given), in `Action` order."""
    return tuple(
        action
        for action in Action
        if (t := TRANSITIONS.get((state, action))) is not None and (role is None or role in t.roles)
    )


def apply_action(
    item_state: ItemState,
    action: Action,
    actor_role: str,
    on: date,
    calendar: WorkCalendar,
    *,
    reason: str | None = None,
    clock: CorrectionClock = CorrectionClock.RESTART,
) -> ItemState | Refusal:
    """The item after `actor_role` does `action` on `on`, or a Refusal; never raises.

    `actor_role` is the actor's relation to this item: "specialist" only for the
    responsible specialist, "backup" for their backup (the caller decides that).
    """
    transition = TRANSITIONS.get((item_state.state, action))
    detail = {"state": item_state.state.value, "action": action.value, "role": actor_role}
    if transition is None:
        return Refusal(
            "item.illegal_transition", legal_actions(item_state.state, actor_role), detail
        )
    if actor_role not in transition.roles:
        roles = ",".join(sorted(transition.roles))
        return Refusal(
            "item.not_allowed_for_role",
            legal_actions(item_state.state, actor_role),
            {**detail, "allowed": roles},
        )
    if transition.needs_reason and not (reason and reason.strip()):
        return Refusal("item.reason_required", legal_actions(item_state.state, actor_role), detail)
    if item_state.started_on is not None and on < item_state.started_on:
        return Refusal(
            "item.date_before_start",
            legal_actions(item_state.state, actor_role),
            {**detail, "started_on": item_state.started_on.isoformat()},
        )
    if item_state.paused_on is not None and on < item_state.paused_on:
        return Refusal(
            "item.date_before_pause",
            legal_actions(item_state.state, actor_role),
            {**detail, "paused_on": item_state.paused_on.isoformat()},
        )
    return _move(item_state, transition.target, action, on, calendar, clock)


def _move(
    item: ItemState,
    target: Status,
    action: Action,
    on: date,
    calendar: WorkCalendar,
    clock: CorrectionClock,
) -> ItemState:
    moved = replace(item, state=target)
    if action is Action.SUBMIT:
        due = due_after(calendar, on, item.limit_workdays)
        return replace(moved, started_on=on, due_on=due.on, provisional=due.provisional)
    if action is Action.REQUEST_CORRECTION:
        return replace(moved, paused_on=on, corrections=item.corrections + 1)
    if action is Action.ACCEPT_CORRECTION:
        return replace(moved, paused_on=None, **_restarted(item, on, calendar, clock))
    if action is Action.COMPLETE:
        return replace(moved, done_on=on)
    if action is Action.MARK_NOT_APPLICABLE:
        return replace(moved, paused_on=None)
    if action is Action.REOPEN:
        if item.started_on is None:
            due = due_after(calendar, on, item.limit_workdays)
            return replace(
                moved, done_on=None, started_on=on, due_on=due.on, provisional=due.provisional
            )
        return replace(moved, done_on=None)
    return moved  # START_REVIEW: the clock runs on unchanged


def _restarted(
    item: ItemState, on: date, calendar: WorkCalendar, clock: CorrectionClock
) -> dict[str, Any]:
    """The new due date when corrected materials are accepted on `on` (重新受理)."""
    if clock is CorrectionClock.RESUME and item.paused_on is not None and item.due_on is not None:
        left = calendar.workdays_between(item.paused_on, item.due_on)
        if left < 0:
            # Already overdue at the pause: it stays overdue by as many working days.
            restart_day = calendar.next_workday(on)
            back = calendar.due_date(restart_day, left)
            return {"due_on": back.on, "provisional": back.provisional}
        due = due_after(calendar, on, left)
    else:
        due = due_after(calendar, on, item.limit_workdays)
    return {"due_on": due.on, "provisional": due.provisional}


def workdays_overdue(item: ItemState, today: date, calendar: WorkCalendar) -> int:
    """Working days `today` is past the due date; 0 when not overdue, closed or paused."""
    if not item.is_open or item.is_paused or item.due_on is None:
        return 0
    return max(0, calendar.workdays_between(item.due_on, today))


def is_due_soon(item: ItemState, today: date, n: int, calendar: WorkCalendar) -> bool:
    """Whether an open, running item is due today or within the next `n` working days."""
    if not item.is_open or item.is_paused or item.due_on is None or item.due_on < today:
        return False
    return calendar.workdays_between(today, item.due_on) <= n


def workdays_late(item: ItemState, calendar: WorkCalendar) -> int:
    """For a done item, how many working days after its due date it was done (0 if on time)."""
    if item.state is not Status.DONE or item.done_on is None or item.due_on is None:
        return 0
    return max(0, calendar.workdays_between(item.due_on, item.done_on))
