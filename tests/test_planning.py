"""The project plan (一项目一册): dates in working days, prerequisites, 并联, re-planning."""

from __future__ import annotations

import itertools
import json
from datetime import date

import pytest

from domain.calendar import CalendarOverrides, DueDate, WorkCalendar
from domain.planning import (
    AddItem,
    DropItem,
    Plan,
    PlanError,
    Redate,
    build_plan,
    critical_path,
    due_after,
    key_dates,
    plan_for_project,
    recompute,
    remaining_stages,
    replan,
    runs_in_parallel,
)
from domain.scheme import ChecklistItem, Label
from domain.scheme_loader import list_presets, load_scheme

CAL = WorkCalendar()
STAGES = ("approval", "planning", "works")


def d(text: str) -> date:
    return date.fromisoformat(text)


def item(
    item_id: str,
    limit: int,
    *prerequisites: str,
    stage: str = "planning",
    department: str = "planning_bureau",
) -> ChecklistItem:
    return ChecklistItem(
        id=item_id,
        name=Label(zh=item_id, en=item_id),
        department=department,
        stage=stage,
        limit_workdays=limit,
        prerequisites=prerequisites,
    )


# Plan start: Fri 2026-09-25 is the Mid-Autumn holiday; Oct 1–7 is National Day and
# Sat Oct 10 is a make-up working day (Sun Sep 20 too, before the plan).
NATIONAL_DAY = (
    item("land_permit", 5),  # 5 working days: Sep 28, 29, 30, Oct 8, Oct 9
    item("fire_review", 3, department="fire"),  # Sep 28, 29, 30
    item("works_permit", 2, "land_permit", "fire_review"),  # from Oct 9: Sat Oct 10, Mon Oct 12
    item("water_connection", 1, "fire_review", department="water"),  # from Sep 30: Oct 8
    item("filing", 0, department="development"),  # 即办件: the first working day, Sep 28
)


@pytest.fixture
def national_day() -> Plan:
    return build_plan(NATIONAL_DAY, STAGES, d("2026-09-25"), CAL)


def test_prerequisites_and_parallel_items_across_national_day(national_day: Plan) -> None:
    dates = {p.item_id: (p.planned_start, p.due_on) for p in national_day.items}
    assert dates == {
        "land_permit": (d("2026-09-25"), d("2026-10-09")),
        "fire_review": (d("2026-09-25"), d("2026-09-30")),
        "works_permit": (d("2026-10-09"), d("2026-10-12")),
        "water_connection": (d("2026-09-30"), d("2026-10-08")),
        "filing": (d("2026-09-25"), d("2026-09-28")),
    }
    assert not national_day.provisional


def test_items_without_a_path_between_them_run_in_parallel(national_day: Plan) -> None:
    groups = {p.item_id: p.parallel_group for p in national_day.items}
    assert groups == {
        "land_permit": 0,
        "fire_review": 0,
        "filing": 0,
        "works_permit": 1,
        "water_connection": 1,
    }
    assert runs_in_parallel(national_day, "land_permit", "fire_review")
    assert runs_in_parallel(national_day, "land_permit", "water_connection")
    assert not runs_in_parallel(national_day, "fire_review", "water_connection")
    assert not runs_in_parallel(national_day, "works_permit", "fire_review")
    assert not runs_in_parallel(national_day, "filing", "filing")


def test_order_is_stage_then_topological_then_catalogue(national_day: Plan) -> None:
    assert national_day.item_ids == (
        "land_permit",
        "fire_review",
        "filing",
        "works_permit",
        "water_connection",
    )
    plan = build_plan(
        (item("late", 1, "early"), item("other", 1, stage="works"), item("early", 1)),
        STAGES,
        d("2026-09-25"),
        CAL,
    )
    assert plan.item_ids == ("early", "late", "other")


def test_key_dates_and_the_critical_path(national_day: Plan) -> None:
    assert key_dates(national_day) == {"planning": DueDate(d("2026-10-12"), False)}
    assert critical_path(national_day) == ("land_permit", "works_permit")
    assert critical_path(national_day, "approval") == ()


