"""Reading a plan (一项目一册): key dates per stage (关键时间节点), the critical path,
and which items run in parallel (并联审批)."""

from __future__ import annotations

from domain.calendar import DueDate
from domain.plan_model import Plan

__all__ = ["critical_path", "key_dates", "runs_in_parallel"]


def key_dates(plan: Plan) -> dict[str, DueDate]:
    """Per stage (in order) the latest due date of its items (关键时间节点)."""
    dates: dict[str, DueDate] = {}
    for stage, group in plan.by_stage().items():
        last = max(p.due_on for p in group)
        provisional = any(p.provisional for p in group if p.due_on == last)
        dates[stage] = DueDate(last, provisional)
    return dates


def critical_path(plan: Plan, stage: str | None = None) -> tuple[str, ...]:
    """The chain of items, first to last, that sets the key date of `stage` (of the whole
    plan when None): from the item due last, back through the prerequisite whose due date
    set each start. Ties go to the earlier item in plan order. Empty for an empty stage."""
    pool = [p for p in plan.items if stage is None or p.stage == stage]
    if not pool:
        return ()
    last = max(p.due_on for p in pool)
    current = next(p for p in pool if p.due_on == last)
    chain = [current.item_id]
    while True:
        binding = [
            plan.item(needed)
            for needed in current.prerequisites
            if plan.item(needed).due_on == current.planned_start
        ]
        if not binding:
            break
        current = min(binding, key=lambda p: plan.item_ids.index(p.item_id))
        chain.append(current.item_id)
    return tuple(reversed(chain))


def runs_in_parallel(plan: Plan, first: str, second: str) -> bool:
    """Whether two items of the plan have no prerequisite path between them (并联)."""
    if first == second:
        return False
    return not (_reaches(plan, first, second) or _reaches(plan, second, first))


def _reaches(plan: Plan, later: str, earlier: str) -> bool:
    """Whether `earlier` is a direct or indirect prerequisite of `later`."""
    seen: set[str] = set()
    stack = [later]
    while stack:
        for needed in plan.item(stack.pop()).prerequisites:
            if needed == earlier:
                return True
            if needed not in seen:
                seen.add(needed)
                stack.append(needed)
    return False
