"""The outbox: dedupe keys, claims by concurrent workers, leases, and settling messages."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from storage.db import Database
from storage.repos.outbox_claim import ClaimedMessage
from storage.uow import UnitOfWork

pytestmark = pytest.mark.asyncio

LEASE = timedelta(minutes=5)


async def claim(
    uow: UnitOfWork, at: datetime, *, limit: int, worker_id: str, lease: timedelta
) -> list[ClaimedMessage]:
    """The worker's claim, for the one platform these tests write."""
    return await uow.outbox.claim_due(
        at, limit=limit, worker_id=worker_id, lease=lease, platforms=("telegram",)
    )


async def _enqueue(db: Database, now: datetime, count: int) -> None:
    async with UnitOfWork(db) as uow:
        for i in range(count):
            await uow.outbox.enqueue(
                platform="telegram",
                chat_external_id=f"chat{i}",
                payload={"text": f"m{i}"},
                dedupe_key=f"k{i}",
                now=now,
            )


async def test_dedupe_key_is_enforced(db: Database, now: datetime) -> None:
    async with UnitOfWork(db) as uow:
        assert await uow.outbox.enqueue(
            platform="wecom",
            chat_external_id="c",
            payload={"a": 1},
            dedupe_key="nudge:item7:2026-03-02:1",
            now=now,
        )
    async with UnitOfWork(db) as uow:
        assert not await uow.outbox.enqueue(
            platform="wecom",
            chat_external_id="c",
            payload={"a": 2},
            dedupe_key="nudge:item7:2026-03-02:1",
            now=now,
        )
        assert await uow.outbox.pending_count() == 1


async def test_claim_due_returns_due_rows_in_id_order_and_marks_them(
    db: Database, now: datetime
) -> None:
    await _enqueue(db, now, 3)
    async with UnitOfWork(db) as uow:
        await uow.outbox.enqueue(
            platform="telegram",
            chat_external_id="later",
            payload={},
            dedupe_key="later",
            now=now,
            not_before=now + timedelta(hours=1),
            source_event_id=42,
        )
    async with UnitOfWork(db) as uow:
        claimed = await claim(uow, now, limit=10, worker_id="w1", lease=LEASE)
    assert [m.dedupe_key for m in claimed] == ["k0", "k1", "k2"]
    assert [m.id for m in claimed] == sorted(m.id for m in claimed)
    async with UnitOfWork(db) as uow:
        rows = [await uow.outbox.get(m.id) for m in claimed]
        assert all(
            m is not None
            and (m.status, m.claimed_by, m.attempts, m.claimed_at) == ("sending", "w1", 1, now)
            for m in rows
        )
        assert await claim(uow, now, limit=10, worker_id="w2", lease=LEASE) == []
        later = await claim(
            uow, now + timedelta(hours=1), limit=10, worker_id="w2", lease=timedelta(hours=2)
        )
        assert [m.dedupe_key for m in later] == ["later"]
        row = await uow.outbox.get(later[0].id)
        assert row is not None and row.source_event_id == "42"


async def test_two_concurrent_workers_never_claim_the_same_row(db: Database, now: datetime) -> None:
    await _enqueue(db, now, 10)
    first_claimed = asyncio.Event()
    release_first = asyncio.Event()

    async def worker_a() -> list[int]:
        async with UnitOfWork(db) as uow:
            rows = await claim(uow, now, limit=4, worker_id="a", lease=LEASE)
            first_claimed.set()
            await release_first.wait()  # hold the claim (and its locks) open
            return [m.id for m in rows]

    async def worker_b() -> list[int]:
        await first_claimed.wait()
        async with UnitOfWork(db) as uow:
            rows = await claim(uow, now, limit=10, worker_id="b", lease=LEASE)
            return [m.id for m in rows]

    task_a = asyncio.create_task(worker_a())
    task_b = asyncio.create_task(worker_b())
    await first_claimed.wait()
    await asyncio.sleep(0.3)
    if db.dialect == "postgresql":
        assert task_b.done()  # SKIP LOCKED: b took the other rows without waiting for a
    else:
        assert not task_b.done()  # BEGIN IMMEDIATE: b waits for a's transaction
    release_first.set()
    a_ids, b_ids = await asyncio.gather(task_a, task_b)
    assert len(a_ids) == 4
    assert not set(a_ids) & set(b_ids)
    assert len(set(a_ids) | set(b_ids)) == 10


async def test_many_workers_racing_claim_each_row_once(db: Database, now: datetime) -> None:
    await _enqueue(db, now, 30)

    async def worker(name: str) -> list[int]:
        ids: list[int] = []
        while True:
            async with UnitOfWork(db) as uow:
                rows = await claim(uow, now, limit=3, worker_id=name, lease=LEASE)
            if not rows:
                return ids
            ids.extend(m.id for m in rows)
            await asyncio.sleep(0)

    results = await asyncio.gather(*(worker(f"w{i}") for i in range(5)))
    every = [i for ids in results for i in ids]
    assert len(every) == len(set(every)) == 30