def test_the_critical_path_reaches_back_into_earlier_stages() -> None:
    plan = build_plan(
        (
            item("proposal", 10, stage="approval"),
            item("filing", 2, stage="approval"),
            item("permit", 5, "proposal"),
            item("works", 3, "permit", "filing", stage="works"),
        ),
        STAGES,
        d("2026-03-02"),
        CAL,
    )
    assert critical_path(plan) == ("proposal", "permit", "works")
    assert critical_path(plan, "approval") == ("proposal",)
    assert list(key_dates(plan)) == ["approval", "planning", "works"]
    assert key_dates(plan)["works"].on == plan.item("works").due_on


def test_passed_stages_are_left_out_and_their_prerequisites_count_as_satisfied() -> None:
    items = (
        item("proposal", 10, stage="approval"),
        item("permit", 5, "proposal"),
        item("works", 3, "permit", stage="works"),
    )
    plan = build_plan(items, ("planning", "works"), d("2026-09-25"), CAL)
    assert plan.item_ids == ("permit", "works")
    permit = plan.item("permit")
    assert permit.prerequisites == ()
    assert permit.planned_start == d("2026-09-25")
    assert permit.parallel_group == 0
    assert plan.item("works").prerequisites == ("permit",)


def test_a_prerequisite_not_applying_to_the_category_counts_as_satisfied() -> None:
    scheme = load_scheme("tongzhou")
    # land_pre_review waits for project_proposal, which only government-funded projects need.
    assert scheme.item("land_pre_review").prerequisites == ("project_proposal",)
    start = d("2026-09-25")
    industrial = plan_for_project(scheme, "industrial", "project_approval", start, CAL)
    assert "project_proposal" not in industrial
    assert industrial.item("land_pre_review").prerequisites == ()
    assert industrial.item("land_pre_review").planned_start == start
    funded = plan_for_project(scheme, "government_funded", "project_approval", start, CAL)
    assert funded.item("land_pre_review").planned_start == funded.item("project_proposal").due_on


def test_dates_counted_through_an_unknown_year_are_provisional() -> None:
    assert 2027 not in CAL.known_years
    items = (
        item("in_2026", 5),  # Dec 25, 28, 29, 30, 31: all of 2026
        item("into_2027", 6),  # the 6th day is Fri 2027-01-01, counted Mon–Fri
        item("after_2026_item", 1, "in_2026"),
        item("after_2027_item", 1, "into_2027"),
    )
    plan = build_plan(items, STAGES, d("2026-12-24"), CAL)
    assert (plan.item("in_2026").due_on, plan.item("in_2026").provisional) == (
        d("2026-12-31"),
        False,
    )
    assert (plan.item("into_2027").due_on, plan.item("into_2027").provisional) == (
        d("2027-01-01"),
        True,
    )
    assert plan.item("after_2026_item").provisional
    assert plan.item("after_2027_item").provisional
    assert plan.provisional
    assert key_dates(plan)["planning"] == DueDate(d("2027-01-04"), True)

    # The State Council publishes 2027: New Year's Day is off; the caller compares.
    official = WorkCalendar(
        CalendarOverrides(years=frozenset({2027}), holidays=frozenset({d("2027-01-01")}))
    )
    again = recompute(plan, official)
    assert not again.provisional
    assert again.item("into_2027").due_on == d("2027-01-04")
    assert again.item("after_2026_item").due_on == d("2027-01-04")
    assert again.item("after_2027_item").due_on == d("2027-01-05")
    assert again.item("in_2026") == plan.item("in_2026")


def test_a_same_day_item_started_on_a_holiday_is_due_the_next_working_day() -> None:
    assert due_after(CAL, d("2026-10-01"), 0) == DueDate(d("2026-10-08"), False)
    assert due_after(CAL, d("2026-10-09"), 0) == DueDate(d("2026-10-09"), False)
    assert due_after(CAL, d("2026-12-31"), 0) == DueDate(d("2026-12-31"), False)
    assert due_after(CAL, d("2027-01-01"), 0).provisional


