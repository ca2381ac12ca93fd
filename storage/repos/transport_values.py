"""Small values a transport shares with its replicas (通道状态), each with an expiry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from storage.models import TransportValue
from storage.repos._base import Repo


class TransportValueRepo(Repo):
    """Read, write and forget one (platform, name) value."""

    async def get(self, platform: str, name: str, now: datetime) -> str | None:
        """The value unless it has expired."""
        return await self.session.scalar(
            select(TransportValue.value).where(
                TransportValue.platform == platform,
                TransportValue.name == name,
                TransportValue.expires_at > now,
            )
        )

    async def put(self, platform: str, name: str, value: str, expires_at: datetime) -> None:
        """Write the value (replacing any other)."""
        stmt = self.insert(TransportValue).values(
            platform=platform, name=name, value=value, expires_at=expires_at
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["platform", "name"],
                set_={"value": value, "expires_at": expires_at},
            )
        )

    async def forget(self, platform: str, name: str) -> None:
        await self.session.execute(
            delete(TransportValue).where(
                TransportValue.platform == platform, TransportValue.name == name
            )
        )


__all__ = ["TransportValueRepo"]
