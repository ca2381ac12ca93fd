"""Checklist items (手续事项) of projects: the rows written from the plan."""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import select

from storage.models import ChecklistItem, Problem, Rating
from storage.repos._base import Repo

OPEN_STATES = ("not_started", "submitted", "in_review", "correction_needed")


class ItemFacts(NamedTuple):
    """What the periodic reports read of an item (no plan JSON): clock and who handles it."""

    id: int
    project_id: int
    name_zh: str
    name_en: str
    department_id: int | None
    assignee_id: int | None
    state: str
    due_on: date | None
    done_on: date | None
    paused_on: date | None


class ItemRepo(Repo):
    """Write a project's items from its plan; read them per project or per assignee."""

    async def add(self, **values: Any) -> ChecklistItem:
        """Insert one item (project_id, code, names, department, dates…)."""
        item = ChecklistItem(**values)
        self.session.add(item)
        await self.session.flush()
        return item

    async def get(self, item_id: int, *, for_update: bool = False) -> ChecklistItem | None:
        """The item with this id, or None."""
        stmt = select(ChecklistItem).where(ChecklistItem.id == item_id)
        if for_update and self.dialect == "postgresql":
            stmt = stmt.with_for_update()
        result = await self.session.execute(stmt)
        return result.scalar_one_or_none()

    async def many(self, item_ids: list[int]) -> dict[int, ChecklistItem]:
        """The items with these ids, by id (one query)."""
        if not item_ids:
            return {}
        result = await self.session.execute(
            select(ChecklistItem).where(self.one_of(ChecklistItem.id, item_ids))
        )
        return {item.id: item for item in result.scalars()}

    async def by_code(
        self, project_id: int, code: str, *, for_update: bool = False
    ) -> ChecklistItem | None:
        """A project's item by its scheme code (e.g. ``construction_permit``)."""
        stmt = select(ChecklistItem).where(
            ChecklistItem.project_id == project_id, ChecklistItem.code == code
        )
        if for_update and self.dialect == "postgresql":
            stmt = stmt.with_for_update()
        result = await self.session.execute(stmt)
        return result.scalars().first()

    async def of_project(self, project_id: int) -> list[ChecklistItem]:
        """A project's items in plan order."""
        result = await self.session.execute(
            select(ChecklistItem)
            .where(ChecklistItem.project_id == project_id)
            .order_by(ChecklistItem.sort, ChecklistItem.id)
        )
        return list(result.scalars())

    async def of_assignee(self, person_id: int, *, open_only: bool = True) -> list[ChecklistItem]:
        """Items a person is responsible for across projects, by due date."""
        stmt = select(ChecklistItem).where(ChecklistItem.assignee_id == person_id)
        if open_only:
            stmt = stmt.where(ChecklistItem.state.in_(OPEN_STATES))
        result = await self.session.execute(
            stmt.order_by(ChecklistItem.due_on, ChecklistItem.project_id, ChecklistItem.sort)
        )
        return list(result.scalars())

    async def open_problems(self, project_id: int) -> list[Problem]:
        """A project's problems not yet resolved (难点问题), oldest first."""
        result = await self.session.execute(
            select(Problem)
            .where(Problem.project_id == project_id, Problem.state != "resolved")
            .order_by(Problem.id)
        )
        return list(result.scalars())

    async def ratings_of(self, project_id: int) -> list[Rating]:
        """A project's ratings (评价), oldest first, for its file (一事一档)."""
        result = await self.session.execute(
            select(Rating).where(Rating.project_id == project_id).order_by(Rating.at, Rating.id)
        )
        return list(result.scalars())

    async def facts(self) -> list[ItemFacts]:
        """Every item's report facts, by project and order: one narrow query, no ORM rows
        (a district's month report reads tens of thousands)."""
        c = ChecklistItem
        result = await self.session.execute(
            select(
                c.id,
                c.project_id,
                c.name_zh,
                c.name_en,
                c.department_id,
                c.assignee_id,
                c.state,
                c.due_on,
                c.done_on,
                c.paused_on,
            ).order_by(c.project_id, c.sort, c.id)
        )
        return [ItemFacts._make(row) for row in result.all()]


__all__ = ["OPEN_STATES", "ItemFacts", "ItemRepo"]
