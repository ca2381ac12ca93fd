"""The plan as data (一项目一册): `Plan` and `PlannedItem`, and their JSON snapshot.

Building and re-dating a plan is `domain.planning`; reading one (key dates, the critical
path, what runs in parallel) is `domain.plan_reading`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

__all__ = ["PLAN_FORMAT", "Plan", "PlanError", "PlannedItem"]

PLAN_FORMAT = 1
"""Version of the JSON snapshot written by `Plan.to_json`."""


class PlanError(ValueError):
    """A plan that cannot be built or a change that cannot apply; `code` names the reason."""

    def __init__(self, code: str, **detail: str) -> None:
        self.code = code
        self.detail: dict[str, str] = detail
        shown = ", ".join(f"{key}={value}" for key, value in detail.items())
        super().__init__(f"{code}: {shown}" if shown else code)


@dataclass(frozen=True)
class PlannedItem:
    """One item of the plan (手续事项) with its planned start and due date.

    ``prerequisites`` lists only prerequisites inside the plan. ``fixed_due`` marks a due
    date the butler set by hand (`Redate`), kept until a prerequisite is pushed past it.
    """

    item_id: str
    department: str
    stage: str
    limit_workdays: int
    prerequisites: tuple[str, ...]
    planned_start: date
    due_on: date
    provisional: bool
    parallel_group: int
    fixed_due: bool = False

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: dates as ISO strings, tuples as lists."""
        return {
            "item_id": self.item_id,
            "department": self.department,
            "stage": self.stage,
            "limit_workdays": self.limit_workdays,
            "prerequisites": list(self.prerequisites),
            "planned_start": self.planned_start.isoformat(),
            "due_on": self.due_on.isoformat(),
            "provisional": self.provisional,
            "parallel_group": self.parallel_group,
            "fixed_due": self.fixed_due,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlannedItem:
        """The item written by `to_json`."""
        return cls(
            item_id=str(data["item_id"]),
            department=str(data["department"]),
            stage=str(data["stage"]),
            limit_workdays=int(data["limit_workdays"]),
            prerequisites=tuple(str(p) for p in data["prerequisites"]),
            planned_start=date.fromisoformat(data["planned_start"]),
            due_on=date.fromisoformat(data["due_on"]),
            provisional=bool(data["provisional"]),
            parallel_group=int(data["parallel_group"]),
            fixed_due=bool(data.get("fixed_due", False)),
        )


@dataclass(frozen=True)
class Plan:
    """A project's plan: remaining stages in order, items in stable order (一项目一册).

    Items are ordered by stage, then `parallel_group` (a topological order), then the
    order in which they were given (catalogue order; added items come last).
    """

    start: date
    stages: tuple[str, ...]
    items: tuple[PlannedItem, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {p.item_id: n for n, p in enumerate(self.items)})

    @property
    def provisional(self) -> bool:
        """Whether any date of the plan relies on a year the calendar does not know."""
        return any(p.provisional for p in self.items)

    @property
    def item_ids(self) -> tuple[str, ...]:
        """The item ids in plan order."""
        return tuple(p.item_id for p in self.items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._index

    def item(self, item_id: str) -> PlannedItem:
        """The planned item with this id; KeyError if it is not in the plan."""
        return self.items[self._index[item_id]]

    def by_stage(self) -> dict[str, tuple[PlannedItem, ...]]:
        """Items grouped by stage, stages in order; stages without items are left out."""
        groups = {s: tuple(p for p in self.items if p.stage == s) for s in self.stages}
        return {s: group for s, group in groups.items() if group}

    def dependents(self, item_id: str) -> tuple[str, ...]:
        """Items that list `item_id` as a direct prerequisite, in plan order."""
        return tuple(p.item_id for p in self.items if item_id in p.prerequisites)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for the project snapshot (dates as ISO strings)."""
        return {
            "format": PLAN_FORMAT,
            "start": self.start.isoformat(),
            "stages": list(self.stages),
            "items": [p.to_json() for p in self.items],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        """The plan written by `to_json`; PlanError for a snapshot of an unknown format."""
        if data.get("format") != PLAN_FORMAT:
            raise PlanError("plan.unknown_format", format=str(data.get("format")))
        return cls(
            start=date.fromisoformat(data["start"]),
            stages=tuple(str(s) for s in data["stages"]),
            items=tuple(PlannedItem.from_json(p) for p in data["items"]),
        )
