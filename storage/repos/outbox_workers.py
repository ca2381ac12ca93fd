"""Delivery workers' heartbeats (投递心跳) and what happens to a dead worker's claims.

A running worker beats every second or so (`beat`); a claim whose worker has not beaten for
a few seconds is taken over by the next claim (`outbox_claim.claim_statements`). A worker
that stops cleanly says so (`retire`), so that anything it still held is taken over at once.
On SQLite one process delivers: at start-up every claim of another worker id is its own,
from before a crash, and goes back to pending (`release_others`).

Times here are wall-clock instants, never the application's clock: moving the emulator's
clock forward must not make a live worker look dead.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, update

from storage.models import OutboxMessage, OutboxWorker
from storage.repos._base import Repo

RETIRED = datetime(1970, 1, 1, tzinfo=UTC)  # the beat of a worker that stopped


class OutboxWorkerRepo(Repo):
    """The `outbox_workers` table: one row per delivery worker that ever ran."""

    async def beat(self, worker_id: str, wall: datetime) -> None:
        """`worker_id` is alive at `wall` (the row is made on the first beat)."""
        stmt = self.insert(OutboxWorker).values(
            worker_id=worker_id, started_at=wall, beat_at=wall
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[OutboxWorker.worker_id], set_={"beat_at": wall}
        )
        await self.session.execute(stmt)

    async def retire(self, worker_id: str) -> None:
        """`worker_id` stopped: whatever it still holds may be taken over now."""
        await self.session.execute(
            update(OutboxWorker)
            .where(OutboxWorker.worker_id == worker_id)
            .values(beat_at=RETIRED)
        )

    async def forget_before(self, wall: datetime) -> None:
        """Drop the rows of workers silent since before `wall` (long gone; a claim of theirs
        has outlived its lease by then and is taken over anyway)."""
        await self.session.execute(delete(OutboxWorker).where(OutboxWorker.beat_at < wall))

    async def release_others(self, worker_id: str) -> int:
        """Every row claimed by another worker goes back to pending, in its place (SQLite at
        start-up: the one process's own claims from before a crash). How many."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == "sending",
                (OutboxMessage.claimed_by != worker_id) | OutboxMessage.claimed_by.is_(None),
            )
            .values(status="pending", claimed_by=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            update(OutboxWorker)
            .where(OutboxWorker.worker_id != worker_id)
            .values(beat_at=RETIRED)
        )
        return int(getattr(result, "rowcount", 0) or 0)


__all__ = ["RETIRED", "OutboxWorkerRepo"]
