"""Migrations: upgrade is idempotent and leaves exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.migrate import current, head, upgrade
from storage.models import Base

pytestmark = pytest.mark.asyncio


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def _schema_diff(url: str) -> list[object]:
    db = Database(url)
    try:
        async with db.connect() as conn:
            diff = await conn.run_sync(_diff)
            await conn.rollback()
            return diff
    finally:
        await db.dispose()


async def test_upgrade_is_idempotent_and_matches_the_models(empty_url: str) -> None:
    assert await current(empty_url) is None
    before = await _schema_diff(empty_url)
    assert len(before) >= len(Base.metadata.tables)  # the comparison does see tables

    await upgrade(empty_url)
    assert await current(empty_url) == head()
    assert await _schema_diff(empty_url) == []

    await upgrade(empty_url)  # second run: nothing to do, nothing breaks
    assert await current(empty_url) == head()
    assert await _schema_diff(empty_url) == []


async def test_upgrade_works_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'var' / 'daiban.db'}"  # var/ does not exist yet
    await upgrade(url)
    assert await current(url) == head()
    assert (tmp_path / "var" / "daiban.db").exists()