async def test_lease_expiry_reclaims_a_crashed_workers_rows(db: Database, now: datetime) -> None:
    await _enqueue(db, now, 2)
    async with UnitOfWork(db) as uow:
        crashed = await claim(uow, now, limit=1, worker_id="crashed", lease=LEASE)
    assert len(crashed) == 1
    async with UnitOfWork(db) as uow:  # within the lease: only the other row
        rows = await claim(
            uow, now + LEASE - timedelta(seconds=1), limit=10, worker_id="w2", lease=LEASE
        )
        assert [m.dedupe_key for m in rows] == ["k1"]
    async with UnitOfWork(db) as uow:  # lease over: the crashed worker's row comes back
        rows = await claim(
            uow, now + LEASE + timedelta(seconds=1), limit=10, worker_id="w3", lease=LEASE
        )
        assert [m.id for m in rows] == [crashed[0].id]
        row = await uow.outbox.get(rows[0].id)
        assert row is not None and (row.claimed_by, row.attempts) == ("w3", 2)


async def test_mark_sent_retry_later_and_mark_failed(db: Database, now: datetime) -> None:
    await _enqueue(db, now, 3)
    async with UnitOfWork(db) as uow:
        assert await uow.outbox.pending_count() == 3
        assert await uow.outbox.oldest_pending_age(now + timedelta(minutes=2)) == timedelta(
            minutes=2
        )
        sent, retried, failed = await claim(uow, now, limit=3, worker_id="w", lease=LEASE)
        assert await uow.outbox.pending_count() == 0
        assert await uow.outbox.oldest_pending_age(now) is None
    later = now + timedelta(seconds=30)
    async with UnitOfWork(db) as uow:
        await uow.outbox.mark_sent(sent.id, later)
        await uow.outbox.retry_later(
            retried.id, later + timedelta(seconds=60), "429 retry after 60"
        )
        await uow.outbox.mark_failed(failed.id, "403 bot was blocked", later)
    async with UnitOfWork(db) as uow:
        s = await uow.outbox.get(sent.id)
        r = await uow.outbox.get(retried.id)
        f = await uow.outbox.get(failed.id)
        assert s is not None and r is not None and f is not None
        assert (s.status, s.sent_at) == ("sent", later)
        assert (r.status, r.not_before, r.last_error, r.claimed_by) == (
            "pending",
            later + timedelta(seconds=60),
            "429 retry after 60",
            None,
        )
        assert (f.status, f.last_error) == ("failed", "403 bot was blocked")
        assert await uow.outbox.pending_count() == 1
        assert await claim(uow, later, limit=5, worker_id="w", lease=LEASE) == []
        again = await claim(
            uow, later + timedelta(seconds=60), limit=5, worker_id="w", lease=LEASE
        )
        assert [m.id for m in again] == [retried.id]
        row = await uow.outbox.get(retried.id)
        assert row is not None and row.attempts == 2
        with pytest.raises(LookupError):
            await uow.outbox.mark_sent(999_999, later)


async def test_a_claim_takes_only_its_platforms_and_skips_busy_chats(
    db: Database, now: datetime
) -> None:
    async with UnitOfWork(db) as uow:
        for platform, chat, key in (
            ("telegram", "a", "t-a"),
            ("telegram", "b", "t-b"),
            ("wecom", "a", "w-a"),
        ):
            await uow.outbox.enqueue(
                platform=platform, chat_external_id=chat, payload={}, dedupe_key=key, now=now
            )
    async with UnitOfWork(db) as uow:
        rows = await uow.outbox.claim_due(
            now, limit=10, worker_id="w", lease=LEASE, platforms=["telegram"],
            busy=[("telegram", "a")],
        )
    assert [m.dedupe_key for m in rows] == ["t-b"]
    async with UnitOfWork(db) as uow:
        rows = await uow.outbox.claim_due(
            now, limit=10, worker_id="w", lease=LEASE, platforms=["telegram", "wecom"]
        )
    assert [m.dedupe_key for m in rows] == ["t-a", "w-a"]


async def test_renewed_claims_keep_their_rows_and_sent_rows_are_settled_together(
    db: Database, now: datetime
) -> None:
    await _enqueue(db, now, 3)
    async with UnitOfWork(db) as uow:
        first, second, third = await claim(uow, now, limit=3, worker_id="w", lease=LEASE)
    later = now + LEASE - timedelta(seconds=1)
    async with UnitOfWork(db) as uow:
        await uow.outbox.renew_claims([first.id, second.id], "w", later)
        await uow.outbox.renew_claims([third.id], "someone-else", later)  # not theirs
        await uow.outbox.mark_sent_many([first.id], later)
    async with UnitOfWork(db) as uow:  # the old lease is over: only the unrenewed row returns
        after = now + LEASE + timedelta(seconds=1)
        rows = await claim(uow, after, limit=10, worker_id="x", lease=LEASE)
        assert [m.id for m in rows] == [third.id]
        sent = await uow.outbox.get(first.id)
        assert sent is not None and (sent.status, sent.sent_at) == ("sent", later)
