"""The project plan (一项目一册): approval items with planned dates, run in parallel (并联审批).

Rules, in working days through one `WorkCalendar` (the start day is never counted):

- An item without prerequisites starts at the plan start; an item with prerequisites
  starts when *all* of them are due: its planned start is the latest prerequisite due date.
- ``due_on = add_workdays(planned_start, limit_workdays)``. A 即办件 (limit 0) is due on
  the first working day on or after its start, so no due date falls on a day off.
- Only items of the remaining stages are planned; items of stages already passed are
  left out. A prerequisite outside the plan (its stage is passed, or it does not apply
  to the project's category, or it was dropped) counts as satisfied: the scheme already
  says that a prerequisite which does not apply is skipped, and a passed stage is done.
- Items with no prerequisite path between them run in parallel (并联). ``parallel_group``
  is the item's longest-path depth: 0 for items that start at once, 1 for items waiting
  on group-0 items only, and so on.
- A due date counted through a year the calendar does not know is provisional, and so is
  everything that starts from it.

A plan is snapshotted onto the project (DESIGN decision 3) via `Plan.to_json`. The
butler's changes (`Redate`, `AddItem`, `DropItem`) go through `replan`, which never moves
an existing item earlier by itself: a promised date only moves earlier when the butler
re-dates that very item. `recompute` redoes a plan's dates under a new calendar (e.g. the
State Council published next year's holidays); the caller compares the two plans.

The plan's data (`Plan`, `PlannedItem`) lives in `domain.plan_model` and reading it in
`domain.plan_reading`; both are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from domain.calendar import DueDate, WorkCalendar
from domain.plan_model import PLAN_FORMAT, Plan, PlanError, PlannedItem
from domain.plan_reading import critical_path, key_dates, runs_in_parallel
from domain.scheme import ChecklistItem, Scheme

__all__ = [
    "PLAN_FORMAT",
    "AddItem",
    "DropItem",
    "Plan",
    "PlanChange",
    "PlanError",
    "PlannedItem",
    "Redate",
    "build_plan",
    "critical_path",
    "due_after",
    "key_dates",
    "plan_for_project",
    "recompute",
    "remaining_stages",
    "replan",
    "runs_in_parallel",
]


# --- changes the butler makes (/plan …) --------------------------------------------


@dataclass(frozen=True)
class Redate:
    """Set an item's due date by hand (改期); dependents are pushed later if needed."""

    item_id: str
    due_on: date


@dataclass(frozen=True)
class AddItem:
    """Add an item to the plan (增项); prerequisites outside the plan count as satisfied."""

    item_id: str
    department: str
    stage: str
    limit_workdays: int
    prerequisites: tuple[str, ...] = ()

    @classmethod
    def from_checklist(cls, item: ChecklistItem) -> AddItem:
        """The change that adds a catalogue item of the scheme."""
        return cls(item.id, item.department, item.stage, item.limit_workdays, item.prerequisites)


@dataclass(frozen=True)
class DropItem:
    """Drop an item from the plan (减项); its dependents no longer wait for it."""

    item_id: str


PlanChange = Redate | AddItem | DropItem


# --- building --------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """What planning needs of an item: the dates are derived from these."""

    item_id: str
    department: str
    stage: str
    limit_workdays: int
    prerequisites: tuple[str, ...]


def due_after(calendar: WorkCalendar, start: date, limit_workdays: int) -> DueDate:
    """The due date of an item started on `start`; a 即办件 (0) is due the next working day on
    or after `start`. Provisional when the counted days touch an unknown year."""
    if limit_workdays > 0:
        return calendar.due_date(start, limit_workdays)
    on = calendar.next_workday(start)
    years = range(start.year, on.year + 1)
    return DueDate(on, provisional=any(not calendar.is_known(date(y, 1, 1)) for y in years))


def remaining_stages(scheme: Scheme, current_stage: str) -> tuple[str, ...]:
    """The scheme's stage ids from `current_stage` on; KeyError for an unknown stage."""
    ids = [s.id for s in scheme.stages]
    if current_stage not in ids:
        raise KeyError(current_stage)
    return tuple(ids[ids.index(current_stage) :])


