"""The outbox delivery worker (发件箱投递): the only way a message leaves Daiban.

Handlers and jobs write outbox rows inside their transactions; this worker claims due rows,
hands each to its platform's transport, and records the result.

- **Chats run side by side.** Claimed rows are grouped into one lane per chat; lanes run
  concurrently, so one slow or rate-limited chat never holds up the others. The platform's
  limits (overall, per chat, per group) are paced by the transport's `RateLimiter`.
- **Order within a chat.** A lane sends its rows in id order. A chat with a lane is not
  claimed again until the lane ends, and a row is never claimed while an earlier row of
  its chat is waiting (a retry scheduled later, or a live claim of another worker) — so
  order holds across retries, restarts and replicas.
- **Nothing is dropped.** A transient error (429, 5xx, timeout) puts the row and the rest
  of its lane back to pending after `retry_after` (or a backoff). A permanent error marks
  the row failed and tells the office once (one outbox row per office person, keyed by the
  failed row). A chat the platform cannot reach now (`HoldUntilReachable`: WeChat's
  48-hour window) keeps the row and the rest of its lane pending until the transport
  releases them (storage/repos/held.py).
- **Leases.** Claimed rows carry the worker id and a claim time (real time) that the
  worker renews while it works, and the worker keeps a heartbeat in the store; if the
  process dies, the next claim takes its rows back once its heartbeat is a few seconds old
  (bot/outbox_lease.py). A worker claims only what it can send in the next few seconds.
  A message whose send succeeded just before a crash may then go out twice (at most one
  per chat: a lane records each send before the next).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.metrics import Metrics
from bot.outbox_files import local_file
from bot.outbox_lease import (
    SILENT_AFTER,
    WorkerBeat,
    answering_first,
    beyond_room,
    overall_room,
    wall_now,
)
from bot.transports.base import (
    HoldUntilReachable,
    KeyedTransport,
    PermanentError,
    TransientError,
    Transport,
    Unreachable,
)
from domain.clock import Clock
from handlers import log_context
from handlers.chat import Outgoing
from handlers.i18n import N_, gettext
from storage.db import Database
from storage.repos.outbox_claim import ClaimedMessage
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

BACKOFF = (1, 5, 30, 120, 600)  # seconds, by consecutive failures of a chat
NOTICE_PREFIX = "outbox-failed:"  # dedupe keys of the office's delivery-failure notices
STOP_GRACE = 10.0  # seconds a stopping worker lets its lanes finish the current send

ChatKey = tuple[str, str]  # (platform, chat_external_id)


# What an office reads names the messenger in its language, not by our platform id.
PLATFORM_NAMES = {"wecom": N_("WeCom"), "telegram": N_("Telegram"), "wechat": N_("WeChat")}


def platform_name(lang: str, platform: str) -> str:
    """The messenger's name in `lang` (the id itself for one without a name)."""
    return gettext(lang, PLATFORM_NAMES[platform]) if platform in PLATFORM_NAMES else platform


UNREACHABLE_NOTICE = N_(
    "{name} can no longer be reached on {platform} ({reason}). Messages to them fail until "
    "the roster is corrected: check whether they left or moved, then update it."
)
FAILURE_NOTICE = N_(
    "A message could not be delivered to {chat} ({platform}): {reason}\nIt began: “{start}”"
)


