"""Difficult problems (难点问题) on the dispatch ladder: open, raise, ack, resolve.

A problem lists one or more items of its project (``problem_items``): a project's overdue
items share one open problem, and a person may split one item out onto its own.
``Problem.item_id`` stays the first item listed (None for a project-wide problem).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, select

from storage.models import Problem, ProblemItem
from storage.repos._base import Repo

UNRESOLVED = ("open", "acked")


class ProblemRepo(Repo):
    """Problems and their moves; the ladder's rules live in ``domain/ladder.py``."""

    async def open(
        self,
        *,
        project_id: int,
        item_id: int | None,
        level: int,
        reason: str,
        auto: bool,
        opened_by_id: int | None,
        now: datetime,
    ) -> Problem:
        """A new open problem at ``level``."""
        problem = Problem(
            project_id=project_id,
            item_id=item_id,
            level=level,
            state="open",
            reason=reason,
            auto=auto,
            opened_by_id=opened_by_id,
            opened_at=now,
            raised_at=now,
        )
        self.session.add(problem)
        await self.session.flush()
        if item_id is not None:
            await self.add_item(problem, item_id, now, None if auto else reason)
        return problem

    async def add_item(
        self, problem: Problem, item_id: int, now: datetime, reason: str | None = None
    ) -> None:
        """List the item on the problem (a person's ``reason`` replaces an earlier one)."""
        rows = await self.session.execute(
            select(ProblemItem).where(
                ProblemItem.problem_id == problem.id, ProblemItem.item_id == item_id
            )
        )
        link = rows.scalar_one_or_none()
        if link is None:
            self.session.add(
                ProblemItem(problem_id=problem.id, item_id=item_id, joined_at=now, reason=reason)
            )
        elif reason is not None:
            link.reason = reason
        if problem.item_id is None:
            problem.item_id = item_id
        await self.session.flush()

    async def remove_item(self, problem: Problem, item_id: int) -> None:
        """Take the item off the problem (it is split out onto a problem of its own)."""
        await self.session.execute(
            delete(ProblemItem).where(
                ProblemItem.problem_id == problem.id, ProblemItem.item_id == item_id
            )
        )
        if problem.item_id == item_id:
            rest = await self.items_of(problem.id)
            problem.item_id = rest[0].item_id if rest else None
        await self.session.flush()

    async def items_of(self, problem_id: int) -> list[ProblemItem]:
        """The items the problem lists, in the order they joined."""
        return (await self.items_of_many([problem_id])).get(problem_id, [])

    async def items_of_many(self, problem_ids: list[int]) -> dict[int, list[ProblemItem]]:
        """The items each problem lists, in the order they joined (one query)."""
        out: dict[int, list[ProblemItem]] = {pid: [] for pid in problem_ids}
        if not problem_ids:
            return out
        rows = await self.session.execute(
            select(ProblemItem)
            .where(ProblemItem.problem_id.in_(problem_ids))
            .order_by(ProblemItem.problem_id, ProblemItem.id)
        )
        for link in rows.scalars():
            out[link.problem_id].append(link)
        return out

    async def unresolved_by_item(self, project_ids: list[int] | None = None) -> dict[int, Problem]:
        """Each item on an unresolved problem (of these projects, or of all), with that
        problem (the newest, should an item be on two): who must act on which item, in
        one query."""
        stmt = (
            select(ProblemItem.item_id, Problem)
            .join(Problem, Problem.id == ProblemItem.problem_id)
            .where(Problem.state.in_(UNRESOLVED))
            .order_by(Problem.id)
        )
        if project_ids is not None:
            stmt = stmt.where(self.one_of(Problem.project_id, project_ids))
        rows = await self.session.execute(stmt)
        return {item_id: problem for item_id, problem in rows.all()}

    async def projects_unresolved(self) -> set[int]:
        """The projects with an open or acknowledged problem."""
        rows = await self.session.execute(
            select(Problem.project_id).where(Problem.state.in_(UNRESOLVED)).distinct()
        )
        return set(rows.scalars())

    async def unresolved_of(self, project_ids: list[int]) -> list[Problem]:
        """These projects' open or acknowledged problems, highest level first."""
        if not project_ids:
            return []
        rows = await self.session.execute(
            select(Problem)
            .where(Problem.state.in_(UNRESOLVED), self.one_of(Problem.project_id, project_ids))
            .order_by(Problem.level.desc(), Problem.opened_at, Problem.id)
        )
        return list(rows.scalars())

    async def get(self, problem_id: int) -> Problem | None:
        """The problem, or None."""
        return await self.session.get(Problem, problem_id, populate_existing=True)

    async def every(self) -> list[Problem]:
        """Every problem ever raised, by id (the periodic reports count them by zone)."""
        rows = await self.session.execute(select(Problem).order_by(Problem.id))
        return list(rows.scalars())

    async def unresolved(self) -> list[Problem]:
        """Every open or acknowledged problem (index ``state, level``), highest level first."""
        rows = await self.session.execute(
            select(Problem)
            .where(Problem.state.in_(UNRESOLVED))
            .order_by(Problem.level.desc(), Problem.opened_at, Problem.id)
        )
        return list(rows.scalars())

    async def unresolved_for_item(self, item_id: int) -> Problem | None:
        """The unresolved problem listing the item, if any (the newest)."""
        rows = await self.session.execute(
            select(Problem)
            .join(ProblemItem, ProblemItem.problem_id == Problem.id)
            .where(ProblemItem.item_id == item_id, Problem.state.in_(UNRESOLVED))
            .order_by(Problem.id.desc())
            .limit(1)
        )
        return rows.scalar_one_or_none()

    async def unresolved_for_project(self, project_id: int) -> list[Problem]:
        """The project's unresolved problems, newest first."""
        rows = await self.session.execute(
            select(Problem)
            .where(Problem.project_id == project_id, Problem.state.in_(UNRESOLVED))
            .order_by(Problem.id.desc())
        )
        return list(rows.scalars())

    async def resolved_between(self, since: datetime, until: datetime) -> list[Problem]:
        """Problems resolved in [since, until)."""
        rows = await self.session.execute(
            select(Problem)
            .where(Problem.resolved_at >= since, Problem.resolved_at < until)
            .order_by(Problem.id)
        )
        return list(rows.scalars())

    async def raise_to(self, problem: Problem, level: int, now: datetime) -> None:
        """Move the problem up to ``level``; it is open (unacknowledged) again."""
        problem.level = level
        problem.raised_at = now
        problem.state = "open"
        problem.ack_until = None
        await self.session.flush()

    async def ack(self, problem: Problem, owner_id: int, until: date, now: datetime) -> None:
        """Someone took the problem; auto-raise pauses until ``until`` (inclusive)."""
        problem.state = "acked"
        problem.owner_id = owner_id
        problem.acked_at = now
        problem.ack_until = until
        await self.session.flush()

    async def resolve(self, problem: Problem, by_id: int, minutes: str, now: datetime) -> None:
        """Close the problem with the meeting minutes (会议纪要)."""
        problem.state = "resolved"
        problem.resolved_at = now
        problem.resolved_by_id = by_id
        problem.minutes = minutes
        await self.session.flush()


__all__ = ["UNRESOLVED", "ProblemRepo"]
