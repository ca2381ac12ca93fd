"""Government–enterprise activities (政企互动) for the quarterly statistics."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from storage.models import Activity
from storage.repos._base import Repo


class ActivityRepo(Repo):
    async def add(self, **values: Any) -> Activity:
        """Record one activity (kind, held_on, counts, topics, who and which department)."""
        activity = Activity(**values)
        self.session.add(activity)
        await self.session.flush()
        return activity

    async def held_between(self, first: date, last: date) -> list[Activity]:
        """Activities held from ``first`` to ``last`` inclusive, by date."""
        rows = await self.session.execute(
            select(Activity)
            .where(Activity.held_on >= first, Activity.held_on <= last)
            .order_by(Activity.held_on, Activity.id)
        )
        return list(rows.scalars())
