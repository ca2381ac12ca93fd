"""SQLite statements in one hop (单次往返): aiosqlite, with each statement run whole in its
thread.

aiosqlite keeps each connection on its own thread; every call is a hop there and back
(a queue put, a thread wake-up, a callback into the event loop). SQLAlchemy's adapter
makes four hops of one statement: open a cursor, execute, fetch the rows, close the
cursor. For the short statements of a chat bot the hops cost far more than SQLite's own
work, and they decided how many events a process could handle per second.

`OneHopCursor` runs open-execute-fetch-close as one function on the connection's thread,
so a statement is one hop; the results (rows, description, rowcount, lastrowid) come back
together. Everything else is SQLAlchemy's own aiosqlite dialect: the engine is created
with ``module=one_hop_dbapi()``. It uses two attributes of aiosqlite's ``Connection``
that are not public API, ``_execute`` (run a function on the connection's thread) and
``_conn`` (the sqlite3 connection there) — SQLAlchemy's adapter itself reaches into the
same object (``_tx``, ``_conn``); aiosqlite is pinned, and `tests/storage/` runs every
storage test through this cursor.
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

STOP_WAIT = 5.0  # seconds to wait for the thread of a connection that failed to open
Outcome = tuple[Any, list[Any], int, int | None]  # description, rows, rowcount, lastrowid


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    """One statement, start to finish, on the connection's own thread."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose every statement is one trip to the connection's thread."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]  # no aiosqlite cursor is opened
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass  # every result is fetched whole; there is nothing to size

    async def _hop(self, operation: str, parameters: Any, many: bool) -> None:
        connection = self._connection
        async with self._adapt_connection._execute_mutex:
            outcome: Outcome = await connection._execute(
                _run, connection._conn, operation, parameters, many
            )
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._hop(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        await self._hop(operation, seq_of_parameters, True)

    async def _async_soft_close(self) -> None:
        return None  # nothing is open between statements

    def close(self) -> None:
        self._rows.clear()


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection adapter, with `OneHopCursor`."""

    __slots__ = ()
    _cursor_cls = OneHopCursor  # type: ignore[assignment]  # a subclass; mypy reads it invariant


class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The DB-API module SQLAlchemy's aiosqlite dialect uses, handing out `OneHopConnection`."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy does: never hold up interpreter exit
        try:
            return OneHopConnection(self, await_(connection))
        except BaseException:
            # aiosqlite stops the thread of a failed open without waiting for it; the
            # thread's last call back into the event loop then raced the loop's end
            # ("Event loop is closed" in that thread). Wait for it while the loop runs.
            await_(_ended(connection._thread))
            raise


async def _ended(thread: threading.Thread) -> None:
    """Return once `thread` has finished (at most `STOP_WAIT` seconds); the loop runs on."""
    if thread.is_alive():
        await asyncio.to_thread(thread.join, STOP_WAIT)


def one_hop_dbapi() -> OneHopDbapi:
    """The module to pass as ``create_async_engine(url, module=...)`` for SQLite."""
    return OneHopDbapi(aiosqlite, sqlite3)


__all__ = ["OneHopCursor", "one_hop_dbapi"]
