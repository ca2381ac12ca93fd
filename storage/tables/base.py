"""The declarative base (模型基类): one metadata, one naming convention for constraints,
so that Alembic batch mode on SQLite can find them again.
"""

from __future__ import annotations

from sqlalchemy import (
    ForeignKey,
    MetaData,
)
from sqlalchemy.orm import (
    DeclarativeBase,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")
CHAT_KINDS = ("dm", "group")


class Base(DeclarativeBase):
    """Declarative base carrying the shared metadata and naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _person_fk(ondelete: str | None = None) -> ForeignKey:
    return ForeignKey("persons.id", ondelete=ondelete)
