"""The daily round in slices (巡检分片): short transactions under one lease.

The round writes a district's nudges and ladder moves in slices of a few projects or
people, each slice its own transaction (on SQLite the only writer: an answer to someone
waits at most one slice, not the whole round). Every slice first renews the round's lease
(`HELD_JOB`, in real time), so two replicas never run the same day's round at once; a
holder that crashed stops renewing, and once its lease has been silent for
``silent_after`` the next tick takes the round over and runs it again from the start.
Running again is safe: every message's dedupe key names the day and its reader, a
problem's moves depend only on what is stored, and the nudge log reads what today has
already logged. The day's claim (`ROUND_JOB`) is written last: the round is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from storage.db import Database
from storage.uow import UnitOfWork

ROUND_JOB = "daily-round"  # claimed when the day's round is complete
HELD_JOB = "daily-round:held"  # the lease of the round running now
SILENT_AFTER = timedelta(seconds=15)  # a round holder silent this long is dead
SLICE_SECONDS = 0.25  # what a slice aims at; its size follows the last one's time
# SQLite between slices: another process waiting for the one writer polls with sleeps of up
# to 100 ms (SQLite's busy handler), so a round run by `daiban jobs run tick` next to the
# serving process leaves it a gap that long; in one process the units of work take turns.
SQLITE_GAP = 0.12
MAX_UNITS = 400

T = TypeVar("T")


class RoundLost(Exception):
    """Another holder took the round over (this one was silent too long): stop here."""


def wall_now() -> datetime:
    """The real time: leases are measured in it, never in the application's clock."""
    return datetime.now(UTC)


@dataclass
class RoundSlices:
    """One holder's run of one day's round."""

    db: Database
    day: str
    silent_after: timedelta = SILENT_AFTER
    holder: str = field(default_factory=lambda: f"round-{uuid.uuid4().hex[:12]}")
    slices: int = 0

    async def take(self) -> bool:
        """Hold the day's round: False when it is done, or a live holder runs it."""
        async with UnitOfWork(self.db) as uow:
            if await uow.jobs.ran(ROUND_JOB, self.day):
                return False
            wall = wall_now()
            return await uow.jobs.hold(
                HELD_JOB, self.day, self.holder, wall, wall - self.silent_after
            )

    async def finish(self, at: datetime) -> None:
        """The round is complete: claim the day, give up the lease."""
        async with self.slice() as uow:
            await uow.jobs.claim(ROUND_JOB, self.day, at)
            await uow.jobs.let_go(HELD_JOB, self.day, self.holder)

    async def let_go(self) -> None:
        """Give the lease up after a failure, so that the next tick retries at once."""
        async with UnitOfWork(self.db) as uow:
            await uow.jobs.let_go(HELD_JOB, self.day, self.holder)

    @contextlib.asynccontextmanager
    async def slice(self) -> AsyncIterator[UnitOfWork]:
        """One slice's transaction, under the renewed lease (`RoundLost` if taken over)."""
        async with UnitOfWork(self.db) as uow:
            if not await uow.jobs.renew(HELD_JOB, self.day, self.holder, wall_now()):
                raise RoundLost(self.day)
            yield uow
        self.slices += 1
        # Whoever waited for the database goes first.
        await asyncio.sleep(SQLITE_GAP if self.db.dialect == "sqlite" else 0)

    async def each(
        self,
        units: Sequence[T],
        work: Callable[[UnitOfWork, Sequence[T]], Awaitable[None]],
        first: int = 20,
    ) -> None:
        """``work`` on consecutive runs of ``units``, one slice each; a run grows or
        shrinks so that a slice takes about `SLICE_SECONDS`."""
        size, done = max(1, first), 0
        while done < len(units):
            chunk = units[done : done + size]
            async with self.slice() as uow:
                started = time.perf_counter()  # the work, not the wait for the database
                await work(uow, chunk)
                took = time.perf_counter() - started
            done += len(chunk)
            if took > SLICE_SECONDS:
                size = max(1, int(size * SLICE_SECONDS / took))
            elif took < SLICE_SECONDS / 2:
                size = min(MAX_UNITS, size * 2)


__all__ = ["HELD_JOB", "ROUND_JOB", "RoundLost", "RoundSlices", "wall_now"]
