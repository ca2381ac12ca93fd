"""The delivery worker's claim on both backends: a dead worker's rows first, never more
than a batch, each chat in order, and the kept replies of a handler in queue order."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.outbox import DeliveryWorker
from domain.clock import FakeClock
from storage.db import Database
from storage.models import OutboxMessage
from storage.uow import UnitOfWork

pytestmark = pytest.mark.asyncio


class Nowhere:
    async def send(self, chat_external_id: str, payload: dict) -> None:  # pragma: no cover
        raise AssertionError("these tests only claim")


async def put(db: Database, now: datetime, *rows: tuple[str, str]) -> None:
    """Rows (chat, dedupe key) in this order."""
    async with UnitOfWork(db) as uow:
        for chat, key in rows:
            await uow.outbox.enqueue(
                platform="telegram", chat_external_id=chat, payload={"k": key},
                dedupe_key=key, now=now,
            )


async def abandon(db: Database, keys: list[str], at: datetime) -> None:
    """As if a worker that died at `at` had claimed these rows."""
    async with UnitOfWork(db) as uow:
        await uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.dedupe_key.in_(keys))
            .values(status="sending", claimed_by="dead-worker", claimed_at=at)
        )


async def states(db: Database) -> dict[str, tuple[str, str | None]]:
    async with UnitOfWork(db) as uow:
        rows = await uow.session.execute(
            select(OutboxMessage.dedupe_key, OutboxMessage.status, OutboxMessage.claimed_by)
        )
        return {key: (status, by) for key, status, by in rows}


def worker(db: Database, now: datetime, batch: int) -> DeliveryWorker:
    """A worker whose application clock and real time both read `now`."""
    return DeliveryWorker(
        db,
        {"telegram": Nowhere()},
        FakeClock(now),
        batch=batch,
        lease=timedelta(minutes=2),
        wall=lambda: now,
    )


async def test_a_dead_workers_rows_come_first_and_a_claim_never_exceeds_its_batch(
    db: Database, now: datetime
) -> None:
    await put(db, now, ("a", "a1"), ("a", "a2"), ("b", "b1"), ("b", "b2"), ("c", "c1"))
    await abandon(db, ["a1", "a2"], now - timedelta(minutes=10))
    claiming = worker(db, now, batch=3)
    claimed = await claiming._claim(exclude=())
    assert [r.dedupe_key for r in claimed] == ["a1", "a2", "b1"]
    after = await states(db)
    # Exactly what was returned is claimed by this worker; nothing is held unreturned.
    mine = {k for k, (status, by) in after.items() if by == claiming.worker_id}
    assert mine == {"a1", "a2", "b1"}
    assert after["b2"] == ("pending", None) and after["c1"] == ("pending", None)


async def test_rows_behind_a_reclaimed_one_wait_for_the_next_claim(
    db: Database, now: datetime
) -> None:
    await put(db, now, ("a", "a1"), ("a", "a2"), ("b", "b1"))
    await abandon(db, ["a1"], now - timedelta(minutes=10))
    claiming = worker(db, now, batch=10)
    first = await claiming._claim(exclude=())
    assert [r.dedupe_key for r in first] == ["a1", "b1"], "a2 must not overtake a1"
    async with UnitOfWork(db) as uow:
        await uow.outbox.mark_sent(first[0].id, now)
    second = await claiming._claim(exclude=())
    assert [r.dedupe_key for r in second] == ["a2"]


async def test_a_live_claim_or_a_later_retry_keeps_the_chat_waiting(
    db: Database, now: datetime
) -> None:
    await put(db, now, ("a", "a1"), ("a", "a2"), ("b", "b1"), ("b", "b2"))
    await abandon(db, ["a1"], now - timedelta(seconds=30))  # still within its lease
    async with UnitOfWork(db) as uow:
        b1 = (
            await uow.session.execute(
                select(OutboxMessage.id).where(OutboxMessage.dedupe_key == "b1")
            )
        ).scalar_one()
        await uow.outbox.retry_later(b1, now + timedelta(minutes=1), "429")
    claimed = await worker(db, now, batch=10)._claim(exclude=())
    assert claimed == []


async def test_kept_replies_and_immediate_rows_keep_their_queue_order(
    db: Database, now: datetime
) -> None:
    async with UnitOfWork(db) as uow:
        uow.outbox.enqueue_later(
            platform="telegram", chat_external_id="g", payload={}, dedupe_key="reply-1", now=now
        )
        assert await uow.outbox.enqueue(
            platform="telegram", chat_external_id="g", payload={}, dedupe_key="notice", now=now
        )
        uow.outbox.enqueue_later(
            platform="telegram", chat_external_id="g", payload={}, dedupe_key="reply-2", now=now
        )
        uow.outbox.enqueue_later(  # a key used before is skipped, as with enqueue
            platform="telegram", chat_external_id="g", payload={}, dedupe_key="notice", now=now
        )
    async with UnitOfWork(db) as uow:
        keys = (
            await uow.session.execute(
                select(OutboxMessage.dedupe_key).order_by(OutboxMessage.id)
            )
        ).scalars()
        assert list(keys) == ["reply-1", "notice", "reply-2"]


async def test_kept_replies_are_dropped_with_a_rolled_back_transaction(
    db: Database, now: datetime
) -> None:
    with pytest.raises(RuntimeError):
        async with UnitOfWork(db) as uow:
            uow.outbox.enqueue_later(
                platform="telegram", chat_external_id="g", payload={}, dedupe_key="r", now=now
            )
            raise RuntimeError("the handler failed")
    assert await states(db) == {}
