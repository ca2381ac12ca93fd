"""The delivery claim's statements (投递认领): built once, values bound at execution.

Apart from `OutboxRepo` because they are the one hot path of delivery: Core statements
compiled once and cached, where the repository's other methods use the ORM.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    bindparam,
    exists,
    not_,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import aliased

from storage.models import OutboxMessage, OutboxWorker
from storage.types import UTCDateTime


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """What a sender needs of a claimed outbox row."""

    id: int
    platform: str
    chat_external_id: str
    payload: dict[str, Any]
    dedupe_key: str


@functools.cache
def claim_statements(excluding: bool, only: bool = False) -> tuple[Any, Any]:
    """The claim of stale rows and of pending rows, built once (values bound at execution).

    Parameters: ``now`` (the application's clock: what is due), ``wall`` (real time: the
    claim's time), ``expired`` (claims older than this, in real time, are abandoned),
    ``silent`` (a worker whose heartbeat is older than this is dead, and so are its
    claims), ``worker``, ``platforms``, ``room`` (at most this many rows), ``busy``
    (chats with a running lane) when `excluding`, and ``only`` (the chats to claim from,
    read along the chat index: people who just wrote, answered first) when `only`.
    """
    row = OutboxMessage
    earlier = aliased(OutboxMessage)
    now = bindparam("now", type_=UTCDateTime())
    expired = bindparam("expired", type_=UTCDateTime())
    # Workers whose heartbeat stopped (never the claiming worker itself: a beat delayed by
    # a busy database must not make it take back its own rows).
    dead = select(OutboxWorker.worker_id).where(
        OutboxWorker.beat_at < bindparam("silent", type_=UTCDateTime()),
        OutboxWorker.worker_id != bindparam("worker"),
    )
    # An earlier row of the same chat that is not sendable now keeps this one waiting.
    blocked = exists().where(
        earlier.chat_external_id == row.chat_external_id,
        earlier.platform == row.platform,
        earlier.id < row.id,
        or_(
            and_(earlier.status == "pending", earlier.not_before > now),
            and_(
                earlier.status == "sending",
                earlier.claimed_at >= expired,
                earlier.claimed_by.not_in(dead),
            ),
        ),
    )

    def claim(*condition: ColumnElement[bool]) -> Any:
        ids = (
            select(row.id)
            .where(
                row.platform.in_(bindparam("platforms", expanding=True)),
                *condition,
                not_(blocked),
            )
            .order_by(row.id)
            .limit(bindparam("room", type_=Integer()))
            .with_for_update(skip_locked=True, of=row)
        )
        chats = tuple_(row.platform, row.chat_external_id)
        if excluding:
            ids = ids.where(not_(chats.in_(bindparam("busy", expanding=True))))
        if only:
            ids = ids.where(chats.in_(bindparam("only", expanding=True)))
        return (
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids.scalar_subquery()))
            .values(
                status="sending",
                claimed_by=bindparam("worker"),
                claimed_at=bindparam("wall", type_=UTCDateTime()),
                attempts=OutboxMessage.attempts + 1,
            )
            .returning(
                OutboxMessage.id,
                OutboxMessage.platform,
                OutboxMessage.chat_external_id,
                OutboxMessage.payload,
                OutboxMessage.dedupe_key,
            )
        )

    # Rows whose worker died first (rare: an index lookup), then the pending ones in id
    # order, read along (status, id) so that a backlog is never scanned whole. A worker is
    # dead when its heartbeat stopped, or (one that never beat) when its lease ran out.
    abandoned = or_(row.claimed_at < expired, row.claimed_by.in_(dead))
    stale = claim(row.status == "sending", abandoned)
    pending = claim(row.status == "pending", row.not_before <= now)
    return stale, pending


MARK_SENT = (
    update(OutboxMessage)
    .where(OutboxMessage.id.in_(bindparam("ids", expanding=True)))
    .values(status="sent", sent_at=bindparam("now", type_=UTCDateTime()), last_error=None)
)


UNCLAIM = (
    update(OutboxMessage)
    .where(
        OutboxMessage.id.in_(bindparam("ids", expanding=True)),
        OutboxMessage.claimed_by == bindparam("worker"),
    )
    .values(
        status="pending", claimed_by=None, claimed_at=None, attempts=OutboxMessage.attempts - 1
    )
)


__all__ = ["MARK_SENT", "UNCLAIM", "ClaimedMessage", "claim_statements"]
