"""What a delivery worker holds, and for how long (投递租约).

- **Heartbeat.** A running worker writes its heartbeat every second
  (storage/repos/outbox_workers.py); the claims of a worker silent for `SILENT_AFTER` are
  taken over by the next claim, so a crash costs seconds, not the whole lease. On SQLite
  the one process takes back, at start-up, every claim another worker id left.
- **Real time.** Claims are dated, renewed and aged by the wall clock (`wall_now`), never
  by the application's clock: moving the emulator's clock forward, or a slow send, never
  makes a live claim look abandoned.
- **No more than it can send.** A worker claims at most what its transports' rate limits
  let it send in the next `HORIZON` seconds, overall and per chat, so what a dead worker
  held is small, and a live one renews what it holds while it waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from bot.ratelimit import Rate, RateLimiter, RatePolicy
from storage.db import Database
from storage.repos.outbox_claim import ClaimedMessage
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

HORIZON = 3.0  # seconds of sending a worker claims ahead
BEAT_EVERY = 1.0  # seconds between heartbeats
SILENT_AFTER = timedelta(seconds=6)  # a worker silent this long is dead
FORGET_AFTER = timedelta(days=1)  # heartbeat rows of workers gone this long are dropped


def wall_now() -> datetime:
    """The real time (leases are measured in it, never in the application's clock)."""
    return datetime.now(UTC)


def _policy(transport: object) -> RatePolicy | None:
    limiter = getattr(transport, "limiter", None)
    return limiter.policy if isinstance(limiter, RateLimiter) else None


@contextlib.contextmanager
def answering_first(transport: object, chat_id: str, answering: bool) -> Iterator[None]:
    """While a lane answers someone who just wrote, its chat takes the transport's next
    turn before a backlog's (`RateLimiter.first`)."""
    limiter = getattr(transport, "limiter", None)
    if not answering or not isinstance(limiter, RateLimiter):
        yield
        return
    limiter.first.add(chat_id)
    try:
        yield
    finally:
        limiter.first.discard(chat_id)


def in_horizon(rate: Rate, horizon: float = HORIZON) -> int:
    """How many sends `rate` admits within `horizon` seconds (at least one window's)."""
    return rate.count * max(1, math.floor(horizon / rate.seconds))


def overall_room(transports: Mapping[str, object], default: int) -> int:
    """How many rows the worker may hold at once: what its transports can send in the
    horizon, summed; `default` when one of them has no overall limit we know."""
    total = 0
    for transport in transports.values():
        policy = _policy(transport)
        if policy is None or policy.overall is None:
            return default
        total += in_horizon(policy.overall)
    return max(1, min(total, default)) if transports else default


def chat_room(transport: object, chat_id: str) -> int | None:
    """How many rows of one chat the transport can send in the horizon (None: no limit)."""
    policy = _policy(transport)
    if policy is None:
        return None
    rates = [policy.per_chat, policy.per_group if policy.is_group(chat_id) else None]
    rooms = [in_horizon(rate) for rate in rates if rate is not None]
    return min(rooms) if rooms else None


def beyond_room(
    rows: Sequence[ClaimedMessage], transports: Mapping[str, object]
) -> list[int]:
    """The ids of claimed rows past their chat's room (`rows` in id order): given back."""
    seen: dict[tuple[str, str], int] = {}
    extra: list[int] = []
    for row in rows:
        key = (row.platform, row.chat_external_id)
        seen[key] = seen.get(key, 0) + 1
        room = chat_room(transports.get(row.platform), row.chat_external_id)
        if room is not None and seen[key] > room:
            extra.append(row.id)
    return extra


class WorkerBeat:
    """A worker's heartbeat, and the renewal of the rows its lanes hold (`held`, shared
    with the worker and read at each renewal).

    `db` should be a pool of its own on PostgreSQL (bot/app.py builds one): were the beat
    to wait for the shared pool behind a burst of webhook handlers, a live worker would
    look dead and its claims be taken over (measured: 15 duplicates in 1,000 at 4 replicas
    on 2 busy cores). On SQLite it shares the process's writer turn (one process delivers;
    nobody takes over).
    """

    def __init__(
        self,
        db: Database,
        worker_id: str,
        wall: Callable[[], datetime],
        lease: timedelta,
        held: set[int],
    ) -> None:
        self.db = db
        self.worker_id = worker_id
        self.wall = wall
        self.lease = lease
        self.held = held

    async def announce(self) -> None:
        """The first beat; on SQLite (one process delivers) every claim of another worker
        id is this process's own from before a crash, and goes back to pending now."""
        wall = self.wall()
        try:
            async with UnitOfWork(self.db) as uow:
                await uow.outbox_workers.forget_before(wall - FORGET_AFTER)
                await uow.outbox_workers.beat(self.worker_id, wall)
                if self.db.dialect == "sqlite":
                    released = await uow.outbox_workers.release_others(self.worker_id)
                    if released:
                        log.info("outbox: %s rows claimed before a restart are due", released)
        except Exception:  # `run` keeps beating; a dead worker's rows wait for its silence
            log.warning("outbox worker could not announce itself", exc_info=True)

    async def beat(self, *, renew: bool) -> None:
        """Beat; with `renew`, also extend the lease of the rows still waiting in lanes
        (e.g. on a group's limit)."""
        async with UnitOfWork(self.db) as uow:
            await uow.outbox_workers.beat(self.worker_id, self.wall())
            if renew and self.held:
                await uow.outbox.renew_claims(set(self.held), self.worker_id, self.wall())

    async def run(self) -> None:
        """Beat every `BEAT_EVERY` seconds, on a task of its own so that a long claim or
        send never delays it; renew the held rows a few times per lease."""
        renew_every = max(self.lease.total_seconds() / 3, BEAT_EVERY)
        last_renew = time.monotonic()
        while True:
            renew = time.monotonic() - last_renew >= renew_every
            try:
                await self.beat(renew=renew)
            except Exception:
                log.warning("outbox heartbeat failed; retrying", exc_info=True)
            else:
                if renew:
                    last_renew = time.monotonic()
            await asyncio.sleep(BEAT_EVERY)

    async def retire(self) -> None:
        """Stopped: what is still claimed (a lane cut off) may be taken over at once."""
        try:
            async with UnitOfWork(self.db) as uow:
                await uow.outbox_workers.retire(self.worker_id)
        except Exception:
            log.warning("outbox worker could not retire", exc_info=True)


__all__ = [
    "BEAT_EVERY",
    "FORGET_AFTER",
    "HORIZON",
    "SILENT_AFTER",
    "WorkerBeat",
    "beyond_room",
    "chat_room",
    "in_horizon",
    "overall_room",
    "wall_now",
]