def plan_for_project(
    scheme: Scheme, category_id: str, current_stage: str, start: date, calendar: WorkCalendar
) -> Plan:
    """The plan of a project of `category_id` standing at `current_stage`, from `start`."""
    return build_plan(
        scheme.items_for(category_id), remaining_stages(scheme, current_stage), start, calendar
    )


def build_plan(
    items: Iterable[ChecklistItem],
    stages: Sequence[str],
    start: date,
    calendar: WorkCalendar,
) -> Plan:
    """Plan the applicable `items` over the remaining `stages` (in order) from `start`.

    Items of other stages are left out; prerequisites outside the plan count as satisfied.
    PlanError for duplicate ids, a prerequisite in a later stage, or a prerequisite cycle.
    """
    stage_list = tuple(stages)
    specs: list[_Spec] = []
    seen: set[str] = set()
    for item in items:
        if item.stage not in stage_list:
            continue
        if item.id in seen:
            raise PlanError("plan.duplicate_item", item=item.id)
        seen.add(item.id)
        specs.append(
            _Spec(item.id, item.department, item.stage, item.limit_workdays, item.prerequisites)
        )
    specs = [replace(s, prerequisites=_inside(s.prerequisites, seen)) for s in specs]
    return _schedule(start, stage_list, specs, calendar)


def _inside(prerequisites: Iterable[str], ids: set[str] | Mapping[str, object]) -> tuple[str, ...]:
    # Duplicates are dropped so that a snapshot never lists a prerequisite twice.
    return tuple(dict.fromkeys(p for p in prerequisites if p in ids))


def _schedule(
    start: date,
    stages: tuple[str, ...],
    specs: Sequence[_Spec],
    calendar: WorkCalendar,
    *,
    fixed: Mapping[str, date] | None = None,
    floors: Mapping[str, date] | None = None,
) -> Plan:
    """Order the specs and date them. `fixed` due dates are the butler's; `floors` are the
    earliest planned starts allowed (the previous plan's, so replanning only pushes later)."""
    fixed = fixed or {}
    floors = floors or {}
    by_id = {s.item_id: s for s in specs}
    stage_rank = {s: n for n, s in enumerate(stages)}
    for spec in specs:
        if spec.stage not in stage_rank:
            raise PlanError("plan.unknown_stage", item=spec.item_id, stage=spec.stage)
        for needed in spec.prerequisites:
            if stage_rank[by_id[needed].stage] > stage_rank[spec.stage]:
                raise PlanError(
                    "plan.prerequisite_later_stage", item=spec.item_id, prerequisite=needed
                )
    depth = _depths(specs)
    catalogue = {s.item_id: n for n, s in enumerate(specs)}
    ordered = sorted(
        specs, key=lambda s: (stage_rank[s.stage], depth[s.item_id], catalogue[s.item_id])
    )
    planned: dict[str, PlannedItem] = {}
    for spec in ordered:
        before = [planned[p] for p in spec.prerequisites]
        item_start = max([start, *(p.due_on for p in before)])
        if spec.item_id in floors:
            item_start = max(item_start, floors[spec.item_id])
        inherited = any(p.provisional for p in before)
        held = fixed.get(spec.item_id)
        if held is not None and held >= item_start:
            due, provisional, is_fixed = held, inherited, True
        else:
            # A hand-set date that a prerequisite has overtaken no longer holds.
            computed = due_after(calendar, item_start, spec.limit_workdays)
            due, provisional, is_fixed = computed.on, computed.provisional or inherited, False
        planned[spec.item_id] = PlannedItem(
            item_id=spec.item_id,
            department=spec.department,
            stage=spec.stage,
            limit_workdays=spec.limit_workdays,
            prerequisites=spec.prerequisites,
            planned_start=item_start,
            due_on=due,
            provisional=provisional,
            parallel_group=depth[spec.item_id],
            fixed_due=is_fixed,
        )
    return Plan(start=start, stages=stages, items=tuple(planned[s.item_id] for s in ordered))


