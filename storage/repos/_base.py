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
        # One statement per table and dialect, the values bound at execution: building
        # the statement anew each time cost more than running it (inbound, outbox rows).
        key = (self.dialect, model)
        stmt = _INSERT_IF_NEW.get(key)
        if stmt is None:
            stmt = _INSERT_IF_NEW[key] = self.insert(model).on_conflict_do_nothing()
        result = await self.session.execute(stmt, values)
        return bool(getattr(result, "rowcount", 0) == 1)

    async def insert_many_if_new(self, model: type[Base], rows: list[dict[str, Any]]) -> None:
        """Insert each row unless it conflicts with an existing one (one executemany)."""
        if not rows:
            return
        key = (self.dialect, model)
        stmt = _INSERT_IF_NEW.get(key)
        if stmt is None:
            stmt = _INSERT_IF_NEW[key] = self.insert(model).on_conflict_do_nothing()
        await self.session.execute(stmt, rows)


_INSERT_IF_NEW: dict[tuple[str, type[Base]], Any] = {}
