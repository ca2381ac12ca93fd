"""Inbound dedupe (事件去重): every platform event is handled once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete

from storage.models import InboundEvent
from storage.repos._base import Repo


class InboundRepo(Repo):
    """Remembers platform events (Telegram update_id, WeCom MsgId) already handled."""

    async def record(self, platform: str, event_id: str, now: datetime) -> bool:
        """True when this event is new (and now recorded), False when it was seen before."""
        return await self.insert_if_new(
            InboundEvent,
            {"platform": platform, "event_id": str(event_id), "received_at": now},
        )

    async def prune(self, before: datetime) -> int:
        """Forget events received before `before` (no platform redelivers them that late);
        the number forgotten."""
        result = await self.session.execute(
            delete(InboundEvent).where(InboundEvent.received_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def record_many(
        self, events: Sequence[tuple[str, str]], now: datetime
    ) -> set[tuple[str, str]]:
        """Record (platform, event id) pairs in one statement; the pairs that were new."""
        if not events:
            return set()
        rows = [{"platform": p, "event_id": str(e), "received_at": now} for p, e in events]
        stmt = _RECORD_MANY.get(self.dialect)
        if stmt is None:  # built once; executemany turns it into one multi-row INSERT
            table = InboundEvent.__table__
            stmt = _RECORD_MANY[self.dialect] = (
                self.insert(InboundEvent)
                .on_conflict_do_nothing()
                .returning(table.c.platform, table.c.event_id)
            )
        return {(p, e) for p, e in await self.session.execute(stmt, rows)}


_RECORD_MANY: dict[str, Any] = {}


__all__ = ["InboundRepo"]
