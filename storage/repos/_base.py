"""What every repository shares: its session and a dialect-aware INSERT."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.models import Base

_SQLOperand = ColumnElement[Any] | InstrumentedAttribute[Any]


class Repo:
    """A repository works inside the unit of work's session and never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.session.get_bind().dialect.name

    def one_of(self, column: _SQLOperand, ids: Collection[int]) -> ColumnElement[bool]:
        """``column IN ids`` with the ids in ONE bound parameter, however many there are:
        ``= ANY(:ids)`` (an integer array) on PostgreSQL, ``IN (SELECT value FROM
        json_each(:ids))`` on SQLite. An expanded ``IN`` list cost more to compile than to
        run at thousands of ids, and both drivers cap the parameters of one statement."""
        if self.dialect == "postgresql":
            array = postgresql.ARRAY(Integer)
            return column == any_(bindparam("ids", list(ids), type_=array, unique=True))
        each: Select[tuple[Any]] = select(literal_column("value")).select_from(
            func.json_each(bindparam("ids", json.dumps(list(ids)), unique=True))
        )
        return column.in_(each.scalar_subquery())

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
