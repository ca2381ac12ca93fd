"""What WeCom sending remembers (企业微信发送状态): rate windows, the access token, the
progress of messages sent in parts, the cards sent.

`StoreState` keeps all of it in the database every replica shares, so N replicas together
stay inside WeCom's limits, fetch one token and never resend a part another already sent.
`MemoryState` is the one-process stand-in the transport's unit tests drive with a fake
clock; `daiban run` always uses the store.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.transports.base import PermanentError
from storage.db import Database
from storage.uow import UnitOfWork

PLATFORM = "wecom"
TOKEN = "access_token"
PROGRESS_TTL = timedelta(days=1)  # a message still unfinished after a day is long failed

Limit = tuple[int, float]  # (at most this many sends, per this many seconds)


class SendState(Protocol):
    """The shared memory of the WeCom transport."""

    async def admit(self, key: str, limits: Sequence[Limit], count: int) -> float:
        """Take `count` sends for `key` (0) or say how many seconds to wait (take none)."""
        ...

    async def progress(self, key: str) -> int:
        """Parts of message `key` already delivered."""
        ...

    async def advance(self, key: str, done: int | None) -> None:
        """Record `done` parts delivered; None: the message is complete (forget it)."""
        ...

    async def token(self) -> str | None:
        """The cached access_token, unless expired."""
        ...

    async def keep_token(self, token: str, lifetime: float) -> None:
        """Cache a fresh access_token for `lifetime` seconds."""
        ...

    async def card_sent(self, task_id: str, chat: str, buttons: list[dict[str, Any]]) -> None:
        """Remember a button card, so its first press closes it."""
        ...


class SlidingWindow:
    """At most `limit` sends per `period` seconds per key, in this process."""

    def __init__(
        self, limit: int, period: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.period, self.clock = limit, period, clock
        self._sent: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        sent = self._sent.get(key, deque())
        while sent and sent[0] <= now - self.period:
            sent.popleft()
        if not sent:
            self._sent.pop(key, None)  # keeps memory bounded by recently active chats
        return sent

    def wait(self, key: str, count: int = 1) -> float:
        """Seconds until `count` more sends are allowed for `key` (0 when allowed now)."""
        sent = self._recent(key)
        excess = len(sent) + count - self.limit
        if excess <= 0:
            return 0.0
        if count > self.limit:
            raise PermanentError(f"one message needs {count} sends, over the limit {self.limit}")
        return max(0.001, sent[excess - 1] + self.period - self.clock())

    def note(self, key: str, count: int = 1) -> None:
        self._sent.setdefault(key, deque()).extend([self.clock()] * count)


class MemoryState:
    """`SendState` in this process only (tests with a fake clock)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._windows: dict[Limit, SlidingWindow] = {}
        self._progress: OrderedDict[str, int] = OrderedDict()
        self._token: tuple[str, float] | None = None
        self.cards: dict[str, tuple[str, list[dict[str, Any]]]] = {}

    async def admit(self, key: str, limits: Sequence[Limit], count: int) -> float:
        windows = [
            self._windows.setdefault(limit, SlidingWindow(*limit, self.clock)) for limit in limits
        ]
        wait = max(window.wait(key, count) for window in windows)
        if wait == 0:
            for window in windows:
                window.note(key, count)
        return wait

    async def progress(self, key: str) -> int:
        return self._progress.get(key, 0)

    async def advance(self, key: str, done: int | None) -> None:
        if done is None:
            self._progress.pop(key, None)
            return
        self._progress[key] = done
        while len(self._progress) > 1000:
            self._progress.popitem(last=False)

    async def token(self) -> str | None:
        if self._token is None or self._token[1] <= self.clock():
            return None
        return self._token[0]

    async def keep_token(self, token: str, lifetime: float) -> None:
        self._token = (token, self.clock() + lifetime)

    async def card_sent(self, task_id: str, chat: str, buttons: list[dict[str, Any]]) -> None:
        self.cards[task_id] = (chat, buttons)


class StoreState:
    """`SendState` in the shared database (tables rate_slots, transport_values, cards)."""

    def __init__(
        self, db: Database, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.db = db
        self.now = now

    async def admit(self, key: str, limits: Sequence[Limit], count: int) -> float:
        try:
            async with UnitOfWork(self.db) as uow:
                await uow.rate_slots.lock(key)  # then read the clock: slots dated truly
                return await uow.rate_slots.admit(key, limits, count, self.now())
        except ValueError as exc:  # more parts than a whole window: can never be sent
            raise PermanentError(str(exc)) from None

    async def progress(self, key: str) -> int:
        async with UnitOfWork(self.db) as uow:
            found = await uow.transport_values.get(PLATFORM, f"progress:{key}", self.now())
        return int(found) if found else 0

    async def advance(self, key: str, done: int | None) -> None:
        async with UnitOfWork(self.db) as uow:
            if done is None:
                await uow.transport_values.forget(PLATFORM, f"progress:{key}")
            else:
                expires = self.now() + PROGRESS_TTL
                await uow.transport_values.put(PLATFORM, f"progress:{key}", str(done), expires)

    async def token(self) -> str | None:
        async with UnitOfWork(self.db) as uow:
            return await uow.transport_values.get(PLATFORM, TOKEN, self.now())

    async def keep_token(self, token: str, lifetime: float) -> None:
        expires = self.now() + timedelta(seconds=lifetime)
        async with UnitOfWork(self.db) as uow:
            await uow.transport_values.put(PLATFORM, TOKEN, token, expires)

    async def card_sent(self, task_id: str, chat: str, buttons: list[dict[str, Any]]) -> None:
        async with UnitOfWork(self.db) as uow:
            await uow.cards.opened(PLATFORM, task_id, chat, buttons, self.now())


__all__ = ["Limit", "MemoryState", "SendState", "SlidingWindow", "StoreState"]