def test_redating_an_item_later_pushes_its_dependents(national_day: Plan) -> None:
    moved = replan(national_day, [Redate("land_permit", d("2026-10-16"))], CAL)
    land = moved.item("land_permit")
    assert (land.due_on, land.fixed_due) == (d("2026-10-16"), True)
    works = moved.item("works_permit")
    assert (works.planned_start, works.due_on) == (d("2026-10-16"), d("2026-10-20"))
    for untouched in ("fire_review", "water_connection", "filing"):
        assert moved.item(untouched) == national_day.item(untouched)
    assert key_dates(moved)["planning"].on == d("2026-10-20")


def test_redating_earlier_never_pulls_dependents_earlier(national_day: Plan) -> None:
    moved = replan(national_day, [Redate("land_permit", d("2026-10-08"))], CAL)
    assert moved.item("land_permit").due_on == d("2026-10-08")
    assert moved.item("works_permit") == national_day.item("works_permit")


def test_a_due_date_before_the_prerequisites_are_due_is_refused(national_day: Plan) -> None:
    with pytest.raises(PlanError) as refused:
        replan(national_day, [Redate("works_permit", d("2026-10-08"))], CAL)
    assert refused.value.code == "plan.due_before_start"
    assert refused.value.detail["start"] == "2026-10-09"


def test_a_hand_set_date_overtaken_by_its_prerequisite_no_longer_holds(
    national_day: Plan,
) -> None:
    held = replan(national_day, [Redate("works_permit", d("2026-10-30"))], CAL)
    assert held.item("works_permit").fixed_due
    # A later change elsewhere keeps the hand-set date...
    kept = replan(held, [Redate("fire_review", d("2026-10-09"))], CAL)
    assert kept.item("works_permit").due_on == d("2026-10-30")
    # ...until a prerequisite is pushed past it: then the rule dates it again.
    overtaken = replan(held, [Redate("land_permit", d("2026-11-02"))], CAL)
    works = overtaken.item("works_permit")
    assert (works.planned_start, works.due_on, works.fixed_due) == (
        d("2026-11-02"),
        d("2026-11-04"),
        False,
    )


def test_adding_and_dropping_items(national_day: Plan) -> None:
    changed = replan(
        national_day,
        [
            DropItem("land_permit"),
            AddItem("greening", "landscaping", "planning", 3, ("works_permit", "unknown")),
        ],
        CAL,
    )
    assert "land_permit" not in changed
    works = changed.item("works_permit")
    # Its other prerequisite is still due Sep 30, but a promised date never moves earlier.
    assert works.prerequisites == ("fire_review",)
    assert (works.planned_start, works.due_on) == (d("2026-10-09"), d("2026-10-12"))
    greening = changed.item("greening")
    assert greening.prerequisites == ("works_permit",)
    assert (greening.planned_start, greening.due_on) == (d("2026-10-12"), d("2026-10-15"))
    assert changed.item_ids[-1] == "greening"


def test_adding_a_catalogue_item(national_day: Plan) -> None:
    extra = item("drainage", 4, "fire_review", department="water")
    changed = replan(national_day, [AddItem.from_checklist(extra)], CAL)
    drainage = changed.item("drainage")
    assert (drainage.planned_start, drainage.due_on) == (d("2026-09-30"), d("2026-10-12"))
    assert drainage.parallel_group == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (Redate("nope", date(2026, 10, 30)), "plan.unknown_item"),
        (DropItem("nope"), "plan.unknown_item"),
        (AddItem("filing", "x", "planning", 1), "plan.duplicate_item"),
        (AddItem("new", "x", "moon", 1), "plan.unknown_stage"),
        (AddItem("new", "x", "planning", -1), "plan.negative_limit"),
        (AddItem("new", "x", "approval", 1, ("filing",)), "plan.prerequisite_later_stage"),
    ],
)
def test_changes_that_cannot_apply_are_refused_with_a_code(
    national_day: Plan, change: Redate | AddItem | DropItem, code: str
) -> None:
    with pytest.raises(PlanError) as refused:
        replan(national_day, [change], CAL)
    assert refused.value.code == code


