"""Rate slots (限流槽): sends counted against a platform's limits, shared by replicas.

`admit` reads the recent slots of one key and, when every limit leaves room, takes
`count` slots at once; the caller sends only after it committed. On PostgreSQL a
transaction-scoped advisory lock on the key makes two replicas admit one after the other;
SQLite has a single writer already (the unit of work begins IMMEDIATE).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text

from storage.models import RateSlot
from storage.repos._base import Repo

Limit = tuple[int, float]  # (at most this many sends, per this many seconds)


class RateSlotRepo(Repo):
    """Sliding windows over `rate_slots`, one per key (a member, a robot, a group chat)."""

    async def admit(self, key: str, limits: Sequence[Limit], count: int, now: datetime) -> float:
        """Take `count` slots for `key` and return 0, or return the seconds to wait (and
        take nothing) when a limit has no room for all of them. Take `now` after `lock`:
        a time read before waiting for another replica would date the slots too early."""
        await self.lock(key)
        longest = max(period for _, period in limits)
        await self.session.execute(
            delete(RateSlot).where(
                RateSlot.key == key, RateSlot.at <= now - timedelta(seconds=longest)
            )
        )
        times = list(
            await self.session.scalars(
                select(RateSlot.at).where(RateSlot.key == key).order_by(RateSlot.at.desc())
            )
        )  # newest first
        wait = 0.0
        for limit, period in limits:
            if count > limit:
                raise ValueError(f"{count} sends can never fit a limit of {limit}")
            recent = [t for t in times if t > now - timedelta(seconds=period)]
            excess = len(recent) + count - limit
            if excess > 0:
                # The slot that must age out first: the excess-th oldest of the window.
                frees_at = recent[len(recent) - excess] + timedelta(seconds=period)
                wait = max(wait, (frees_at - now).total_seconds(), 0.001)
        if wait > 0:
            return wait
        self.session.add_all(RateSlot(key=key, at=now) for _ in range(count))
        await self.session.flush()
        return 0.0

    async def lock(self, key: str) -> None:
        """Wait for the key's other admissions to commit (PostgreSQL: an advisory lock
        held until this transaction ends; taking it twice is harmless)."""
        if self.dialect == "postgresql":
            lock = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
            await self.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock})

    async def used(self, key: str, period: float, now: datetime) -> int:
        """Slots of `key` taken within the last `period` seconds (tests, benchmarks)."""
        since = now - timedelta(seconds=period)
        found = await self.session.scalar(
            select(func.count()).where(RateSlot.key == key, RateSlot.at > since)
        )
        return int(found or 0)


__all__ = ["Limit", "RateSlotRepo"]
