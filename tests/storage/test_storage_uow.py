"""The unit of work: state, work-log events and outbox rows commit together or not at all."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError

from storage.db import Database, StorageError, is_unavailable
from storage.migrate import upgrade
from storage.models import Event, OutboxMessage, Person
from storage.uow import UnitOfWork

pytestmark = pytest.mark.asyncio


async def _counts(db: Database) -> tuple[int, int, int]:
    async with UnitOfWork(db) as uow:
        counts = []
        for model in (Person, Event, OutboxMessage):
            result = await uow.session.execute(select(func.count()).select_from(model))
            counts.append(int(result.scalar_one()))
        return counts[0], counts[1], counts[2]


async def _do_work(uow: UnitOfWork, now: datetime) -> None:
    person = await uow.people.add("李四", now=now)
    await uow.events.append("person.created", at=now, actor_id=person.id)
    await uow.outbox.enqueue(
        platform="emu",
        chat_external_id="c1",
        payload={"text": "hi"},
        dedupe_key="welcome:1",
        now=now,
        person_id=person.id,
    )


async def test_commit_persists_state_event_and_outbox_together(db: Database, now: datetime) -> None:
    async with UnitOfWork(db) as uow:
        await _do_work(uow, now)
    assert await _counts(db) == (1, 1, 1)


async def test_exception_rolls_back_state_event_and_outbox(db: Database, now: datetime) -> None:
    with pytest.raises(RuntimeError, match="handler broke"):
        async with UnitOfWork(db) as uow:
            await _do_work(uow, now)
            await uow.flush()
            raise RuntimeError("handler broke")
    assert await _counts(db) == (0, 0, 0)


async def test_explicit_rollback_discards_and_exit_does_not_commit(
    db: Database, now: datetime
) -> None:
    async with UnitOfWork(db) as uow:
        await _do_work(uow, now)
        await uow.rollback()
    assert await _counts(db) == (0, 0, 0)


async def test_explicit_commit_then_more_work_is_committed_on_exit(
    db: Database, now: datetime
) -> None:
    async with UnitOfWork(db) as uow:
        await _do_work(uow, now)
        await uow.commit()
        await uow.events.append("second", at=now)
    assert await _counts(db) == (1, 2, 1)


async def test_failed_commit_leaves_nothing_and_releases_the_connection(
    db: Database, now: datetime
) -> None:
    async with UnitOfWork(db) as uow:
        await uow.people.add("王五", now=now)
    person = Person(name="bad", lang="zh_CN", active=True, created_at=None)
    with pytest.raises(Exception):  # noqa: B017 - driver-specific IntegrityError
        async with UnitOfWork(db) as uow:
            uow.session.add(person)
    assert await _counts(db) == (1, 0, 0)


async def test_sqlite_unit_of_work_holds_the_write_lock_from_the_start(
    tmp_path: Path, now: datetime
) -> None:
    """BEGIN IMMEDIATE: before it has written anything, a unit of work already excludes
    other writers, so what it reads cannot change under it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'lock.db'}"
    await upgrade(url)
    db = Database(url)
    try:
        async with UnitOfWork(db) as uow:
            assert await uow.people.get(1) is None  # only a read so far
            other = sqlite3.connect(tmp_path / "lock.db", timeout=0, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
        pragmas = {}
        async with db.connect() as conn:
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous"):
                pragmas[name] = (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
            await conn.rollback()
        assert pragmas == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": 30000,
            "synchronous": 1,
        }
    finally:
        await db.dispose()


async def test_a_locked_sqlite_file_leaves_the_unit_of_work_as_storage_error(
    tmp_path: Path, now: datetime
) -> None:
    """Another process holding the write lock past the busy timeout means "try again later",
    not a handler bug: the unit of work says so with `StorageError`."""
    path = tmp_path / "locked.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    db = Database(url)
    try:

        @event.listens_for(db.engine.sync_engine, "connect")
        def _short_wait(dbapi_connection, _record) -> None:
            dbapi_connection.execute("PRAGMA busy_timeout=50")

        with pytest.raises(StorageError, match="database is locked"):
            async with UnitOfWork(db) as uow:
                await _do_work(uow, now)
    finally:
        holder.rollback()
        holder.close()
        await db.dispose()
    assert await _counts(Database(url)) == (0, 0, 0)


async def test_a_bad_statement_is_not_taken_for_an_unavailable_database(db: Database) -> None:
    """A statement the database refuses (on SQLite that is an OperationalError too) is the
    caller's error and leaves as it is."""
    with pytest.raises(DBAPIError) as raised:
        async with UnitOfWork(db) as uow:
            await uow.session.execute(text("SELECT * FROM no_such_table"))
    assert not isinstance(raised.value, StorageError)
    assert not is_unavailable(raised.value)
