"""Where the tests find PostgreSQL (测试数据库): one rule for every test that needs it.

``DAIBAN_TEST_POSTGRES_URL`` names an admin URL (``.ci/run`` sets it to the machine's
server). Unset on a developer's laptop, PostgreSQL tests are skipped and the summary says
so; unset under ``CI=true``, they fail, so CI can never pass without having run them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.needs import missing

PG_ENV = "DAIBAN_TEST_POSTGRES_URL"
PG_NEEDS = "PostgreSQL tests (DAIBAN_TEST_POSTGRES_URL is not set)"
PG_ENABLE = f"{PG_ENV}=postgresql+asyncpg://postgres@127.0.0.1:5432/test make test"


def pg_admin_url() -> str:
    """The admin URL; skips the test locally, fails it in CI, when it is not configured."""
    url = os.environ.get(PG_ENV)
    if url:
        return url
    missing(PG_NEEDS, PG_ENABLE)


async def admin_execute(admin_url: str, statement: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) outside any transaction on the server."""
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with admin.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await admin.dispose()


def scratch_name(prefix: str | None = None) -> str:
    """A fresh database name: ``<prefix>_<random>``, by default ``daiban_test_<pid>``."""
    return f"{prefix or f'daiban_test_{os.getpid()}'}_{secrets.token_hex(4)}"


def url_of(admin_url: str, name: str) -> str:
    """The URL of database ``name`` on the admin URL's server."""
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def scratch_pg_database(admin_url: str, prefix: str | None = None) -> AsyncIterator[str]:
    """Create a uniquely named empty database next to ``admin_url``'s; drop it afterwards."""
    name = scratch_name(prefix)
    await admin_execute(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield url_of(admin_url, name)
    finally:
        await admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
