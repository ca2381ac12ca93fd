"""Read-then-update under concurrency: the BEGIN IMMEDIATE recipe (SQLite) and row locks
(PostgreSQL) lose no update; the driver's default behaviour does, as the control shows."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import Database
from storage.migrate import upgrade_db
from storage.uow import UnitOfWork

pytestmark = pytest.mark.asyncio

TASKS = 20


async def test_concurrent_read_then_update_loses_no_update(
    db: Database, make_person, now: datetime
) -> None:
    person = await make_person()
    async with UnitOfWork(db) as uow:
        await uow.conversations.save(
            "emu", "c1", person.id, form="counter", step=None, data={"n": 0}, now=now
        )

    async def increment() -> None:
        async with UnitOfWork(db) as uow:
            conv = await uow.conversations.load("emu", "c1", person.id, for_update=True)
            assert conv is not None
            n = conv.data["n"]
            await asyncio.sleep(0.005)  # let every other task reach its read
            await uow.conversations.save(
                "emu", "c1", person.id, form="counter", step=None, data={"n": n + 1}, now=now
            )

    await asyncio.gather(*(increment() for _ in range(TASKS)))

    async with UnitOfWork(db) as uow:
        conv = await uow.conversations.load("emu", "c1", person.id)
        assert conv is not None
        assert conv.data["n"] == TASKS


async def test_without_the_recipe_aiosqlite_loses_updates(tmp_path: Path) -> None:
    """Control: a plain aiosqlite engine reads outside any transaction, so updates are lost."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'plain.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
            await conn.execute(text("INSERT INTO counter VALUES (1, 0)"))

        async def increment() -> None:
            async with engine.begin() as conn:
                n = (await conn.execute(text("SELECT n FROM counter WHERE id = 1"))).scalar_one()
                await asyncio.sleep(0.005)
                await conn.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})

        await asyncio.gather(*(increment() for _ in range(TASKS)))

        async with engine.connect() as conn:
            final = (await conn.execute(text("SELECT n FROM counter"))).scalar_one()
        assert final < TASKS
    finally:
        await engine.dispose()


async def test_in_memory_sqlite_units_of_work_take_turns(now: datetime) -> None:
    """On one shared in-memory connection the units of work are serialised, not interleaved."""
    db = Database("sqlite+aiosqlite://")
    try:
        await upgrade_db(db)
        async with UnitOfWork(db) as uow:
            person = await uow.people.add("计数", now=now)
            await uow.conversations.save(
                "emu", "c", person.id, form=None, step=None, data={"n": 0}, now=now
            )

        async def increment() -> None:
            async with UnitOfWork(db) as uow:
                conv = await uow.conversations.load("emu", "c", person.id)
                assert conv is not None
                n = conv.data["n"]
                await asyncio.sleep(0.001)
                await uow.conversations.save(
                    "emu", "c", person.id, form=None, step=None, data={"n": n + 1}, now=now
                )

        await asyncio.gather(*(increment() for _ in range(TASKS)))
        async with UnitOfWork(db) as uow:
            conv = await uow.conversations.load("emu", "c", person.id)
            assert conv is not None and conv.data["n"] == TASKS
    finally:
        await db.dispose()
