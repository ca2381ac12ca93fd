"""Alembic environment for Daiban: async engines, batch mode on SQLite.

``storage.migrate.upgrade`` hands over an open connection in
``config.attributes["connection"]`` (already inside its transaction). Run from the alembic
CLI instead, the URL comes from ``DAIBAN_DATABASE_URL`` or ``sqlalchemy.url``.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    """Run the migrations on a synchronous connection (inside ``run_sync``)."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async(url: str) -> None:
    """Open the database the way the bot does (same pragmas, BEGIN IMMEDIATE) and migrate."""
    db = Database(url)
    try:
        async with db.connect() as conn:
            await conn.run_sync(run_on)
            await conn.commit()
    finally:
        await db.dispose()


def run_offline(url: str) -> None:
    """Emit SQL instead of running it (``alembic upgrade head --sql``)."""
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    """Choose the mode: a handed-over connection, offline SQL, or our own async engine."""
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = os.environ.get("DAIBAN_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set DAIBAN_DATABASE_URL to the database to migrate")
    if context.is_offline_mode():
        run_offline(url)
    else:
        asyncio.run(run_async(url))


main()
