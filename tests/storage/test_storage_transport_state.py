"""Transport state shared by replicas: cards answered once, rate slots, small values."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from storage.db import Database
from storage.uow import UnitOfWork

pytestmark = pytest.mark.asyncio

BUTTONS = [{"label": "完成", "payload": "item:1:done"}]


async def test_a_card_is_closed_by_its_first_press_only(db: Database, now: datetime) -> None:
    async with UnitOfWork(db) as uow:
        await uow.cards.opened("wecom", "daiban-1", "lisi", BUTTONS, now)

    async def press(by: str) -> bool:
        async with UnitOfWork(db) as uow:
            got = await uow.cards.press(
                "wecom", "daiban-1", by=by, payload="item:1:done", response_code=by, now=now
            )
            return got.first

    firsts = await asyncio.gather(*(press(f"u{n}") for n in range(6)))
    assert sorted(firsts) == [False] * 5 + [True]
    async with UnitOfWork(db) as uow:
        again = await uow.cards.press(
            "wecom", "daiban-1", by="late", payload="x", response_code=None, now=now
        )
        unknown = await uow.cards.press(
            "wecom", "never-sent", by="late", payload="x", response_code=None, now=now
        )
    assert not again.first and again.card is not None
    assert again.card.pressed_by == f"u{firsts.index(True)}"
    assert again.card.buttons == BUTTONS
    assert not unknown.first and unknown.card is None


async def test_rate_slots_admit_whole_messages_and_say_how_long_to_wait(
    db: Database, now: datetime
) -> None:
    limits = [(3, 60.0), (5, 3600.0)]
    async with UnitOfWork(db) as uow:
        assert await uow.rate_slots.admit("member:a", limits, 2, now) == 0
        # One more fits the minute, two do not: the message waits whole.
        wait = await uow.rate_slots.admit("member:a", limits, 2, now + timedelta(seconds=10))
        assert wait == pytest.approx(50.0)
        assert await uow.rate_slots.admit("member:b", limits, 3, now) == 0  # keys apart
    later = now + timedelta(seconds=61)
    async with UnitOfWork(db) as uow:
        assert await uow.rate_slots.admit("member:a", limits, 3, later) == 0
        # Five in the hour now: the hour's limit holds the sixth until the first ages out.
        wait = await uow.rate_slots.admit("member:a", limits, 1, later + timedelta(seconds=60))
        assert wait == pytest.approx(3600 - 121)
        assert await uow.rate_slots.used("member:a", 3600, later) == 5
    with pytest.raises(ValueError):
        async with UnitOfWork(db) as uow:
            await uow.rate_slots.admit("member:c", limits, 4, now)


async def test_concurrent_admits_never_exceed_the_limit(db: Database, now: datetime) -> None:
    async def take() -> float:
        async with UnitOfWork(db) as uow:
            return await uow.rate_slots.admit("robot:x", [(20, 60.0)], 1, now)

    waits = await asyncio.gather(*(take() for _ in range(30)))
    assert sum(1 for w in waits if w == 0) == 20
    async with UnitOfWork(db) as uow:
        assert await uow.rate_slots.used("robot:x", 60, now) == 20


async def test_a_value_is_kept_until_it_expires(db: Database, now: datetime) -> None:
    async with UnitOfWork(db) as uow:
        await uow.transport_values.put("wecom", "token", "t1", now + timedelta(hours=2))
        await uow.transport_values.put("wecom", "token", "t2", now + timedelta(hours=2))
    async with UnitOfWork(db) as uow:
        assert await uow.transport_values.get("wecom", "token", now) == "t2"
        assert await uow.transport_values.get("wecom", "token", now + timedelta(hours=3)) is None
        await uow.transport_values.forget("wecom", "token")
        assert await uow.transport_values.get("wecom", "token", now) is None


async def test_inbound_ids_older_than_30_days_are_pruned_by_the_nightly_job(
    db: Database, now: datetime
) -> None:
    from types import SimpleNamespace

    from reminders.jobs import prune_job

    async with UnitOfWork(db) as uow:
        await uow.inbound.record("wecom", "m:old", now - timedelta(days=31))
        await uow.inbound.record("wecom", "m:recent", now - timedelta(days=29))
    await prune_job(SimpleNamespace(db=db), now)  # type: ignore[arg-type]
    async with UnitOfWork(db) as uow:
        # The old id is forgotten (recorded anew), the recent one is still known.
        assert await uow.inbound.record("wecom", "m:old", now) is True
        assert await uow.inbound.record("wecom", "m:recent", now) is False
