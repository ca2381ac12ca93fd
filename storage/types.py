"""Column types shared by the schema: aware UTC timestamps and JSON documents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time: accepts only timezone-aware datetimes, always returns aware UTC.

    Stored as naive UTC on SQLite and as ``timestamptz`` on PostgreSQL. A naive datetime
    is refused, because guessing its zone is how deadlines drift by eight hours.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """``timestamptz`` on PostgreSQL, a plain DATETIME elsewhere."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Check awareness and convert to UTC (naive UTC for SQLite)."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime needs a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: give it a timezone")
        value = value.astimezone(UTC)
        if dialect.name != "postgresql":
            value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class _JSONDocument(TypeDecorator[Any]):
    """JSON on SQLite, JSONB on PostgreSQL."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """JSONB on PostgreSQL, JSON elsewhere."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


class JSONDict(_JSONDocument):
    """A JSON object (``dict``). Assign a new dict to change it: in-place edits are not tracked."""

    cache_ok = True  # SQLAlchemy reads this from each class's own __dict__, not inherited


class JSONList(_JSONDocument):
    """A JSON array (``list``). Assign a new list to change it."""

    cache_ok = True


class JsonMemberText(FunctionElement[str]):
    """``document.key`` as JSON text, on either backend: one member of a JSON document.

    What a generated column copies out of a large document, so that a query reading only
    that member does not decode the whole document row by row (PostgreSQL detoasts it).
    """

    type = Text()
    inherit_cache = True

    def __init__(self, document: ColumnElement[Any], key: str) -> None:
        if not key.isidentifier():  # it is written into the SQL text, never bound
            raise ValueError(f"JSON member name must be an identifier, got {key!r}")
        self.key = key
        super().__init__(document)


@compiles(JsonMemberText, "postgresql")
def _member_pg(element: JsonMemberText, compiler: SQLCompiler, **kw: Any) -> str:
    document = compiler.process(element.clauses, **kw)
    return f"jsonb_extract_path_text({document}, '{element.key}')"


@compiles(JsonMemberText)
def _member_sqlite(element: JsonMemberText, compiler: SQLCompiler, **kw: Any) -> str:
    document = compiler.process(element.clauses, **kw)
    return f"json_extract({document}, '$.{element.key}')"


__all__ = ["JSONDict", "JSONList", "JsonMemberText", "UTCDateTime"]
