"""The outbox delivery worker (发件箱投递): the only way a message leaves Daiban.

Handlers and jobs write outbox rows inside their transactions; this worker claims due rows,
hands each to its platform's transport, and records the result. A crash between claim and
send leaves the row claimed; its lease expires and another pass (or replica) sends it.
Order within a chat is kept: when one message to a chat must wait, the later ones wait too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta

from bot.transports.base import PermanentError, TransientError, Transport
from domain.clock import Clock
from storage.db import Database
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

BACKOFF = (1, 5, 30, 120, 600)  # seconds, by attempt


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        transports: dict[str, Transport],
        clock: Clock,
        *,
        batch: int = 50,
        lease: timedelta = timedelta(minutes=2),
    ) -> None:
        self.db = db
        self.transports = transports
        self.clock = clock
        self.batch = batch
        self.lease = lease
        self.worker_id = f"worker-{uuid.uuid4().hex[:8]}"

    async def run_once(self) -> int:
        """Claim and deliver one batch; returns the number of messages sent."""
        now = self.clock.now()
        async with UnitOfWork(self.db) as uow:
            rows = await uow.outbox.claim_due(
                now,
                limit=self.batch,
                worker_id=self.worker_id,
                lease=self.lease,
                platforms=list(self.transports),
            )
        sent = 0
        held: dict[
            tuple[str, str], object
        ] = {}  # chat -> not_before of the message it waits behind
        for row in rows:
            chat = (row.platform, row.chat_external_id)
            if chat in held:
                async with UnitOfWork(self.db) as uow:
                    await uow.outbox.retry_later(
                        row.id, held[chat], "waiting behind an earlier message"
                    )  # type: ignore[arg-type]
                continue
            transport = self.transports.get(row.platform)
            try:
                if transport is None:
                    raise PermanentError(f"no transport for platform {row.platform!r}")
                await transport.send(row.chat_external_id, row.payload)
            except TransientError as exc:
                delay = (
                    exc.retry_after
                    if exc.retry_after is not None
                    else BACKOFF[min(row.attempts, len(BACKOFF)) - 1]
                )
                not_before = self.clock.now() + timedelta(seconds=delay)
                held[chat] = not_before
                async with UnitOfWork(self.db) as uow:
                    await uow.outbox.retry_later(row.id, not_before, str(exc)[:500])
            except PermanentError as exc:
                log.warning("outbox %s to %s failed permanently: %s", row.id, row.platform, exc)
                async with UnitOfWork(self.db) as uow:
                    await uow.outbox.mark_failed(row.id, str(exc)[:500], self.clock.now())
            except Exception as exc:  # a transport bug must not stop delivery of others
                log.exception("outbox %s: unexpected error", row.id)
                held[chat] = self.clock.now() + timedelta(seconds=BACKOFF[-1])
                async with UnitOfWork(self.db) as uow:
                    await uow.outbox.retry_later(row.id, held[chat], repr(exc)[:500])  # type: ignore[arg-type]
            else:
                sent += 1
                async with UnitOfWork(self.db) as uow:
                    await uow.outbox.mark_sent(row.id, self.clock.now())
        return sent

    async def drain(self, max_rounds: int = 100) -> int:
        """Deliver until nothing is due now (stories and tests)."""
        total = 0
        for _ in range(max_rounds):
            sent = await self.run_once()
            total += sent
            if sent == 0:
                break
        return total

    async def run_forever(self, stop: asyncio.Event, idle: float = 0.5) -> None:
        while not stop.is_set():
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("outbox pass failed; retrying")
                sent = 0
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=idle)
