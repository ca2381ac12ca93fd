"""Inbound dedupe (事件去重): every platform event is handled once."""

from __future__ import annotations

from datetime import datetime

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


__all__ = ["InboundRepo"]
