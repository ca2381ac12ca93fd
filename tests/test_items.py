"""An item's states, who may move it, and its clock with the 补正 pause."""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import WorkCalendar
from domain.items import (
    TRANSITIONS,
    Action,
    CorrectionClock,
    ItemState,
    Refusal,
    Status,
    apply_action,
    is_due_soon,
    legal_actions,
    workdays_late,
    workdays_overdue,
)
from domain.planning import PlannedItem

CAL = WorkCalendar()
ROLES = ("specialist", "backup", "butler", "office", "leader", "enterprise")
MOVERS = {"specialist", "backup", "butler"}

# Written out independently of domain/items.py: (state, action) -> (target, roles).
EXPECTED = {
    ("not_started", "submit"): ("submitted", MOVERS),
    ("submitted", "start_review"): ("in_review", MOVERS),
    ("submitted", "request_correction"): ("correction_needed", MOVERS),
    ("in_review", "request_correction"): ("correction_needed", MOVERS),
    ("correction_needed", "accept_correction"): ("in_review", MOVERS),
    ("submitted", "complete"): ("done", MOVERS),
    ("in_review", "complete"): ("done", MOVERS),
    ("not_started", "mark_not_applicable"): ("not_applicable", {"butler", "office"}),
    ("submitted", "mark_not_applicable"): ("not_applicable", {"butler", "office"}),
    ("in_review", "mark_not_applicable"): ("not_applicable", {"butler", "office"}),
    ("correction_needed", "mark_not_applicable"): ("not_applicable", {"butler", "office"}),
    ("done", "reopen"): ("in_review", {"butler"}),
    ("not_applicable", "reopen"): ("in_review", {"butler"}),
}


def d(text: str) -> date:
    return date.fromisoformat(text)


def in_state(status: Status, limit: int = 5) -> ItemState:
    """An item that plausibly reached `status` (dates consistent with it)."""
    started = None if status is Status.NOT_STARTED else d("2026-09-28")
    return ItemState(
        state=status,
        limit_workdays=limit,
        due_on=d("2026-10-12"),
        started_on=started,
        paused_on=d("2026-09-29") if status is Status.CORRECTION_NEEDED else None,
        corrections=1 if status is Status.CORRECTION_NEEDED else 0,
        done_on=d("2026-10-09") if status is Status.DONE else None,
    )


def act(
    item: ItemState,
    action: Action,
    on: str,
    role: str = "specialist",
    clock: CorrectionClock = CorrectionClock.RESTART,
) -> ItemState:
    result = apply_action(item, action, role, d(on), CAL, reason="why", clock=clock)
    assert isinstance(result, ItemState), result
    return result


def test_the_transition_table_is_exactly_the_expected_one() -> None:
    actual = {
        (s.value, a.value): (t.target.value, set(t.roles)) for (s, a), t in TRANSITIONS.items()
    }
    assert actual == EXPECTED


@pytest.mark.parametrize(
    ("status", "action", "role"), list(itertools.product(Status, Action, ROLES))
)
def test_every_state_action_and_role(status: Status, action: Action, role: str) -> None:
    result = apply_action(in_state(status), action, role, d("2026-10-12"), CAL, reason="why")
    expected = EXPECTED.get((status.value, action.value))
    if expected is None:
        assert isinstance(result, Refusal)
        assert result.code == "item.illegal_transition"
        assert result.legal == legal_actions(status, role)
    elif role not in expected[1]:
        assert isinstance(result, Refusal)
        assert result.code == "item.not_allowed_for_role"
        assert result.detail["allowed"] == ",".join(sorted(expected[1]))
    else:
        assert isinstance(result, ItemState)
        assert result.state.value == expected[0]


def test_legal_actions_list_the_next_buttons() -> None:
    assert legal_actions(Status.NOT_STARTED, "specialist") == (Action.SUBMIT,)
    assert legal_actions(Status.IN_REVIEW, "specialist") == (
        Action.REQUEST_CORRECTION,
        Action.COMPLETE,
    )
    assert legal_actions(Status.IN_REVIEW, "office") == (Action.MARK_NOT_APPLICABLE,)
    assert legal_actions(Status.DONE, "specialist") == ()
    assert legal_actions(Status.DONE) == (Action.REOPEN,)
    assert legal_actions(Status.DONE, "leader") == ()


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.DONE, Action.REOPEN),
        (Status.IN_REVIEW, Action.MARK_NOT_APPLICABLE),
        (Status.SUBMITTED, Action.REQUEST_CORRECTION),
        (Status.IN_REVIEW, Action.REQUEST_CORRECTION),
    ],
)
def test_reopening_dropping_and_correction_need_a_reason(status: Status, action: Action) -> None:
    for reason in (None, "", "   "):
        refused = apply_action(
            in_state(status), action, "butler", d("2026-10-12"), CAL, reason=reason
        )
        assert isinstance(refused, Refusal)
        assert refused.code == "item.reason_required"


