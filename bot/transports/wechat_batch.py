"""Store work of concurrent WeChat callbacks and sends, one transaction for many (批量提交).

Every WeChat message costs a few small writes besides its handling: opening the contact's
window, taking sends from the quota. Run one by one, each is a transaction of its own
(on SQLite, a turn of the single writer); under load, the callers waiting at the same
moment share one instead, as the delivery worker's "mark sent" does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from storage.db import Database
from storage.uow import UnitOfWork

T = TypeVar("T")
Work = Callable[[UnitOfWork], Awaitable[Any]]


class Batcher:
    """`await batcher.run(work)`: `work(uow)` inside a transaction shared with whatever
    other work is waiting; its result, or the transaction's exception."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._waiting: list[tuple[Work, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def run(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        result: T = await done
        return result

    async def _flush(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            results: list[Any] = []
            try:
                async with UnitOfWork(self.db) as uow:
                    for work, _ in batch:
                        results.append(await work(uow))
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for (_, done), result in zip(batch, results, strict=True):
                    if not done.done():
                        done.set_result(result)


__all__ = ["Batcher"]
