"""Quiet periods (免打扰): who asked not to get the morning message, and until when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from storage.models import Mute
from storage.repos._base import Repo


class MuteRepo(Repo):
    """Set, read and clear a person's quiet period (one row per person)."""

    async def until(self, person_id: int, now: datetime) -> datetime | None:
        """When the person's quiet period ends, if it is still running at ``now``."""
        mute = await self.session.get(Mute, person_id)
        return mute.until if mute is not None and mute.until > now else None

    async def set(self, person_id: int, until: datetime, now: datetime) -> None:
        """Be quiet for the person until ``until`` (replaces an earlier setting)."""
        mute = await self.session.get(Mute, person_id)
        if mute is None:
            self.session.add(Mute(person_id=person_id, until=until, set_at=now))
        else:
            mute.until, mute.set_at = until, now
        await self.session.flush()

    async def clear(self, person_id: int) -> bool:
        """End the person's quiet period; False when there was none."""
        result = await self.session.execute(delete(Mute).where(Mute.person_id == person_id))
        return bool(getattr(result, "rowcount", 0))

    async def muted(self, now: datetime) -> dict[int, datetime]:
        """Everyone quiet at ``now``, with the end of their quiet period."""
        rows = await self.session.execute(
            select(Mute.person_id, Mute.until).where(Mute.until > now)
        )
        return {int(pid): until for pid, until in rows}


__all__ = ["MuteRepo"]