def test_submission_starts_the_statutory_clock_across_national_day() -> None:
    planned = PlannedItem(
        "land_permit", "planning", "planning", 5, (), d("2026-09-25"), d("2026-10-09"), False, 0
    )
    item = ItemState.planned(planned)
    assert (item.state, item.due_on, item.started_on) == (Status.NOT_STARTED, d("2026-10-09"), None)
    # 受理 on Wed Sep 30: Oct 8, 9, Sat Oct 10 (make-up day), Oct 12, Oct 13.
    submitted = act(item, Action.SUBMIT, "2026-09-30")
    assert (submitted.started_on, submitted.due_on) == (d("2026-09-30"), d("2026-10-13"))
    assert not submitted.provisional


def test_correction_pauses_then_restarts_the_full_period_by_default() -> None:
    item = act(ItemState(Status.NOT_STARTED, 5), Action.SUBMIT, "2026-09-25")
    assert item.due_on == d("2026-10-09")
    item = act(item, Action.START_REVIEW, "2026-09-28")
    # 补正 requested Wed Sep 30: two working days (Oct 8, 9) were left.
    paused = act(item, Action.REQUEST_CORRECTION, "2026-09-30")
    assert (paused.state, paused.paused_on, paused.corrections) == (
        Status.CORRECTION_NEEDED,
        d("2026-09-30"),
        1,
    )
    # Paused items are never overdue, however long the enterprise takes.
    assert workdays_overdue(paused, d("2026-10-20"), CAL) == 0
    assert not is_due_soon(paused, d("2026-10-09"), 3, CAL)
    # 重新受理 on Mon Oct 12: 《行政许可法》第三十二条, the 5 days count again from Oct 12.
    restarted = act(paused, Action.ACCEPT_CORRECTION, "2026-10-12")
    assert (restarted.state, restarted.paused_on) == (Status.IN_REVIEW, None)
    assert restarted.due_on == d("2026-10-19")  # Oct 13, 14, 15, 16, 19
    assert restarted.started_on == d("2026-09-25")
    # The resume variant: the 2 days left continue from Oct 12.
    resumed = act(paused, Action.ACCEPT_CORRECTION, "2026-10-12", clock=CorrectionClock.RESUME)
    assert resumed.due_on == d("2026-10-14")  # Oct 13, 14
    # A second 补正 is counted.
    again = act(restarted, Action.REQUEST_CORRECTION, "2026-10-14")
    assert again.corrections == 2


def test_resuming_an_item_overdue_at_the_pause_keeps_it_as_overdue() -> None:
    item = act(ItemState(Status.NOT_STARTED, 5), Action.SUBMIT, "2026-09-25")
    assert workdays_overdue(item, d("2026-10-13"), CAL) == 3  # Sat Oct 10, Oct 12, Oct 13
    paused = act(item, Action.REQUEST_CORRECTION, "2026-10-13")
    resumed = act(paused, Action.ACCEPT_CORRECTION, "2026-10-20", clock=CorrectionClock.RESUME)
    assert workdays_overdue(resumed, d("2026-10-20"), CAL) == 3
    restarted = act(paused, Action.ACCEPT_CORRECTION, "2026-10-20")
    assert workdays_overdue(restarted, d("2026-10-20"), CAL) == 0


def test_acting_before_the_item_started_or_was_paused_is_refused() -> None:
    item = act(ItemState(Status.NOT_STARTED, 5), Action.SUBMIT, "2026-10-12")
    early = apply_action(item, Action.COMPLETE, "specialist", d("2026-10-09"), CAL)
    assert isinstance(early, Refusal)
    assert early.code == "item.date_before_start"
    paused = act(item, Action.REQUEST_CORRECTION, "2026-10-14")
    early = apply_action(paused, Action.ACCEPT_CORRECTION, "specialist", d("2026-10-13"), CAL)
    assert isinstance(early, Refusal)
    assert early.code == "item.date_before_pause"
    assert early.legal == (Action.ACCEPT_CORRECTION,)


def test_overdue_counts_working_days_after_the_due_date() -> None:
    item = act(ItemState(Status.NOT_STARTED, 5), Action.SUBMIT, "2026-09-25")  # due Fri Oct 9
    assert workdays_overdue(item, d("2026-10-09"), CAL) == 0
    assert workdays_overdue(item, d("2026-10-10"), CAL) == 1  # the make-up Saturday counts
    assert workdays_overdue(item, d("2026-10-11"), CAL) == 1  # Sunday does not
    assert workdays_overdue(item, d("2026-10-12"), CAL) == 2
    # A not-started item runs on its planned date.
    late_start = ItemState(Status.NOT_STARTED, 5, due_on=d("2026-10-09"))
    assert workdays_overdue(late_start, d("2026-10-12"), CAL) == 2
    done = act(item, Action.COMPLETE, "2026-10-12")
    assert done.done_on == d("2026-10-12")
    assert workdays_overdue(done, d("2026-10-20"), CAL) == 0
    assert workdays_late(done, CAL) == 2
    assert workdays_late(item, CAL) == 0