def test_building_refuses_duplicates_cycles_and_backward_prerequisites() -> None:
    start = d("2026-09-25")
    with pytest.raises(PlanError, match=r"plan\.duplicate_item"):
        build_plan((item("a", 1), item("a", 2)), STAGES, start, CAL)
    with pytest.raises(PlanError, match=r"plan\.cycle"):
        build_plan((item("a", 1, "b"), item("b", 1, "a")), STAGES, start, CAL)
    with pytest.raises(PlanError, match=r"plan\.prerequisite_later_stage"):
        build_plan((item("a", 1, "b", stage="approval"), item("b", 1)), STAGES, start, CAL)


def test_a_plan_round_trips_through_plain_json(national_day: Plan) -> None:
    redated = replan(national_day, [Redate("land_permit", d("2026-10-16"))], CAL)
    for plan in (national_day, redated):
        text = json.dumps(plan.to_json(), ensure_ascii=False)
        assert '"2026-10-09"' in text or '"2026-10-16"' in text
        assert Plan.from_json(json.loads(text)) == plan
    back = Plan.from_json(json.loads(json.dumps(redated.to_json())))
    # A restored plan re-plans exactly like the original.
    change = [Redate("fire_review", d("2026-10-20"))]
    assert replan(back, change, CAL) == replan(redated, change, CAL)
    with pytest.raises(PlanError, match=r"plan\.unknown_format"):
        Plan.from_json({**national_day.to_json(), "format": 99})


def test_remaining_stages_start_at_the_current_stage() -> None:
    scheme = load_scheme("tongzhou")
    ids = [s.id for s in scheme.stages]
    assert remaining_stages(scheme, ids[0]) == tuple(ids)
    assert remaining_stages(scheme, ids[2]) == tuple(ids[2:])
    with pytest.raises(KeyError):
        remaining_stages(scheme, "moon")


@pytest.mark.parametrize("preset", list_presets())
def test_every_category_and_stage_of_every_preset_plans_by_the_rules(preset: str) -> None:
    scheme = load_scheme(preset)
    stage_ids = [s.id for s in scheme.stages]
    for category in scheme.categories:
        for current in stage_ids:
            for start in (d("2026-09-25"), d("2026-12-28")):
                plan = plan_for_project(scheme, category.id, current, start, CAL)
                remaining = remaining_stages(scheme, current)
                expected = [i.id for i in scheme.items_for(category.id) if i.stage in remaining]
                assert sorted(plan.item_ids) == sorted(expected)
                _assert_rules_hold(plan, start)
                assert Plan.from_json(json.loads(json.dumps(plan.to_json()))) == plan
        full = plan_for_project(scheme, category.id, stage_ids[0], d("2026-09-25"), CAL)
        assert full.items, f"{preset}/{category.id} has an empty checklist"


def _assert_rules_hold(plan: Plan, start: date) -> None:
    position = {item_id: n for n, item_id in enumerate(plan.item_ids)}
    for p in plan.items:
        before = [plan.item(n) for n in p.prerequisites]
        assert all(position[b.item_id] < position[p.item_id] for b in before)
        assert p.planned_start == max([start, *(b.due_on for b in before)])
        due = due_after(CAL, p.planned_start, p.limit_workdays)
        assert p.due_on == due.on
        assert p.provisional == (due.provisional or any(b.provisional for b in before))
        assert CAL.is_workday(p.due_on) or p.provisional
        assert p.parallel_group == 1 + max((b.parallel_group for b in before), default=-1)
    chain = critical_path(plan)
    if plan.items:
        assert plan.item(chain[-1]).due_on == max(p.due_on for p in plan.items)
        for first, second in itertools.pairwise(chain):
            assert first in plan.item(second).prerequisites
