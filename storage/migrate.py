"""Schema migrations (数据库迁移) with Alembic, callable from async code.

``await upgrade(url)`` brings any database to the newest revision and is idempotent;
``await current(url)`` tells which revision a database is at. The Alembic scripts live
in ``storage/migrations`` and are found relative to this file, whatever the cwd.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage.db import CONNECT_ERRORS, Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"
# Any constant will do: replicas upgrading at once on PostgreSQL take turns on it.
_PG_MIGRATION_LOCK = 0x0DA1BA4


def alembic_config() -> Config:
    """An Alembic ``Config`` pointing at our scripts, independent of the cwd."""
    config = Config(str(ALEMBIC_INI)) if ALEMBIC_INI.exists() else Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head() -> str:
    """The newest revision id of the scripts."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _status(connection: Connection) -> tuple[str | None, bool]:
    return _current(connection), bool(inspect(connection).get_table_names())


async def upgrade_db(db: Database, revision: str = "head") -> None:
    """Migrate an open ``Database`` (e.g. a shared in-memory one) to ``revision``."""
    async with db.turn(), db.connect() as conn:
        try:
            # One transaction (BEGIN IMMEDIATE on SQLite): all of it or none of it.
            await conn.run_sync(_upgrade, revision)
            await conn.commit()
        except CONNECT_ERRORS as exc:
            await conn.rollback()
            raise db.error(exc, "migrate") from exc


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision`` (default: the newest). Idempotent.

    Raises ``StorageError`` when the database cannot be opened or migrated.
    """
    db = Database(url)
    try:
        await upgrade_db(db, revision)
    finally:
        await db.dispose()


async def current(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None when it was never migrated."""
    db = Database(url)
    try:
        async with db.turn(), db.connect() as conn:
            revision = await conn.run_sync(_current)
            await conn.rollback()
            return revision
    finally:
        await db.dispose()


async def status(url: str) -> tuple[str | None, bool]:
    """The database's revision (None when never migrated) and whether it holds any table:
    ``(None, False)`` is a new, empty database that may be created without asking."""
    db = Database(url)
    try:
        async with db.turn(), db.connect() as conn:
            found = await conn.run_sync(_status)
            await conn.rollback()
            return found
    finally:
        await db.dispose()


__all__ = ["alembic_config", "current", "head", "status", "upgrade", "upgrade_db"]
