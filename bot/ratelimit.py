"""Rate limits (限流): sliding windows per platform, per chat and per group.

A messenger's limits read "at most N messages in any T seconds" (Telegram: 30/s overall,
1/s per chat, 20/min per group). A window here admits a send only when the N-th most
recent send *finished* at least T seconds ago. The server counts a request when it
arrives, which is after our start and before our answer, so measuring from the answer
keeps us inside the server's window even with network jitter; it costs one round trip
per window, far less than the 5 % a safety margin would.

A transport holds one `RateLimiter` and wraps every API call in `async with
limiter.slot(chat_id):`; the delivery worker then runs many chats at once and the
shared window paces them fairly (first come, first served), except that the chats the
worker marks as answering someone who just wrote (`RateLimiter.first`) take the next
turn before a daily round's backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

INFLIGHT = math.inf  # a send that has not answered yet holds its place in the window


@dataclass(frozen=True)
class Rate:
    """At most `count` messages in any `seconds`."""

    count: int
    seconds: float

    @classmethod
    def per_second(cls, value: float) -> Rate:
        """`value` messages a second as a window (fractions become a longer window)."""
        return cls(1, 1 / value) if value < 1 else cls(int(value), 1.0)

    @classmethod
    def per_minute(cls, value: float) -> Rate:
        return cls(1, 60 / value) if value < 1 else cls(int(value), 60.0)


@dataclass(frozen=True)
class RatePolicy:
    """A platform's limits: overall, per chat, and per group chat (None: unlimited)."""

    overall: Rate | None = None
    per_chat: Rate | None = None
    per_group: Rate | None = None
    is_group: Callable[[str], bool] = field(default=lambda chat_id: False)


class SlidingWindow:
    """The start-to-answer window of one bucket (see the module docstring)."""

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self._ends: list[list[float]] = []  # one mutable cell per send: its answer time
        self._held_until = 0.0
        self._prune_at = 64  # prune when the window reaches its count, or grows this big

    def _prune(self, now: float) -> None:
        horizon = now - self.rate.seconds
        self._ends = [cell for cell in self._ends if cell[0] > horizon]
        # Amortised: a roomy window (a high limit) is swept only when it has doubled.
        self._prune_at = max(64, 2 * len(self._ends))

    def wait_time(self, now: float) -> float:
        """Seconds until one more send fits (0: now)."""
        if len(self._ends) >= min(self.rate.count, self._prune_at):
            self._prune(now)
        held = max(0.0, self._held_until - now)
        if len(self._ends) < self.rate.count:
            return held
        ends = sorted(cell[0] for cell in self._ends)
        oldest_needed = ends[len(ends) - self.rate.count]
        if oldest_needed == INFLIGHT:
            return max(held, 0.005)  # wait for an answer; poll briefly
        return max(held, oldest_needed + self.rate.seconds - now)

    def reserve(self) -> list[float]:
        cell = [INFLIGHT]
        self._ends.append(cell)
        return cell

    def hold(self, until: float) -> None:
        """Admit nothing before `until` (the platform said "retry after")."""
        self._held_until = max(self._held_until, until)


class Turn:
    """One sender at a time, in two queues: first-class waiters before the others, each
    queue first come, first served."""

    def __init__(self) -> None:
        self._busy = False
        self._queues: tuple[deque[asyncio.Future[None]], ...] = (deque(), deque())

    async def acquire(self, first: bool) -> None:
        if not self._busy and not any(self._queues):
            self._busy = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._queues[0 if first else 1]
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed the turn just as it was cancelled: pass it on
            else:
                queue.remove(waiter)
            raise

    def release(self) -> None:
        for queue in self._queues:
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the turn passes on; still busy
                    return
        self._busy = False


class RateLimiter:
    """The windows of one platform, created on first use per chat."""

    def __init__(self, policy: RatePolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.clock = clock
        self.overall = SlidingWindow(policy.overall) if policy.overall else None
        self._chats: dict[str, list[SlidingWindow]] = {}
        self._overall_turn = Turn()  # the longest-waiting chat goes first…
        self.first: set[str] = set()  # …after the chats answering someone (the worker's)

    def _chat_windows(self, chat_id: str) -> list[SlidingWindow]:
        windows = self._chats.get(chat_id)
        if windows is None:
            windows = []
            if self.policy.per_chat:
                windows.append(SlidingWindow(self.policy.per_chat))
            if self.policy.per_group and self.policy.is_group(chat_id):
                windows.append(SlidingWindow(self.policy.per_group))
            self._chats[chat_id] = windows
        return windows

    async def _wait(self, windows: list[SlidingWindow]) -> None:
        while True:
            delay = max((w.wait_time(self.clock()) for w in windows), default=0.0)
            if delay <= 0:
                return
            await asyncio.sleep(delay)

    @contextlib.asynccontextmanager
    async def slot(self, chat_id: str) -> AsyncIterator[None]:
        """Wait until one message to `chat_id` fits every window, then hold its place."""
        own = self._chat_windows(chat_id)
        await self._wait(own)  # only this chat's sender waits here
        cells: list[list[float]]
        if self.overall is None:
            cells = [w.reserve() for w in own]
        else:
            await self._overall_turn.acquire(chat_id in self.first)
            try:
                await self._wait([*own, self.overall])
                cells = [w.reserve() for w in (*own, self.overall)]
            finally:
                self._overall_turn.release()
        try:
            yield
        finally:
            end = self.clock()
            for cell in cells:
                cell[0] = end

    def hold_chat(self, chat_id: str, seconds: float) -> None:
        """A 429 for this chat: its windows admit nothing for `seconds`."""
        until = self.clock() + seconds
        for window in self._chat_windows(chat_id):
            window.hold(until)

    def forget_idle(self) -> None:
        """Drop the windows of chats with nothing recent (keeps memory flat)."""
        now = self.clock()
        idle = [c for c, ws in self._chats.items() if all(w.wait_time(now) == 0 for w in ws)]
        for chat_id in idle:
            if all(not w._ends for w in self._chats[chat_id]):
                del self._chats[chat_id]


__all__ = ["Rate", "RateLimiter", "RatePolicy", "SlidingWindow", "Turn"]
