"""What every repository shares: its session and a dialect-aware INSERT."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base


class Repo:
    """A repository works inside the unit of work's session and never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.session.get_bind().dialect.name

    def insert(self, model: type[Base]) -> Any:
        """Core ``INSERT`` into ``model``'s table for this dialect (with ``on_conflict_*``)."""
        table = cast(Table, model.__table__)
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    async def insert_if_new(self, model: type[Base], values: dict[str, Any]) -> bool:
        """Insert one row unless it conflicts with an existing one; True when inserted."""
        stmt = self.insert(model).values(**values).on_conflict_do_nothing()
        result = await self.session.execute(stmt)
        return bool(getattr(result, "rowcount", 0) == 1)
