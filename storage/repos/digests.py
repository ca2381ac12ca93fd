"""Kept digests (简报留存): the facts of each day's leaders' digest."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from storage.models import DigestRecord
from storage.repos._base import Repo


class DigestRepo(Repo):
    """One row per digest day; the first keeping of a day stands."""

    async def keep(self, day: date, facts: dict[str, Any], now: datetime) -> None:
        """Keep the facts the digest of ``day`` was rendered from (once per day)."""
        await self.insert_if_new(DigestRecord, {"day": day, "facts": facts, "kept_at": now})

    async def facts_of(self, day: date) -> dict[str, Any] | None:
        """The facts kept for ``day``, or None when no digest went out that day."""
        record = await self.session.get(DigestRecord, day)
        return None if record is None else record.facts
