"""Recovery in seconds (issue 19, point 4), on both backends: a worker whose heartbeat
stopped loses its claims at once, a live one keeps them whatever the application's clock
says, SQLite takes back a crashed run's claims at start-up, and a worker claims no more
than its rate limits let it send in the next few seconds."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.outbox import DeliveryWorker
from bot.outbox_lease import WorkerBeat
from bot.ratelimit import Rate, RateLimiter, RatePolicy
from bot.transports.base import TransientError
from domain.clock import FakeClock
from storage.db import Database
from storage.models import OutboxMessage
from storage.uow import UnitOfWork

pytestmark = pytest.mark.asyncio

LEASE = timedelta(minutes=2)
SILENT = timedelta(seconds=6)


class Paced:
    """A transport with Telegram's shape of limits, that never sends (these tests claim)."""

    platform = "telegram"

    def __init__(self, policy: RatePolicy | None = None) -> None:
        self.limiter = RateLimiter(policy or RatePolicy())

    async def send(self, chat_external_id: str, payload: dict) -> None:  # pragma: no cover
        raise AssertionError("these tests only claim")


class Wall:
    """Real time the test moves by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def worker(
    db: Database, clock: FakeClock, wall: Wall, *, policy: RatePolicy | None = None
) -> DeliveryWorker:
    return DeliveryWorker(
        db, {"telegram": Paced(policy)}, clock, lease=LEASE, silent_after=SILENT, wall=wall
    )


async def put(db: Database, now: datetime, *chats: str) -> None:
    """One row per chat named, in this order (keys: chat and position)."""
    async with UnitOfWork(db) as uow:
        for n, chat in enumerate(chats):
            await uow.outbox.enqueue(
                platform="telegram", chat_external_id=chat, payload={"n": n},
                dedupe_key=f"{chat}-{n}", now=now,
            )


async def beat(db: Database, one: DeliveryWorker) -> None:
    async with UnitOfWork(db) as uow:
        await uow.outbox_workers.beat(one.worker_id, one.wall())


async def claimed_by(db: Database) -> dict[str, tuple[str, str | None, int]]:
    async with UnitOfWork(db) as uow:
        rows = await uow.session.execute(
            select(
                OutboxMessage.dedupe_key,
                OutboxMessage.status,
                OutboxMessage.claimed_by,
                OutboxMessage.attempts,
            )
        )
        return {key: (status, by, attempts) for key, status, by, attempts in rows}


async def test_a_silent_workers_claims_are_taken_over_a_live_ones_are_not(
    db: Database, now: datetime
) -> None:
    await put(db, now, "a", "b")
    wall = Wall(now)
    clock = FakeClock(now)
    dead, live = worker(db, clock, wall), worker(db, clock, wall)
    await beat(db, dead)
    await beat(db, live)
    dead_rows = await dead._claim(exclude=())
    assert [r.dedupe_key for r in dead_rows] == ["a-0", "b-1"]

    wall.at = now + SILENT - timedelta(seconds=1)  # not silent long enough yet
    taker = worker(db, clock, wall)
    await beat(db, taker)
    assert await taker._claim(exclude=()) == []

    wall.at = now + SILENT + timedelta(seconds=1)  # `dead` stopped beating; `live` did not
    await beat(db, live)
    taken = await taker._claim(exclude=())
    assert [r.dedupe_key for r in taken] == ["a-0", "b-1"], "long before the 2-minute lease"
    assert {by for _, by, _ in (await claimed_by(db)).values()} == {taker.worker_id}

    # The live worker's claims stay its own, although they are just as old.
    await put(db, now, "c")
    mine = await live._claim(exclude=())
    wall.at += SILENT * 2
    await beat(db, live)
    assert await taker._claim(exclude=()) == []
    assert [r.dedupe_key for r in mine] == ["c-0"]
    assert (await claimed_by(db))["c-0"][1] == live.worker_id


async def test_moving_the_application_clock_never_abandons_a_live_claim(
    db: Database, now: datetime
) -> None:
    await put(db, now, "a", "a", "b")
    wall = Wall(now)
    clock = FakeClock(now)
    holder, other = worker(db, clock, wall), worker(db, clock, wall)
    await beat(db, holder)
    assert len(await holder._claim(exclude=())) == 3
    clock.advance(timedelta(days=3))  # the emulator's clock pushed forward
    wall.at += timedelta(seconds=2)  # a couple of real seconds pass
    await beat(db, holder)
    await beat(db, other)
    assert await other._claim(exclude=()) == []
    assert all(a == 1 for _, _, a in (await claimed_by(db)).values()), "no second attempt"


async def test_a_worker_never_takes_back_its_own_rows_when_its_beat_is_late(
    db: Database, now: datetime
) -> None:
    await put(db, now, "a")
    wall = Wall(now)
    one = worker(db, FakeClock(now), wall)
    await beat(db, one)
    assert len(await one._claim(exclude=())) == 1
    wall.at += SILENT * 3  # its own beat is late (a busy database)
    assert await one._claim(exclude=()) == []


async def test_a_retired_workers_claims_are_taken_at_once(db: Database, now: datetime) -> None:
    await put(db, now, "a")
    wall = Wall(now)
    clock = FakeClock(now)
    stopped, taker = worker(db, clock, wall), worker(db, clock, wall)
    await beat(db, stopped)
    await stopped._claim(exclude=())
    async with UnitOfWork(db) as uow:
        await uow.outbox_workers.retire(stopped.worker_id)
    assert [r.dedupe_key for r in await taker._claim(exclude=())] == ["a-0"]


async def test_on_sqlite_start_up_takes_back_every_other_claim_at_once(
    db: Database, now: datetime
) -> None:
    await put(db, now, "a", "a", "b")
    wall = Wall(now)
    crashed, restarted = worker(db, FakeClock(now), wall), worker(db, FakeClock(now), wall)
    await beat(db, crashed)
    assert len(await crashed._claim(exclude=())) == 3
    starting = WorkerBeat(db, restarted.worker_id, wall, LEASE, set())
    await starting.announce()
    after = await claimed_by(db)
    if db.dialect == "sqlite":  # one process: those claims were its own, before the crash
        assert {k: (s, by) for k, (s, by, _) in after.items()} == {
            "a-0": ("pending", None), "a-1": ("pending", None), "b-2": ("pending", None)
        }
        assert [r.dedupe_key for r in await restarted._claim(exclude=())] == ["a-0", "a-1", "b-2"]
    else:  # replicas: the other worker may be alive; only its silence gives its rows up
        assert {by for _, by, _ in after.values()} == {crashed.worker_id}
        assert await restarted._claim(exclude=()) == []
    await starting.retire()  # (and closes the beat's own connection on PostgreSQL)


async def test_a_worker_claims_only_what_its_limits_send_in_the_next_seconds(
    db: Database, now: datetime
) -> None:
    # 10 a second overall, 1 a second per chat: 30 rows in 3 seconds, 3 per chat.
    policy = RatePolicy(overall=Rate(10, 1.0), per_chat=Rate(1, 1.0))
    await put(db, now, *(["busy"] * 5), *(f"c{n}" for n in range(40)))
    wall = Wall(now)
    one = worker(db, FakeClock(now), wall, policy=policy)
    rows = await one._claim(exclude=())
    keys = [r.dedupe_key for r in rows]
    assert len(rows) == 28, "30 claimed, the busy chat's last two given back"
    assert keys[:3] == ["busy-0", "busy-1", "busy-2"]
    states = await claimed_by(db)
    assert states["busy-3"] == ("pending", None, 0) and states["busy-4"] == ("pending", None, 0)
    # While its lanes hold 28 rows, it claims only the two more that fit.
    one._held |= {r.id for r in rows}
    more = await one._claim(exclude=[("telegram", "busy")])
    assert len(more) == 2


async def test_people_who_just_wrote_are_answered_before_a_backlog(
    db: Database, now: datetime
) -> None:
    policy = RatePolicy(overall=Rate(10, 1.0), per_chat=Rate(1, 1.0))  # room: 30 rows
    await put(db, now, *(f"round{n}" for n in range(100)), "asker")
    wall = Wall(now)
    one = worker(db, FakeClock(now), wall, policy=policy)
    first = await one._claim(exclude=())
    assert len(first) == 30 and "asker-100" not in {r.dedupe_key for r in first}
    one._held |= {r.id for r in first[:29]}  # one slot left
    one.hurry([("telegram", "asker")])
    second = await one._claim(exclude=())
    assert [r.dedupe_key for r in second] == ["asker-100"], "the answer, ahead of the backlog"


async def test_a_chat_stays_first_until_all_its_answers_are_out(
    db: Database, now: datetime
) -> None:
    policy = RatePolicy(overall=Rate(10, 1.0), per_chat=Rate(1, 1.0))  # 30 rows, 3 per chat
    await put(db, now, *(f"round{n}" for n in range(100)), *(["asker"] * 5))
    one = worker(db, FakeClock(now), Wall(now), policy=policy)
    one._held |= set(range(-27, 0))  # lanes already hold 27 rows: room for 3
    one.hurry([("telegram", "asker")])
    first = await one._claim(exclude=())
    assert [r.dedupe_key for r in first] == ["asker-100", "asker-101", "asker-102"]
    second = await one._claim(exclude=[("telegram", "asker")])  # its lane is running
    assert all(r.chat_external_id != "asker" for r in second)
    async with UnitOfWork(db) as uow:  # the lane ends: its three answers were sent
        await uow.outbox.mark_sent_many([r.id for r in first], now)
    third = await one._claim(exclude=())  # room for 3 again: the asker's last two first
    assert {"asker-103", "asker-104"} <= {r.dedupe_key for r in third}, "still first"
    assert len(third) == 3


async def test_people_still_waiting_stay_first_when_the_room_is_smaller_than_their_number(
    db: Database, now: datetime
) -> None:
    # Lanes hold 29 of 30 rows; three people wrote meanwhile: one answer fits now, the
    # other two must not fall back behind the backlog when the next room opens.
    policy = RatePolicy(overall=Rate(10, 1.0), per_chat=Rate(1, 1.0))
    await put(db, now, *(f"round{n}" for n in range(100)), "a", "b", "c")
    one = worker(db, FakeClock(now), Wall(now), policy=policy)
    one._held |= set(range(-29, 0))
    one.hurry([("telegram", "a"), ("telegram", "b"), ("telegram", "c")])
    first = await one._claim(exclude=())
    assert len(first) == 1 and first[0].chat_external_id in {"a", "b", "c"}
    one._held.add(first[0].id)
    one._held.discard(-1)  # a round row's lane ended: room for one more
    second = await one._claim(exclude=[("telegram", first[0].chat_external_id)])
    assert len(second) == 1 and second[0].chat_external_id in {"a", "b", "c"}, second
    one._held.add(second[0].id)
    one._held.discard(-2)
    third = await one._claim(exclude=[("telegram", first[0].chat_external_id)])
    assert {r.chat_external_id for r in first + second + third} == {"a", "b", "c"}


class FlakyOnce(Paced):
    """Refuses the first send with a 429 ("retry after 0.05 s"), then accepts."""

    def __init__(self, policy: RatePolicy) -> None:
        super().__init__(policy)
        self.refused = False

    async def send(self, chat_external_id: str, payload: dict) -> None:
        if not self.refused:
            self.refused = True
            raise TransientError("429", retry_after=0.05)


async def test_an_answer_retried_after_a_429_stays_ahead_of_the_backlog(
    db: Database, now: datetime
) -> None:
    policy = RatePolicy(overall=Rate(10, 1.0), per_chat=Rate(1, 1.0))
    await put(db, now, *(f"round{n}" for n in range(100)), "asker")
    clock = FakeClock(now)
    one = DeliveryWorker(
        db, {"telegram": FlakyOnce(policy)}, clock, lease=LEASE, silent_after=SILENT,
        wall=Wall(now),
    )
    one._held |= set(range(-29, 0))  # room for one row
    one.hurry([("telegram", "asker")])
    answer = await one._claim(exclude=())
    assert [r.dedupe_key for r in answer] == ["asker-100"]
    assert await one._deliver_lane(("telegram", "asker"), answer) == 0  # the 429
    assert await one._claim(exclude=()) != answer  # not due yet: the chat is let go
    assert ("telegram", "asker") not in one._urgent
    await asyncio.sleep(0.2)  # the retry is due: the chat is urgent again
    clock.advance(timedelta(seconds=1))
    assert [r.dedupe_key for r in await one._claim(exclude=())] == ["asker-100"]