def _depths(specs: Sequence[_Spec]) -> dict[str, int]:
    """Longest-path depth of every item; PlanError on a cycle."""
    by_id = {s.item_id: s for s in specs}
    depth: dict[str, int] = {}
    for root in specs:
        # Iterative DFS: a deep catalogue must not hit the recursion limit.
        stack: list[tuple[str, int]] = [(root.item_id, 0)]
        open_ids: set[str] = set()
        while stack:
            item_id, next_pos = stack.pop()
            if item_id in depth:
                continue
            prerequisites = by_id[item_id].prerequisites
            if next_pos == 0:
                open_ids.add(item_id)
            if next_pos < len(prerequisites):
                needed = prerequisites[next_pos]
                stack.append((item_id, next_pos + 1))
                if needed in open_ids:
                    raise PlanError("plan.cycle", item=item_id, prerequisite=needed)
                if needed not in depth:
                    stack.append((needed, 0))
                continue
            open_ids.discard(item_id)
            depth[item_id] = 1 + max((depth[p] for p in prerequisites), default=-1)
    return depth


def _specs(plan: Plan) -> list[_Spec]:
    return [
        _Spec(p.item_id, p.department, p.stage, p.limit_workdays, p.prerequisites)
        for p in plan.items
    ]


def replan(plan: Plan, changes: Iterable[PlanChange], calendar: WorkCalendar) -> Plan:
    """Apply the butler's changes (/plan …) in order and re-date the plan.

    Items keep at least their previous planned start, so a change only ever pushes other
    items later; a re-dated item takes the given date (PlanError ``plan.due_before_start``
    if that is before its prerequisites are due). Hand-set dates of earlier re-datings are
    kept. PlanError codes: plan.unknown_item, plan.duplicate_item, plan.unknown_stage,
    plan.prerequisite_later_stage, plan.due_before_start.
    """
    specs = {s.item_id: s for s in _specs(plan)}
    fixed = {p.item_id: p.due_on for p in plan.items if p.fixed_due}
    floors = {p.item_id: p.planned_start for p in plan.items}
    redated: dict[str, date] = {}
    for change in changes:
        if isinstance(change, AddItem):
            if change.item_id in specs:
                raise PlanError("plan.duplicate_item", item=change.item_id)
            if change.stage not in plan.stages:
                raise PlanError("plan.unknown_stage", item=change.item_id, stage=change.stage)
            if change.limit_workdays < 0:
                raise PlanError("plan.negative_limit", item=change.item_id)
            specs[change.item_id] = _Spec(
                change.item_id,
                change.department,
                change.stage,
                change.limit_workdays,
                _inside(change.prerequisites, specs),
            )
        elif change.item_id not in specs:
            raise PlanError("plan.unknown_item", item=change.item_id)
        elif isinstance(change, DropItem):
            del specs[change.item_id]
            for other, spec in specs.items():
                if change.item_id in spec.prerequisites:
                    kept = tuple(p for p in spec.prerequisites if p != change.item_id)
                    specs[other] = replace(spec, prerequisites=kept)
            fixed.pop(change.item_id, None)
            floors.pop(change.item_id, None)
            redated.pop(change.item_id, None)
        else:
            redated[change.item_id] = change.due_on
    # The butler's date is their word: a re-dated item has no floor of its own.
    for item_id, due in redated.items():
        fixed[item_id] = due
        floors.pop(item_id, None)
    result = _schedule(
        plan.start, plan.stages, list(specs.values()), calendar, fixed=fixed, floors=floors
    )
    for item_id, due in redated.items():
        if not result.item(item_id).fixed_due:
            raise PlanError(
                "plan.due_before_start",
                item=item_id,
                due_on=due.isoformat(),
                start=result.item(item_id).planned_start.isoformat(),
            )
    return result


def recompute(plan: Plan, calendar: WorkCalendar) -> Plan:
    """The same plan dated with another calendar (e.g. one that gained next year's
    holidays): same start, items, prerequisites and hand-set dates; no floors."""
    fixed = {p.item_id: p.due_on for p in plan.items if p.fixed_due}
    return _schedule(plan.start, plan.stages, _specs(plan), calendar, fixed=fixed)
