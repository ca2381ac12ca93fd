"""Fixtures for the storage tests: every `db` test runs on SQLite and on PostgreSQL.

SQLite uses a fresh file per test. PostgreSQL runs when ``DAIBAN_TEST_POSTGRES_URL`` is
set: one scratch database ``daiban_test_<pid>_<random>`` is created for the session,
migrated once, emptied before each test and dropped at the end. If the variable is set
but the server does not answer, the tests error out; unset, they are skipped (and fail
instead under ``CI=true``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
import pytest_asyncio
from sqlalchemy import text

from storage.db import Database
from storage.migrate import upgrade
from storage.models import Base, Person
from storage.uow import UnitOfWork
from tests.pg import (
    PG_ENV,
    admin_execute,
    pg_admin_url,
    scratch_name,
    scratch_pg_database,
    url_of,
)

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
T = TypeVar("T")
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing


def _run_in_own_loop(coro: Coroutine[Any, Any, T]) -> T:
    # Session set-up happens while a test's event loop is already running.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The session's migrated scratch PostgreSQL database (skips when the env is unset)."""
    admin_url = pg_admin_url()
    name = scratch_name()
    url = url_of(admin_url, name)
    _run_in_own_loop(admin_execute(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        _run_in_own_loop(upgrade(url))
        yield url
    finally:
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        _run_in_own_loop(admin_execute(admin_url, drop))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend under test; PostgreSQL is skipped when not configured."""
    if request.param == "postgresql":
        pg_admin_url()
    return str(request.param)


def sqlite_url(directory: Path, name: str = "daiban.db") -> str:
    """A file SQLite URL inside ``directory``."""
    return f"sqlite+aiosqlite:///{directory / name}"


async def _empty_pg(db: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with db.connect() as conn:
        await conn.execute(text(f"TRUNCATE TABLE {tables} RESTART IDENTITY CASCADE"))
        await conn.commit()


@pytest_asyncio.fixture
async def db(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Database]:
    """A migrated, empty database on the parametrized backend."""
    if backend == "sqlite":
        url = sqlite_url(tmp_path)
        await upgrade(url)
        database = Database(url)
    else:
        database = Database(request.getfixturevalue("pg_url"))
        await _empty_pg(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest_asyncio.fixture
async def empty_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a brand-new, never migrated database on the parametrized backend."""
    if backend == "sqlite":
        yield sqlite_url(tmp_path, "fresh.db")
        return
    admin_url = os.environ[PG_ENV]
    async with scratch_pg_database(admin_url) as url:
        yield url


@pytest.fixture
def now() -> datetime:
    """A fixed, aware 'now': repositories never read the clock."""
    return NOW


@pytest.fixture
def make_person(db: Database, now: datetime) -> Callable[..., Awaitable[Person]]:
    """``await make_person(name, **kwargs)`` adds and commits a person."""

    async def make(name: str = "张三", **kwargs: Any) -> Person:
        async with UnitOfWork(db) as uow:
            return await uow.people.add(name, now=now, **kwargs)

    return make
