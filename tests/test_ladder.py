"""The escalation ladder (分级调度) by itself: snapshots old and new, the rung for a number
of working days overdue, the climbing rule, and acknowledgements."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import pytest

from domain.application import project_snapshot
from domain.calendar import WorkCalendar
from domain.ladder import (
    Ladder,
    Rung,
    RungText,
    acknowledgement_holds,
    ladders_by_project,
    project_ladder,
    workdays_unacknowledged,
)
from domain.scheme_loader import load_scheme

# A project's `escalation` as the first releases snapshotted it: no acknowledgement fields.
OLD_SNAPSHOT = [
    {
        "level": 2,
        "name": {"zh": "专题调度", "en": "Topic dispatch"},
        "dispatcher": {"zh": "区住建委", "en": ""},
        "notify_roles": ["butler", "office"],
        "threshold_workdays_overdue": 3,
    },
    {
        "level": 1,
        "name": {"zh": "日常调度", "en": "Weekly routine dispatch"},
        "dispatcher": {"zh": "区重大项目中心", "en": "District Major Projects Centre"},
        "notify_roles": ["butler"],
        "threshold_workdays_overdue": 1,
    },
]


def rung(level: int, threshold: int, ack_timeout: int = 1) -> Rung:
    return Rung(
        level=level,
        name=RungText(f"第{level}级", f"Level {level}"),
        dispatcher=RungText("调度方", "Dispatcher"),
        notify_roles=("butler",),
        threshold_workdays_overdue=threshold,
        ack_timeout_workdays=ack_timeout,
    )


LADDER = Ladder.of([rung(1, 1), rung(2, 3), rung(3, 5, ack_timeout=2)])


def test_an_old_snapshot_loads_in_level_order_with_the_acknowledgement_defaults() -> None:
    ladder = Ladder.from_snapshot(OLD_SNAPSHOT)
    assert [r.level for r in ladder.rungs] == [1, 2]
    assert (ladder.bottom.ack_timeout_workdays, ladder.bottom.ack_suppresses_workdays) == (1, 2)
    assert ladder.bottom.notify_roles == ("butler",)
    assert ladder.top.name.text("en") == "Topic dispatch"
    assert ladder.top.dispatcher.text("en") == "区住建委", "no English: the Chinese stands in"
    assert ladder.top.dispatcher.text("zh_CN") == "区住建委"


def test_a_scheme_ladder_snapshots_and_reads_back_equal_through_json() -> None:
    scheme = load_scheme("tongzhou")
    ladder = Ladder.from_scheme(scheme.escalation)
    stored = json.loads(json.dumps(ladder.to_snapshot()))
    assert Ladder.from_snapshot(stored) == ladder
    assert [r.level for r in ladder.rungs] == [level.level for level in scheme.escalation]
    assert ladder.top.notify_roles == tuple(scheme.escalation[-1].notify_roles)


def test_the_project_snapshot_carries_the_ladder_it_reads_back() -> None:
    scheme = load_scheme("sanyuan")
    snapshot = project_snapshot(scheme, scheme.categories[0].id)
    assert Ladder.from_snapshot(snapshot["escalation"]) == Ladder.from_scheme(scheme.escalation)


def test_a_project_without_a_snapshotted_ladder_uses_the_live_schemes() -> None:
    scheme = load_scheme("tongzhou")
    assert project_ladder(None, scheme) == Ladder.from_scheme(scheme.escalation)
    assert project_ladder([], scheme) == Ladder.from_scheme(scheme.escalation)
    assert project_ladder(OLD_SNAPSHOT, scheme) == Ladder.from_snapshot(OLD_SNAPSHOT)


def test_equal_snapshots_shared_by_projects_are_read_once() -> None:
    scheme = load_scheme("tongzhou")
    shared = list(OLD_SNAPSHOT)
    ladders = ladders_by_project({1: shared, 2: shared, 3: None}, scheme)
    assert ladders[1] is ladders[2]
    assert ladders[3] == Ladder.from_scheme(scheme.escalation)


@pytest.mark.parametrize(
    ("overdue", "level"),
    [(-2, None), (0, None), (1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (40, 3)],
)
def test_the_rung_for_working_days_overdue_is_the_highest_threshold_crossed(
    overdue: int, level: int | None
) -> None:
    found = LADDER.rung_for_overdue(overdue)
    assert (found.level if found else None) == level


def test_a_ladder_whose_first_threshold_is_high_leaves_early_lateness_alone() -> None:
    ladder = Ladder.of([rung(1, 2), rung(2, 4)])
    assert ladder.rung_for_overdue(1) is None
    assert ladder.rung_for_overdue(2) == ladder.bottom


def test_a_problem_is_raised_for_lateness_only_upwards() -> None:
    assert LADDER.raise_for_overdue(1, 3) == LADDER.rung_at(2)
    assert LADDER.raise_for_overdue(1, 5) == LADDER.rung_at(3)
    assert LADDER.raise_for_overdue(2, 3) is None
    assert LADDER.raise_for_overdue(3, 3) is None, "never lowered"


def test_silence_climbs_one_rung_after_the_rungs_ack_timeout() -> None:
    assert LADDER.climb(1, 0) is None
    assert LADDER.climb(1, 1) == LADDER.rung_at(2)
    assert LADDER.climb(1, 9) == LADDER.rung_at(2), "one rung at a time"
    assert LADDER.climb(3, 9) is None, "the top does not climb"
    two_days = Ladder.of([rung(1, 1, ack_timeout=2), rung(2, 3)])
    assert two_days.climb(1, 1) is None
    assert two_days.climb(1, 2) == two_days.top


def test_rungs_by_level_and_above() -> None:
    assert LADDER.rung_at(2).level == 2
    assert LADDER.rung_at(7) == LADDER.top, "a level the ladder lacks reads as the top"
    assert LADDER.rung_above(1) == LADDER.rung_at(2)
    assert LADDER.rung_above(3) is None
    assert LADDER.levels == frozenset({1, 2, 3})


def test_a_ladder_is_frozen_and_never_empty_or_out_of_order() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        LADDER.rungs = ()  # type: ignore[misc]
    with pytest.raises(ValueError, match="at least one rung"):
        Ladder(())
    with pytest.raises(ValueError, match="ascending"):
        Ladder((rung(2, 3), rung(1, 1)))
    with pytest.raises(ValueError, match="ascending"):
        Ladder.of([rung(1, 1), rung(1, 2)])


def test_an_acknowledgement_holds_through_its_last_day() -> None:
    until = date(2026, 11, 25)
    assert acknowledgement_holds("acked", until, date(2026, 11, 25))
    assert not acknowledgement_holds("acked", until, date(2026, 11, 26))
    assert not acknowledgement_holds("open", until, date(2026, 11, 24))
    assert not acknowledgement_holds("acked", None, date(2026, 11, 24))


def test_the_unacknowledged_wait_counts_working_days_and_restarts_after_an_ack() -> None:
    calendar = WorkCalendar()
    raised = date(2026, 11, 20)  # a Friday
    monday, wednesday = date(2026, 11, 23), date(2026, 11, 25)
    assert workdays_unacknowledged(raised, None, monday, calendar) == 1
    assert workdays_unacknowledged(raised, None, wednesday, calendar) == 3
    assert workdays_unacknowledged(raised, monday, wednesday, calendar) == 2
    earlier_ack = date(2026, 11, 19)  # before the raise: the raise counts
    assert workdays_unacknowledged(raised, earlier_ack, wednesday, calendar) == 3


# -- the climbing rule of schemes/README.md ("How a problem climbs"), on every preset -------
PRESETS = ("tongzhou", "sanyuan", "guangzhou", "anshan", "jinniu")


def climb_unacknowledged(ladder: Ladder, days: int) -> dict[int, int]:
    """The level of a problem nobody acknowledges, for each working day overdue 1…days."""
    levels: dict[int, int] = {}
    level, reached_on = 0, 0
    for overdue in range(1, days + 1):
        if level == 0:
            first = ladder.rung_for_overdue(overdue)
            if first is not None:
                level, reached_on = first.level, overdue
        else:
            moved = ladder.standing(level, overdue, overdue - reached_on)
            if moved is not None:
                level, reached_on = moved.level, overdue
        levels[overdue] = level
    return levels


@pytest.mark.parametrize("preset", PRESETS)
def test_an_unacknowledged_problem_never_stands_more_than_one_rung_above_its_threshold(
    preset: str,
) -> None:
    ladder = Ladder.from_scheme(load_scheme(preset).escalation)
    levels = climb_unacknowledged(ladder, 40)
    for overdue, level in levels.items():
        by_threshold = ladder.rung_for_overdue(overdue)
        assert by_threshold is not None
        above = ladder.rung_above(by_threshold.level)
        allowed = {by_threshold.level} | ({above.level} if above else set())
        assert level in allowed, (preset, overdue, level)
        if level != by_threshold.level:
            since = overdue - by_threshold.threshold_workdays_overdue
            assert since >= by_threshold.ack_timeout_workdays, (preset, overdue, level)
    assert levels[40] == ladder.top.level
    assert list(levels.values()) == sorted(levels.values()), "never lowered"


@pytest.mark.parametrize("preset", PRESETS)
def test_silence_reaches_each_rung_no_earlier_than_the_rung_below_allows(preset: str) -> None:
    ladder = Ladder.from_scheme(load_scheme(preset).escalation)
    levels = climb_unacknowledged(ladder, 40)
    for below, rung in zip(ladder.rungs, ladder.rungs[1:], strict=False):
        first_day = min(d for d, level in levels.items() if level >= rung.level)
        earliest = min(
            rung.threshold_workdays_overdue,
            below.threshold_workdays_overdue + below.ack_timeout_workdays,
        )
        assert first_day == earliest, (preset, rung.level, first_day, earliest)


def test_the_tongzhou_ladder_reaches_the_leaders_on_the_fourth_working_day_not_the_third() -> None:
    ladder = Ladder.from_scheme(load_scheme("tongzhou").escalation)
    levels = climb_unacknowledged(ladder, 10)
    assert [levels[d] for d in range(1, 11)] == [1, 2, 2, 3, 3, 3, 4, 4, 4, 4]


def test_standing_raises_to_the_threshold_and_holds_a_higher_problem() -> None:
    assert LADDER.standing(1, 3, 0) == LADDER.rung_at(2), "the threshold raises at once"
    assert LADDER.standing(2, 3, 5) is None, "crossed today: the wait starts today"
    assert LADDER.standing(2, 4, 1) == LADDER.rung_at(3)
    assert LADDER.standing(2, 4, 0) is None, "just raised: waits its timeout"
    assert LADDER.standing(3, 2, 9) is None, "a problem set higher by hand is left there"
    assert LADDER.standing(1, 0, 9) is None, "nothing overdue: silence alone never climbs"


def test_the_scheme_readme_states_each_presets_climb_as_the_rule_computes_it() -> None:
    readme = (Path(__file__).parent.parent / "schemes" / "README.md").read_text(encoding="utf-8")
    for preset in PRESETS:
        ladder = Ladder.from_scheme(load_scheme(preset).escalation)
        levels = climb_unacknowledged(ladder, 40)
        cells = []
        for r in ladder.rungs:
            first = min(d for d, level in levels.items() if level >= r.level)
            cells.append(f"{r.level}: {r.threshold_workdays_overdue} / {first}")
        assert f"| {preset} | {' · '.join(cells)} |" in readme, preset
