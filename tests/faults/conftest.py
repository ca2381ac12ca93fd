"""Fixtures for the fault tests: a scratch PostgreSQL database per test module, migrated,
and a fake Bot API without rate limits.

The server is the one ``DAIBAN_TEST_POSTGRES_URL`` names (`.ci/run` sets it); other test
runs use it at the same time, so each module creates ``daiban_test_<pid>_<random>`` and
drops it afterwards. Unset, the tests are skipped, and under ``CI=true`` they fail.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any

import pytest
import pytest_asyncio

from storage.db import Database
from storage.migrate import upgrade
from tests.fakes.fake_bot_api import FakeBotApi, Limits
from tests.pg import admin_execute, pg_admin_url, scratch_name, url_of


def _in_own_loop(coro: Coroutine[Any, Any, Any]) -> Any:
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """The module's own migrated PostgreSQL database."""
    admin_url = pg_admin_url()
    name = scratch_name()
    url = url_of(admin_url, name)
    _in_own_loop(admin_execute(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        _in_own_loop(upgrade(url))
        yield url
    finally:
        _in_own_loop(admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest_asyncio.fixture
async def db(pg_url: str) -> AsyncIterator[Database]:
    """The test's handle on the module's database (for seeding and checking)."""
    database = Database(pg_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    """A fake Bot API that enforces no rate limit (these tests count, they do not pace)."""
    api = FakeBotApi(limits=Limits(overall=None, per_chat=None, per_group=None))
    await api.start()
    try:
        yield api
    finally:
        await api.stop()