class DeliveryWorker:
    """Claims due outbox rows and delivers them through `transports`, chat by chat."""

    def __init__(
        self,
        db: Database,
        transports: dict[str, Transport],
        clock: Clock,
        *,
        batch: int = 200,
        lease: timedelta = timedelta(minutes=2),
        max_lanes: int = 500,
        metrics: Metrics | None = None,
        silent_after: timedelta = SILENT_AFTER,
        wall: Callable[[], datetime] = wall_now,
        beat_db: Database | None = None,
    ) -> None:
        self.db = db
        self.transports = transports
        self.clock = clock
        self.batch = batch
        self.lease = lease
        self.max_lanes = max_lanes
        self.metrics = metrics or Metrics()
        self.silent_after = silent_after
        self.wall = wall  # leases are real time; `clock` says what is due
        self.beat_db = beat_db or db  # the heartbeat's own pool (bot/outbox_lease.py)
        self.worker_id = f"worker-{uuid.uuid4().hex[:8]}"
        self._lanes: dict[ChatKey, asyncio.Task[int]] = {}
        self._failures: dict[ChatKey, int] = {}
        self._held: set[int] = set()  # ids of claimed rows still in a running lane
        self._urgent: set[ChatKey] = set()  # chats whose people just wrote (`hurry`)
        self._answering: set[ChatKey] = set()  # urgent chats with a lane (kept on retry)
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._sent_batch: list[tuple[int, asyncio.Future[None]]] = []
        self._recorder: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """New rows were just written (an inbound event was handled): look now, not at idle."""
        if self._wake is not None:
            self._wake.set()

    def hurry(self, chats: Collection[ChatKey]) -> None:
        """People just wrote in `chats`: their answers are claimed before older rows of
        other chats (a daily round's backlog), then look now."""
        self._urgent.update(chats)
        self.wake()

    # -- claiming ----------------------------------------------------------------------
    async def _claim(self, exclude: Collection[ChatKey]) -> list[ClaimedMessage]:
        """Claim due rows in id order, skipping busy chats and out-of-order rows
        (`OutboxRepo.claim_due`): no more than the transports can send in the next few
        seconds, counting what the lanes hold; a chat's rows past its own room go back."""
        room = min(self.batch, overall_room(self.transports, self.batch)) - len(self._held)
        if room <= 0:
            return []
        # A chat stays urgent while its lane runs or its rows keep coming; not once empty.
        busy = set(exclude)
        urgent = self._urgent - busy
        async with UnitOfWork(self.db) as uow:
            kwargs: dict[str, Any] = {
                "worker_id": self.worker_id,
                "lease": self.lease,
                "platforms": list(self.transports),
                "busy": exclude,
                "wall": self.wall(),
                "silent_after": self.silent_after,
            }
            rows = []
            if urgent:  # answers first
                rows = await uow.outbox.claim_due(
                    self.clock.now(), limit=room, only=list(urgent), **kwargs
                )
                found = {(row.platform, row.chat_external_id) for row in rows}
                if len(rows) < room:  # every urgent chat had its turn: those with nothing due
                    self._urgent -= urgent - found  # are answered; the rest wait for room
                self._answering |= found
            if len(rows) < room:
                rows += await uow.outbox.claim_due(
                    self.clock.now(), limit=room - len(rows), **kwargs
                )
                rows.sort(key=lambda r: r.id)
            extra = beyond_room(rows, self.transports)
            if extra:
                await uow.outbox.unclaim(extra, self.worker_id)
                given_back = set(extra)
                rows = [row for row in rows if row.id not in given_back]
            return rows

    # -- one chat's lane ---------------------------------------------------------------
    async def _deliver_lane(self, chat: ChatKey, rows: Sequence[ClaimedMessage]) -> int:
        """Send `rows` (one chat, id order); stop at the first transient error."""
        transport = self.transports.get(chat[0])
        log_context.begin(chat=":".join(chat))  # a lane is its own task: its lines name it
        with answering_first(transport, chat[1], chat in self._answering):
            return await self._send_lane(chat, transport, rows)

    async def _send_lane(
        self, chat: ChatKey, transport: Transport | None, rows: Sequence[ClaimedMessage]
    ) -> int:
        sent = 0
        for index, row in enumerate(rows):
            if self._stopping:
                await self._release(rows[index:], self.clock.now(), "worker stopped")
                break
            try:
                if transport is None:
                    raise PermanentError(f"no transport for platform {row.platform!r}")
                async with local_file(self.db, row.payload) as payload:
                    if isinstance(transport, KeyedTransport):  # the row id keys its progress
                        await transport.send_row(row.id, row.chat_external_id, payload)
                    else:
                        await transport.send(row.chat_external_id, payload)
            except TransientError as exc:
                self.metrics.delivered(row.platform, "transient", row.dedupe_key)
                failures = self._failures[chat] = self._failures.get(chat, 0) + 1
                delay = (
                    exc.retry_after
                    if exc.retry_after is not None
                    else BACKOFF[min(failures, len(BACKOFF)) - 1]
                )
                log.info("outbox %s to %s: %s; retry in %ss", row.id, chat, exc, delay)
                not_before = self.clock.now() + timedelta(seconds=delay)
                await self._release(rows[index:], not_before, str(exc)[:500])
                if chat in self._answering:  # an answer stays ahead of a backlog on retry
                    asyncio.get_running_loop().call_later(delay, self.hurry, [chat])
                break
            except HoldUntilReachable as exc:
                # Not a failure: the chat's rows wait until the person writes again.
                self.metrics.delivered(row.platform, "held", row.dedupe_key)
                log.info("outbox %s to %s held: %s", row.id, chat, exc)
                async with UnitOfWork(self.db) as uow:
                    ids = [r.id for r in rows[index:]]
                    await uow.held.hold(ids, str(exc)[:400], self.clock.now())
                break
            except PermanentError as exc:
                self.metrics.delivered(row.platform, "permanent", row.dedupe_key)
                log.warning("outbox %s to %s failed permanently: %s", row.id, chat, exc)
                await self._fail(row, str(exc)[:500], unreachable=isinstance(exc, Unreachable))
            except Exception as exc:  # a transport bug must not stop delivery to others
                self.metrics.delivered(row.platform, "error", row.dedupe_key)
                log.exception("outbox %s: unexpected error", row.id)
                failures = self._failures[chat] = self._failures.get(chat, 0) + 1
                delay = BACKOFF[min(failures + 2, len(BACKOFF)) - 1]
                not_before = self.clock.now() + timedelta(seconds=delay)
                await self._release(rows[index:], not_before, repr(exc)[:500])
                break
            else:
                self.metrics.delivered(row.platform, "sent", row.dedupe_key)
                sent += 1
                self._failures.pop(chat, None)
                await self._record_sent(row.id)
        self._answering.discard(chat)
        return sent

    async def _record_sent(self, row_id: int) -> None:
        """Mark the row sent; lanes that finish together share one transaction.

        The lane waits for the commit before its next send, so a crash can leave at most
        one delivered-but-unrecorded row per chat (sent again after the lease).
        """
        done = asyncio.get_running_loop().create_future()
        self._sent_batch.append((row_id, done))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._flush_sent())
        await done

    async def _flush_sent(self) -> None:
        while self._sent_batch:
            batch, self._sent_batch = self._sent_batch, []
            try:
                async with UnitOfWork(self.db) as uow:
                    await uow.outbox.mark_sent_many(
                        [row_id for row_id, _ in batch], self.clock.now()
                    )
            except Exception as exc:
                for _, done in batch:
                    done.set_exception(exc)
            else:
                for _, done in batch:
                    done.set_result(None)

    async def _release(
        self, rows: Sequence[ClaimedMessage], not_before: datetime, error: str
    ) -> None:
        """Put rows back to pending; the first carries the error, the rest wait behind it."""
        async with UnitOfWork(self.db) as uow:
            for position, row in enumerate(rows):
                reason = error if position == 0 else "waiting behind an earlier message"
                await uow.outbox.retry_later(row.id, not_before, reason)

    async def _fail(self, row: ClaimedMessage, error: str, *, unreachable: bool = False) -> None:
        """Mark the row failed and, in the same transaction, tell every office person once
        (for an unreachable account: once per account, not per message)."""
        now = self.clock.now()
        async with UnitOfWork(self.db) as uow:
            await uow.outbox.mark_failed(row.id, error, now)
            if row.dedupe_key.startswith(NOTICE_PREFIX):
                return  # a failed notice is not reported again (no chain of notices)
            if unreachable:
                lost = await uow.people.mark_unreachable(row.platform, row.chat_external_id, now)
                if lost is not None:
                    key = f"account:{lost.id}"
                    await self._tell_office(
                        uow, row, UNREACHABLE_NOTICE, key, name=lost.name, reason=error[:200]
                    )
                return
            chat = await uow.chats.get(row.platform, row.chat_external_id)
            where = (chat.title if chat and chat.title else "") or row.chat_external_id
            start = str(row.payload.get("text", ""))[:60]
            await self._tell_office(
                uow, row, FAILURE_NOTICE, str(row.id), chat=where, reason=error[:200], start=start
            )

    async def _tell_office(
        self, uow: UnitOfWork, row: ClaimedMessage, notice: str, key: str, **fields: str
    ) -> None:
        """`notice` to every office person, once per `key`."""
        now = self.clock.now()
        for person in await uow.people.with_role("office"):
            account = await uow.people.dm_account(person.id, prefer_platform=row.platform)
            if account is None:
                continue
            platform = platform_name(person.lang, row.platform)
            text = gettext(person.lang, notice).format(platform=platform, **fields)
            await uow.outbox.enqueue(
                platform=account.platform,
                chat_external_id=account.external_id,
                payload=Outgoing(text).to_payload(),
                dedupe_key=f"{NOTICE_PREFIX}{key}:{person.id}",
                now=now,
                person_id=person.id,
                source_event_id=f"outbox:{row.id}",
            )

    # -- driving -----------------------------------------------------------------------
    @staticmethod
    def _by_chat(rows: Sequence[ClaimedMessage]) -> dict[ChatKey, list[ClaimedMessage]]:
        lanes: dict[ChatKey, list[ClaimedMessage]] = {}
        for row in rows:
            lanes.setdefault((row.platform, row.chat_external_id), []).append(row)
        return lanes

    async def run_once(self) -> int:
        """Claim one batch and deliver it (chats side by side); the number of messages sent."""
        rows = await self._claim(exclude=())
        if not rows:
            return 0
        lanes = self._by_chat(rows)
        counts = await asyncio.gather(*(self._deliver_lane(c, r) for c, r in lanes.items()))
        return sum(counts)

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
        """Keep lanes fed until `stop`; then let them finish their current send."""
        self._stopping = False
        wake = self._wake = asyncio.Event()
        beat = WorkerBeat(self.beat_db, self.worker_id, self.wall, self.lease, self._held)
        await beat.announce()
        beating = asyncio.create_task(beat.run())
        try:
            while not stop.is_set():
                claimed = 0
                try:
                    if len(self._lanes) < self.max_lanes:
                        rows = await self._claim(exclude=list(self._lanes))
                        claimed = len(rows)
                        self._start_lanes(rows, wake)
                except Exception:
                    log.exception("outbox pass failed; retrying")
                if claimed >= self.batch:
                    continue  # more is due right now
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_first_of(stop, wake), timeout=idle)
                wake.clear()
                # Let lanes that end together end together: one claim for all of them.
                await asyncio.sleep(0.01)
        finally:
            self._stopping = True
            lanes = list(self._lanes.values())
            if lanes:
                _done, pending = await asyncio.wait(lanes, timeout=STOP_GRACE)
                for task in pending:
                    task.cancel()  # its rows stay claimed until another worker takes them
                await asyncio.gather(*lanes, return_exceptions=True)
            beating.cancel()
            await asyncio.gather(beating, return_exceptions=True)
            await beat.retire()

    def _start_lanes(self, rows: Sequence[ClaimedMessage], wake: asyncio.Event) -> None:
        for chat, chat_rows in self._by_chat(rows).items():
            ids = {row.id for row in chat_rows}
            self._held |= ids
            task = asyncio.create_task(self._deliver_lane(chat, chat_rows))
            self._lanes[chat] = task

            def ended(t: asyncio.Task[int], chat: ChatKey = chat, ids: set[int] = ids) -> None:
                self._lanes.pop(chat, None)
                self._held -= ids
                wake.set()
                if not t.cancelled() and t.exception() is not None:
                    log.error("outbox lane %s crashed", chat, exc_info=t.exception())

            task.add_done_callback(ended)


async def _first_of(stop: asyncio.Event, wake: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


__all__ = ["BACKOFF", "NOTICE_PREFIX", "DeliveryWorker", "platform_name"]
