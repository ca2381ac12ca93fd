"""The database handle (数据库): one async engine and session factory per process.

SQLite (aiosqlite, WAL) is the embedded default; PostgreSQL (asyncpg) serves replicas.
On SQLite every transaction starts with ``BEGIN IMMEDIATE`` so that a read-then-update
holds the write lock from its first read: with the driver's default behaviour a SELECT
runs outside any transaction and concurrent read-modify-write silently loses updates.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool, StaticPool

from storage.sqlite_driver import one_hop_dbapi

SQLITE_BUSY_TIMEOUT_MS = 30_000

# Errors that mean "the database cannot be reached or opened" rather than a bad statement.
CONNECT_ERRORS: tuple[type[BaseException], ...] = (DBAPIError, OSError, TimeoutError)


class StorageError(Exception):
    """A storage failure worth one clear sentence to an operator (never holds a password)."""


# SQLite's ways of saying "not now" rather than "bad statement": retrying later succeeds.
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk i/o error")


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` means the database could not be used just now (the connection broke,
    the server went away, SQLite stayed locked), not that a statement was wrong.

    Such a failure inside a unit of work must not be taken for a handler bug: nothing was
    committed, and the event that caused it has to be delivered again.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StorageError):
            return True
        if isinstance(current, DBAPIError):
            if current.connection_invalidated:
                return True
            message = str(current.orig if current.orig is not None else current).lower()
            if any(text in message for text in _SQLITE_UNAVAILABLE):
                return True
        if isinstance(current, (ConnectionError, TimeoutError)):
            return True
        if type(current).__module__.startswith("asyncpg") and (
            "Connection" in type(current).__name__ or "CannotConnectNow" in type(current).__name__
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def normalize_url(url: str | URL) -> URL:
    """The URL with our async drivers filled in (``sqlite://`` → ``sqlite+aiosqlite://``)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.drivername != "sqlite+aiosqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend in ("postgresql", "postgres") and parsed.drivername != "postgresql+asyncpg":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL as text with the password (and any password query argument) removed."""
    try:
        parsed = make_url(url)
    except Exception:  # an unparsable URL is shown as a placeholder, never echoed
        return "<invalid database URL>"
    query = {k: v for k, v in parsed.query.items() if k.lower() != "password"}
    # URL.set(password=None) means "leave as is", so replace the tuple field itself.
    return parsed.set(query=query)._replace(password=None).render_as_string(hide_password=False)


def is_memory_sqlite(url: URL) -> bool:
    """True for an in-memory SQLite URL (``sqlite+aiosqlite://`` or ``:memory:``)."""
    if url.get_backend_name() != "sqlite":
        return False
    database = url.database or ""
    return database in ("", ":memory:") or "mode=memory" in database


def _reason(exc: BaseException, password: str | None) -> str:
    """The first line of the driver's message, with any echo of the password masked."""
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    reason = lines[0] if lines and lines[0] else type(exc).__name__
    if password:
        reason = reason.replace(password, "***")
    return reason


class Database:
    """An async engine plus session factory for one database URL.

    ``Database("sqlite+aiosqlite:///var/daiban.db")`` or
    ``Database("postgresql+asyncpg://user@host/db")``. Nothing connects until first use.
    """

    def __init__(self, url: str | URL) -> None:
        self.url: URL = normalize_url(url)
        self.safe_url = safe_url(self.url)
        self._memory = is_memory_sqlite(self.url)
        # SQLite has one writer at a time. Units of work in this process take turns on an
        # asyncio lock instead of colliding inside SQLite, whose busy handler sleeps in
        # growing steps (up to 100 ms) and made concurrent handling slower than sequential.
        # An in-memory database also needs it: it lives on one shared connection.
        # Other processes on the same file still queue through busy_timeout.
        sqlite = self.url.get_backend_name() == "sqlite"
        self._turns: asyncio.Lock | None = asyncio.Lock() if sqlite else None
        self._turn_owner: asyncio.Task[Any] | None = None
        self._prepared = False
        self.engine: AsyncEngine = self._create_engine()
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False, autoflush=True
        )

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    def _create_engine(self) -> AsyncEngine:
        backend = self.url.get_backend_name()
        if backend == "sqlite":
            # Each statement one trip to the connection's thread (storage/sqlite_driver.py).
            module = one_hop_dbapi()
            if self._memory:
                engine = create_async_engine(self.url, poolclass=StaticPool, module=module)
            else:
                # A small pool of long-lived connections, each on its own aiosqlite thread;
                # BEGIN IMMEDIATE plus busy_timeout makes writers queue rather than fail.
                engine = create_async_engine(
                    self.url,
                    module=module,
                    poolclass=AsyncAdaptedQueuePool,
                    pool_size=5,
                    max_overflow=15,
                    pool_timeout=60,
                )
            _install_sqlite_recipe(engine, wal=not self._memory)
            return engine
        if backend == "postgresql":
            return create_async_engine(
                self.url,
                pool_pre_ping=True,
                pool_size=5,
                max_overflow=10,
                pool_recycle=1800,
                isolation_level="READ COMMITTED",
            )
        raise StorageError(f"cannot open database {self.safe_url}: unsupported backend {backend!r}")

    def error(self, exc: BaseException, doing: str = "open") -> StorageError:
        """The one-sentence ``StorageError`` for a failure to open (or ``doing``) it."""
        return StorageError(
            f"cannot {doing} database {self.safe_url}: {_reason(exc, self.url.password)}"
        )

    def _prepare(self) -> None:
        """Create the directory of a SQLite file on first use (e.g. ``var/``)."""
        if self._prepared:
            return
        if self.dialect == "sqlite" and not self._memory and self.url.database:
            database = self.url.database
            if database.startswith("file:"):
                database = database[5:].split("?", 1)[0]
            try:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise self.error(exc) from exc
        self._prepared = True

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold this database's turn for one unit of work (SQLite: one at a time).

        A unit of work opened inside another in the same task could never get its turn;
        that is a bug in the caller, reported at once instead of hanging.
        """
        if self._turns is None:
            yield
            return
        task = asyncio.current_task()
        if task is not None and task is self._turn_owner:
            raise RuntimeError("a unit of work was opened inside another one on SQLite")
        async with self._turns:
            self._turn_owner = task
            try:
                yield
            finally:
                self._turn_owner = None

    async def open_session(self) -> AsyncSession:
        """A new session that has already begun its transaction (BEGIN IMMEDIATE on SQLite).

        Raises ``StorageError`` when the database cannot be opened.
        """
        self._prepare()
        session = self.sessionmaker()
        try:
            await session.connection()
        except CONNECT_ERRORS as exc:
            await session.close()
            raise self.error(exc) from exc
        return session

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A raw connection (for migrations and checks); errors become ``StorageError``."""
        self._prepare()
        try:
            conn = await self.engine.connect()
        except CONNECT_ERRORS as exc:
            raise self.error(exc) from exc
        try:
            yield conn
        finally:
            await conn.close()

    async def ping(self) -> None:
        """Check that the database answers; raises ``StorageError`` when it does not."""
        async with self.turn(), self.connect() as conn:
            try:
                await conn.execute(text("SELECT 1"))
                await conn.rollback()
            except CONNECT_ERRORS as exc:
                raise self.error(exc) from exc

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def _install_sqlite_recipe(engine: AsyncEngine, *, wal: bool) -> None:
    """Pragmas on every connection, and SQLAlchemy's own BEGIN IMMEDIATE.

    This is SQLAlchemy's documented recipe for pysqlite/aiosqlite ("Enabling non-legacy
    SQLite transactional modes"): the driver's implicit BEGIN is switched off
    (``isolation_level = None``) and the engine's "begin" event emits the BEGIN itself.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


__all__ = ["Database", "StorageError", "is_unavailable", "normalize_url", "safe_url"]
