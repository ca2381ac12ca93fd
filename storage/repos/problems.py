"""Difficult problems (难点问题) on the dispatch ladder: open, raise, ack, resolve."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from storage.models import Problem
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
        return problem

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
        """The item's unresolved problem, if any (the newest)."""
        rows = await self.session.execute(
            select(Problem)
            .where(Problem.item_id == item_id, Problem.state.in_(UNRESOLVED))
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
