"""The outbox (发件箱): messages written in the handler's transaction, sent by a worker.

A worker claims due rows (status ``sending``, with its id and a lease), sends them outside
the transaction, then marks each sent, to retry later, or failed. A worker that dies
mid-send leaves ``sending`` rows whose lease runs out; the next claim takes them back.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage
from storage.repos._base import Repo
from storage.repos.outbox_claim import MARK_SENT, UNCLAIM, ClaimedMessage, claim_statements
from storage.repos.outbox_workers import RETIRED

# Only a retired worker (its beat set to RETIRED) is dead when no silence is given.
RETIRED_BEFORE = RETIRED + timedelta(seconds=1)


class OutboxRepo(Repo):
    """Enqueue, claim and settle outgoing messages.

    `enqueue` writes the row now and says whether its dedupe key was new; `enqueue_later`
    (the replies of a handler, whose keys are new by construction) keeps it until the next
    statement on the outbox or the commit, so that a batch's replies go in one INSERT.
    Rows keep the order they were queued in either way: every method writes the kept rows
    first.
    """

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._later: list[dict[str, Any]] = []

    async def enqueue(
        self,
        *,
        platform: str,
        chat_external_id: str,
        payload: dict[str, Any],
        dedupe_key: str,
        now: datetime,
        person_id: int | None = None,
        not_before: datetime | None = None,
        source_event_id: str | int | None = None,
    ) -> bool:
        """Queue a message; False (and nothing queued) when ``dedupe_key`` was used before."""
        await self.write_kept()
        return await self.insert_if_new(
            OutboxMessage,
            _row(
                platform,
                chat_external_id,
                payload,
                dedupe_key,
                now,
                person_id,
                not_before,
                source_event_id,
            ),
        )

    def enqueue_later(
        self,
        *,
        platform: str,
        chat_external_id: str,
        payload: dict[str, Any],
        dedupe_key: str,
        now: datetime,
        person_id: int | None = None,
        source_event_id: str | int | None = None,
    ) -> None:
        """Queue a message, written with the next outbox statement or at commit (a row whose
        ``dedupe_key`` was used before is then skipped, as with `enqueue`)."""
        self._later.append(
            _row(
                platform, chat_external_id, payload, dedupe_key, now, person_id, None,
                source_event_id,
            )
        )

    async def write_kept(self) -> None:
        """Write the rows `enqueue_later` kept (one executemany, in queue order)."""
        if self._later:
            rows, self._later = self._later, []
            await self.insert_many_if_new(OutboxMessage, rows)

    async def claim_due(
        self,
        now: datetime,
        *,
        limit: int,
        worker_id: str,
        lease: timedelta,
        platforms: Collection[str],
        busy: Collection[tuple[str, str]] = (),
        wall: datetime | None = None,
        silent_after: timedelta | None = None,
        only: Collection[tuple[str, str]] = (),
    ) -> list[ClaimedMessage]:
        """Claim up to ``limit`` due messages for ``worker_id``, in id order.

        Due means pending with ``not_before <= now`` (the application's clock), or
        ``sending`` under an abandoned claim: one older than ``lease``, or of a worker
        whose heartbeat is older than ``silent_after`` or that retired (storage/repos/
        outbox_workers.py). Claims are dated and aged in real time, ``wall`` (``now`` when
        not given), so that moving the application's clock never abandons one. A dead
        worker's rows are taken first. Only rows
        for ``platforms`` (a process claims what it has a transport for), none of the
        ``busy`` chats (``(platform, chat)`` with a running lane), and never a row while an
        earlier row of its chat waits (a retry scheduled later, or a live claim), so each
        chat stays in order across retries, restarts and replicas.

        ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``: the queue
        idiom on PostgreSQL; SQLite runs it under its single writer.

        With ``only``, just the due pending rows of those chats (people who just wrote:
        their answers go out before a backlog of the daily round's rows).
        """
        await self.write_kept()
        wall = wall or now
        params: dict[str, Any] = {
            "now": now,
            "wall": wall,
            "expired": wall - lease,
            "silent": wall - silent_after if silent_after is not None else RETIRED_BEFORE,
            "worker": worker_id,
            "platforms": list(platforms),
            "room": limit,
        }
        if busy:
            params["busy"] = list(busy)
        connection = await self.session.connection()
        if only:
            params["only"] = list(only)
            _, chosen = claim_statements(bool(busy), only=True)
            found = [ClaimedMessage(*r) for r in await connection.execute(chosen, params)]
            return sorted(found, key=lambda r: r.id)
        stale, pending = claim_statements(bool(busy))
        # Core on the session's connection, not the ORM: a claim is a plain UPDATE, and
        # the ORM's bookkeeping for it (synchronising a session that holds none of these
        # rows) cost as much as the SQL on the delivery benchmark.
        rows = [ClaimedMessage(*r) for r in await connection.execute(stale, params)]
        if len(rows) < limit:
            params["room"] = limit - len(rows)
            rows += [ClaimedMessage(*r) for r in await connection.execute(pending, params)]
        return sorted(rows, key=lambda r: r.id)  # RETURNING promises no order

    async def unclaim(self, message_ids: Collection[int], worker_id: str) -> None:
        """Give back rows ``worker_id`` just claimed but will not send soon (more than its
        rate limits let it send in the next few seconds): pending again, in their place."""
        if message_ids:
            connection = await self.session.connection()
            await connection.execute(UNCLAIM, {"ids": list(message_ids), "worker": worker_id})

    async def renew_claims(
        self, message_ids: Collection[int], worker_id: str, now: datetime
    ) -> None:
        """Extend the lease of ``worker_id``'s rows still waiting to be sent (``now``: the
        real time, as the claim's)."""
        if not message_ids:
            return
        await self.write_kept()
        connection = await self.session.connection()
        await connection.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(list(message_ids)),
                OutboxMessage.claimed_by == worker_id,
                OutboxMessage.status == "sending",
            )
            .values(claimed_at=now)
        )

    async def mark_sent_many(self, message_ids: Collection[int], now: datetime) -> None:
        """Several messages were delivered (one statement for lanes that finish together)."""
        await self.write_kept()
        connection = await self.session.connection()
        await connection.execute(MARK_SENT, {"ids": list(message_ids), "now": now})

    async def _get(self, message_id: int) -> OutboxMessage:
        await self.write_kept()
        message = await self.session.get(OutboxMessage, message_id, populate_existing=True)
        if message is None:
            raise LookupError(f"no outbox message {message_id}")
        return message

    async def mark_sent(self, message_id: int, now: datetime) -> None:
        """The message was delivered."""
        message = await self._get(message_id)
        message.status = "sent"
        message.sent_at = now
        message.last_error = None
        await self.session.flush()

    async def retry_later(self, message_id: int, not_before: datetime, error: str) -> None:
        """Delivery failed for now (e.g. a 429); back to pending until ``not_before``."""
        message = await self._get(message_id)
        message.status = "pending"
        message.not_before = not_before
        message.last_error = error
        message.claimed_by = None
        message.claimed_at = None
        await self.session.flush()

    async def mark_failed(self, message_id: int, error: str, now: datetime) -> None:
        """Give up on the message; ``claimed_at`` records when (``now``)."""
        message = await self._get(message_id)
        message.status = "failed"
        message.last_error = error
        message.claimed_at = now
        await self.session.flush()

    async def get(self, message_id: int) -> OutboxMessage | None:
        """The message with this id, or None."""
        await self.write_kept()
        return await self.session.get(OutboxMessage, message_id, populate_existing=True)

    async def recent_for_chat(
        self,
        platform: str,
        chat_external_id: str,
        *,
        limit: int = 50,
        statuses: Collection[str] | None = None,
    ) -> list[OutboxMessage]:
        """The chat's latest ``limit`` messages (optionally only in ``statuses``), oldest first.

        Read-only: the emulator's inspector and history use it.
        """
        await self.write_kept()
        stmt = select(OutboxMessage).where(
            OutboxMessage.platform == platform,
            OutboxMessage.chat_external_id == chat_external_id,
        )
        if statuses is not None:
            stmt = stmt.where(OutboxMessage.status.in_(list(statuses)))
        result = await self.session.execute(
            stmt.order_by(OutboxMessage.id.desc())
            .limit(limit)
            .execution_options(populate_existing=True)
        )
        return list(reversed(result.scalars().all()))

    async def recent_payloads(
        self,
        platform: str,
        chat_external_id: str,
        *,
        limit: int,
        statuses: Collection[str] | None = None,
    ) -> list[dict[str, Any]]:
        """The payloads of the chat's latest ``limit`` messages, newest first (a
        transport finds the buttons a person answers in them)."""
        await self.write_kept()
        stmt = select(OutboxMessage.payload).where(
            OutboxMessage.platform == platform,
            OutboxMessage.chat_external_id == chat_external_id,
        )
        if statuses is not None:
            stmt = stmt.where(OutboxMessage.status.in_(list(statuses)))
        result = await self.session.execute(stmt.order_by(OutboxMessage.id.desc()).limit(limit))
        return list(result.scalars())

    async def count_created_at(self, at: datetime) -> int:
        """How many messages were queued with the time ``at`` (what one job run wrote)."""
        await self.write_kept()
        result = await self.session.execute(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.created_at == at)
        )
        return int(result.scalar_one())

    async def for_source_event(self, platform: str, source_event_id: str) -> list[OutboxMessage]:
        """The messages an event caused on ``platform``, in id order (read-only)."""
        await self.write_kept()
        result = await self.session.execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.platform == platform,
                OutboxMessage.source_event_id == source_event_id,
            )
            .order_by(OutboxMessage.id)
            .execution_options(populate_existing=True)
        )
        return list(result.scalars())

    async def pending_count(self) -> int:
        """How many messages are pending (due or scheduled for later)."""
        await self.write_kept()
        result = await self.session.execute(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
        )
        return int(result.scalar_one())

    async def oldest_pending_age(self, now: datetime) -> timedelta | None:
        """How long the longest-waiting due message has been due; None when none is due."""
        await self.write_kept()
        result = await self.session.execute(
            select(func.min(OutboxMessage.not_before)).where(
                OutboxMessage.status == "pending", OutboxMessage.not_before <= now
            )
        )
        oldest = result.scalar_one_or_none()
        if oldest is None:
            return None
        return now - _aware(oldest)


def _row(
    platform: str,
    chat_external_id: str,
    payload: dict[str, Any],
    dedupe_key: str,
    now: datetime,
    person_id: int | None,
    not_before: datetime | None,
    source_event_id: str | int | None,
) -> dict[str, Any]:
    return {
        "dedupe_key": dedupe_key,
        "platform": platform,
        "chat_external_id": chat_external_id,
        "person_id": person_id,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "not_before": not_before or now,
        "created_at": now,
        "source_event_id": None if source_event_id is None else str(source_event_id),
    }


def _aware(value: datetime) -> datetime:
    # min() keeps the column type, so this is aware already; stay safe if a driver differs.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


__all__ = ["ClaimedMessage", "OutboxRepo"]
