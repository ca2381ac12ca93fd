"""The database handle and column types: clear errors, no passwords, aware UTC times."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.exc import StatementError

from storage.db import Database, StorageError, normalize_url, safe_url
from storage.migrate import upgrade
from storage.models import Person
from storage.uow import UnitOfWork

BEIJING = timezone(timedelta(hours=8))


@pytest.mark.asyncio
async def test_unreachable_postgres_is_one_clear_sentence_without_password() -> None:
    db = Database("postgresql+asyncpg://daiban:s3cret-pw@127.0.0.1:1/daiban")
    try:
        with pytest.raises(StorageError) as caught:
            async with UnitOfWork(db):
                pass
    finally:
        await db.dispose()
    message = str(caught.value)
    assert message.startswith(
        "cannot open database postgresql+asyncpg://daiban@127.0.0.1:1/daiban: "
    )
    assert "s3cret-pw" not in message and "\n" not in message


@pytest.mark.asyncio
async def test_unopenable_sqlite_file_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    db = Database(f"sqlite+aiosqlite:///{blocker / 'sub' / 'daiban.db'}")
    try:
        with pytest.raises(StorageError, match=r"^cannot open database sqlite"):
            await db.ping()
    finally:
        await db.dispose()


async def test_a_failed_open_leaves_no_connection_thread_running(tmp_path: Path) -> None:
    """aiosqlite stops the thread of a failed open without waiting for it; left running, its
    last call into the event loop failed once the loop had closed ("Event loop is closed")."""
    (tmp_path / "daiban.db").mkdir()  # a directory: SQLite cannot open it
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'daiban.db'}")
    before = set(threading.enumerate())
    try:
        for _ in range(3):
            with pytest.raises(StorageError):
                await db.ping()
            started = set(threading.enumerate()) - before
            assert [t.name for t in started if "_connection_worker_thread" in t.name] == []
    finally:
        await db.dispose()


@pytest.mark.asyncio
async def test_migrating_an_unreachable_database_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="cannot open database"):
        await upgrade("postgresql://u:pw@127.0.0.1:1/x")


def test_urls_are_normalised_and_passwords_hidden() -> None:
    assert normalize_url("sqlite:///var/d.db").drivername == "sqlite+aiosqlite"
    assert normalize_url("postgresql://u@h/d").drivername == "postgresql+asyncpg"
    assert normalize_url("postgres://u@h/d").drivername == "postgresql+asyncpg"
    assert safe_url("postgresql+asyncpg://u:p%40ss@h:5432/d") == "postgresql+asyncpg://u@h:5432/d"
    assert "pw" not in safe_url("postgresql://h/d?password=pw")


@pytest.mark.asyncio
async def test_dialect_and_parent_directory_created(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'var' / 'x.db'}")
    try:
        assert db.dialect == "sqlite"
        await db.ping()
        assert (tmp_path / "var").is_dir()
    finally:
        await db.dispose()


@pytest.mark.asyncio
async def test_timestamps_round_trip_as_aware_utc(db: Database) -> None:
    beijing_morning = datetime(2026, 3, 2, 9, 30, tzinfo=BEIJING)
    async with UnitOfWork(db) as uow:
        person = await uow.people.add("钱七", now=beijing_morning)
    async with UnitOfWork(db) as uow:
        stored = await uow.session.get(Person, person.id)
        assert stored is not None
        assert stored.created_at == beijing_morning
        assert stored.created_at.tzinfo == UTC
        assert stored.created_at.hour == 1


@pytest.mark.asyncio
async def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with UnitOfWork(db) as uow:
            await uow.people.add("naive", now=datetime(2026, 3, 2, 9, 30))