def test_due_soon_means_due_within_n_working_days_and_not_yet_overdue() -> None:
    item = act(ItemState(Status.NOT_STARTED, 5), Action.SUBMIT, "2026-09-25")  # due Oct 9
    assert is_due_soon(item, d("2026-09-30"), 2, CAL)  # Oct 8, Oct 9
    assert not is_due_soon(item, d("2026-09-30"), 1, CAL)
    assert is_due_soon(item, d("2026-10-09"), 0, CAL)  # the due day itself
    assert not is_due_soon(item, d("2026-10-10"), 5, CAL)  # overdue, not "soon"
    assert not is_due_soon(ItemState(Status.NOT_STARTED, 5), d("2026-10-09"), 5, CAL)


def test_reopening_keeps_the_due_date_or_starts_a_clock_never_started() -> None:
    done = act(
        act(ItemState(Status.NOT_STARTED, 5), Action.SUBMIT, "2026-09-25"),
        Action.COMPLETE,
        "2026-10-09",
    )
    reopened = act(done, Action.REOPEN, "2026-10-12", role="butler")
    assert (reopened.state, reopened.done_on, reopened.due_on) == (
        Status.IN_REVIEW,
        None,
        d("2026-10-09"),
    )
    dropped = act(
        ItemState(Status.NOT_STARTED, 3), Action.MARK_NOT_APPLICABLE, "2026-09-28", role="office"
    )
    back = act(dropped, Action.REOPEN, "2026-09-30", role="butler")
    # Never started: the clock starts at reopening; Oct 8, Oct 9, Sat Oct 10 (make-up day).
    assert (back.started_on, back.due_on) == (d("2026-09-30"), d("2026-10-10"))


def test_a_same_day_item_is_submitted_and_done_on_the_spot() -> None:
    item = act(ItemState(Status.NOT_STARTED, 0), Action.SUBMIT, "2026-10-12")
    assert item.due_on == d("2026-10-12")
    done = act(item, Action.COMPLETE, "2026-10-12")
    assert workdays_late(done, CAL) == 0


def test_dates_into_an_unknown_year_are_provisional() -> None:
    item = act(ItemState(Status.NOT_STARTED, 10), Action.SUBMIT, "2026-12-24")
    assert item.provisional
    assert item.due_on == d("2027-01-07")


def test_item_state_round_trips_through_plain_json() -> None:
    for status in Status:
        state = in_state(status)
        assert ItemState.from_json(json.loads(json.dumps(state.to_json()))) == state
    assert ItemState.from_json(ItemState(Status.NOT_STARTED, 0).to_json()).due_on is None


# --- random walks ------------------------------------------------------------------

steps = st.lists(
    st.tuples(st.sampled_from(list(Action)), st.sampled_from(ROLES), st.integers(0, 9)),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(
    steps=steps,
    limit=st.integers(0, 20),
    clock=st.sampled_from(list(CorrectionClock)),
    first=st.dates(date(2026, 1, 1), date(2026, 12, 31)),
)
def test_random_action_sequences_never_reach_an_illegal_state(
    steps: list[tuple[Action, str, int]], limit: int, clock: CorrectionClock, first: date
) -> None:
    item = ItemState(Status.NOT_STARTED, limit, due_on=first + timedelta(30))
    today = first
    for action, role, gap in steps:
        today += timedelta(gap)
        result = apply_action(item, action, role, today, CAL, reason="r", clock=clock)
        transition = TRANSITIONS.get((item.state, action))
        if isinstance(result, Refusal):
            assert transition is None or role not in transition.roles
            assert set(result.legal) <= set(Action)
            continue
        assert transition is not None and role in transition.roles
        assert result.state is transition.target
        item = result
        _assert_consistent(item, clock)
        assert ItemState.from_json(json.loads(json.dumps(item.to_json()))) == item


def _assert_consistent(item: ItemState, clock: CorrectionClock) -> None:
    assert (item.paused_on is not None) == (item.state is Status.CORRECTION_NEEDED)
    assert (item.done_on is not None) == (item.state is Status.DONE)
    assert item.due_on is not None
    if item.state not in (Status.NOT_STARTED, Status.NOT_APPLICABLE):
        assert item.started_on is not None
    if item.started_on is not None and clock is CorrectionClock.RESTART:
        assert item.due_on >= item.started_on
    if item.done_on is not None and item.started_on is not None:
        assert item.done_on >= item.started_on
    assert item.corrections >= 0
    assert workdays_overdue(item, item.due_on + timedelta(60), CAL) >= 0
