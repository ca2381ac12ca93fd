"""Messages held until their chat is reachable again (待达消息).

Some platforms cannot deliver to a person at every moment (WeChat answers a contact only
within 48 hours of their last message). The delivery worker then keeps the message, and
every later one of that chat, pending with ``not_before`` = `HOLD_UNTIL`: the claim skips
them and keeps the chat in order behind them. When the person writes again, the
transport releases them; the office can list who has messages waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import aliased

from storage.models import OutboxMessage
from storage.repos._base import Repo

# Far enough to never come due, and the one value that marks a held row.
HOLD_UNTIL = datetime(9999, 1, 1, tzinfo=UTC)
HELD_PREFIX = "held: "


@dataclass(frozen=True, slots=True)
class WaitingChat:
    """A chat with messages held for it: how many, since when, and for whom."""

    platform: str
    chat_external_id: str
    person_id: int | None
    count: int
    since: datetime


class HeldRepo(Repo):
    """Hold, count, release and list the messages waiting for an unreachable chat."""

    async def hold(self, ids: list[int], reason: str, now: datetime) -> None:
        """Put claimed rows back to pending, held until `release` (the first carries why).

        ``claimed_at`` keeps when they were held (a pending row has no claim otherwise), so
        a person who wrote while the rows were being held can be noticed."""
        for position, row_id in enumerate(ids):
            await self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id)
                .values(
                    status="pending",
                    not_before=HOLD_UNTIL,
                    claimed_by=None,
                    claimed_at=now,
                    last_error=HELD_PREFIX
                    + (reason if position == 0 else "waiting behind an earlier message"),
                )
            )

    async def release(self, platform: str, chat_external_id: str, now: datetime) -> list[int]:
        """Make the chat's held rows due now; their ids, oldest first (one statement: this
        runs for every message a person sends)."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.chat_external_id == chat_external_id,
                OutboxMessage.platform == platform,
                OutboxMessage.status == "pending",
                OutboxMessage.not_before == HOLD_UNTIL,
            )
            .values(not_before=now, last_error=None, claimed_at=None)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(result.scalars())

    async def pending_in_chat(self, platform: str, chat_external_id: str) -> int:
        """How many messages of the chat are pending: the held ones and those queued behind."""
        result = await self.session.execute(
            select(func.count()).where(
                OutboxMessage.chat_external_id == chat_external_id,
                OutboxMessage.platform == platform,
                OutboxMessage.status == "pending",
            )
        )
        return int(result.scalar_one())

    async def waiting(self, platform: str | None = None) -> list[WaitingChat]:
        """Every chat with held messages (counting those queued behind them too), the
        longest-waiting first."""
        held = aliased(OutboxMessage)
        has_held = exists().where(
            held.chat_external_id == OutboxMessage.chat_external_id,
            held.platform == OutboxMessage.platform,
            held.status == "pending",
            held.not_before == HOLD_UNTIL,
        )
        stmt = (
            select(
                OutboxMessage.platform,
                OutboxMessage.chat_external_id,
                func.max(OutboxMessage.person_id),
                func.count(),
                func.min(OutboxMessage.created_at),
            )
            .where(OutboxMessage.status == "pending", has_held)
            .group_by(OutboxMessage.platform, OutboxMessage.chat_external_id)
        )
        if platform is not None:
            stmt = stmt.where(OutboxMessage.platform == platform)
        rows = [
            WaitingChat(p, c, person, int(n), _aware(since))
            for p, c, person, n, since in await self.session.execute(stmt)
        ]
        return sorted(rows, key=lambda w: (w.since, w.platform, w.chat_external_id))


def _aware(value: datetime) -> datetime:
    # min() over a UTCDateTime column comes back naive from SQLite.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


__all__ = ["HELD_PREFIX", "HOLD_UNTIL", "HeldRepo", "WaitingChat"]
