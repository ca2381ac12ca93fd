"""Ratings (评价) of a rating round and the follow-up of bad reviews (差评回访整改)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from storage.models import Rating
from storage.repos._base import Repo

BAD_LEVELS = (1, 2)
"""不满意 and 非常不满意: a bad review that the office must call back and rectify."""


class RatingRepo(Repo):
    """Record ratings once per (project, rater, subject, period) and track follow-ups."""

    async def add(
        self,
        *,
        project_id: int,
        rater_id: int,
        subject: str,
        period: str,
        level: int,
        comment: str | None,
        now: datetime,
        follow_up_due: date | None,
    ) -> bool:
        """Record a rating; False when this rater already rated this subject this period."""
        bad = level in BAD_LEVELS
        return await self.insert_if_new(
            Rating,
            {
                "project_id": project_id,
                "rater_id": rater_id,
                "subject": subject,
                "period": period,
                "level": level,
                "comment": comment,
                "at": now,
                "follow_up": "open" if bad else None,
                "follow_up_due": follow_up_due if bad else None,
            },
        )

    async def find(
        self, project_id: int, rater_id: int, subject: str, period: str
    ) -> Rating | None:
        """The rating given, or None."""
        rows = await self.session.execute(
            select(Rating).where(
                Rating.project_id == project_id,
                Rating.rater_id == rater_id,
                Rating.subject == subject,
                Rating.period == period,
            )
        )
        return rows.scalar_one_or_none()

    async def get(self, rating_id: int) -> Rating | None:
        """The rating, or None."""
        return await self.session.get(Rating, rating_id, populate_existing=True)

    async def every(self) -> list[Rating]:
        """Every rating ever given, by id (the periodic reports pick their period's)."""
        rows = await self.session.execute(select(Rating).order_by(Rating.id))
        return list(rows.scalars())

    async def of_period(self, period: str) -> list[Rating]:
        """Every rating of ``period``."""
        rows = await self.session.execute(
            select(Rating).where(Rating.period == period).order_by(Rating.id)
        )
        return list(rows.scalars())

    async def open_follow_ups(self) -> list[Rating]:
        """Bad reviews whose follow-up is not done, the earliest deadline first."""
        rows = await self.session.execute(
            select(Rating)
            .where(Rating.follow_up == "open")
            .order_by(Rating.follow_up_due, Rating.id)
        )
        return list(rows.scalars())

    async def close_follow_up(self, rating: Rating) -> None:
        """The bad review was called back and rectified."""
        rating.follow_up = "done"
        await self.session.flush()


__all__ = ["BAD_LEVELS", "RatingRepo"]
