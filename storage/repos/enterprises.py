"""Enterprises (建设主体), known by their unified social credit code (USCC) when given."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from storage.models import Enterprise
from storage.repos._base import Repo


class EnterpriseRepo(Repo):
    """Find or register the companies that build projects."""

    async def get(self, enterprise_id: int) -> Enterprise | None:
        """The enterprise with this id, or None."""
        return await self.session.get(Enterprise, enterprise_id)

    async def by_uscc(self, uscc: str) -> Enterprise | None:
        """The enterprise with this credit code, or None."""
        result = await self.session.execute(select(Enterprise).where(Enterprise.uscc == uscc))
        return result.scalar_one_or_none()

    async def get_or_create(self, *, name: str, uscc: str | None, now: datetime) -> Enterprise:
        """The enterprise with this USCC (renamed to ``name`` if it changed), else by name
        when no USCC is given; registered on first sight."""
        if uscc is not None:
            enterprise = await self.by_uscc(uscc)
            if enterprise is None:
                await self.insert_if_new(
                    Enterprise, {"name": name, "uscc": uscc, "created_at": now}
                )
                enterprise = await self.by_uscc(uscc)
                assert enterprise is not None
            elif enterprise.name != name:
                enterprise.name = name
                await self.session.flush()
            return enterprise
        result = await self.session.execute(
            select(Enterprise)
            .where(Enterprise.name == name, Enterprise.uscc.is_(None))
            .order_by(Enterprise.id)
            .limit(1)
        )
        found = result.scalar_one_or_none()
        if found is not None:
            return found
        enterprise = Enterprise(name=name, uscc=None, created_at=now)
        self.session.add(enterprise)
        await self.session.flush()
        return enterprise


__all__ = ["EnterpriseRepo"]
