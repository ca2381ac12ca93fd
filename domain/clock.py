"""The clock (时钟) as a parameter: domain code never reads the time itself.

`bot/app.py` supplies a system clock; stories and the emulator supply a `FakeClock`
they can move forward.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class FakeClock:
    """A clock that only moves when told to (stories, the emulator, tests)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        """Jump to `at`; the clock never moves backwards."""
        if at.tzinfo is None:
            raise ValueError("FakeClock.set needs a timezone-aware instant")
        at = at.astimezone(UTC)
        if at < self._now:
            raise ValueError(
                f"the clock cannot move backwards ({at.isoformat()} < {self._now.isoformat()})"
            )
        self._now = at

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)


class OffsetClock:
    """A clock that runs with `base` plus an offset that only grows (the emulator's clock).

    Time flows as on the wall, and can be pushed forward to watch reminders arrive; it
    never moves backwards, because due dates and dedupe keys already written rely on it.
    """

    def __init__(self, base: Clock, offset: timedelta = timedelta(0)) -> None:
        if offset < timedelta(0):
            raise ValueError("OffsetClock: the offset cannot be negative")
        self._base = base
        self._offset = offset

    @property
    def offset(self) -> timedelta:
        return self._offset

    def now(self) -> datetime:
        return self._base.now() + self._offset

    def set(self, at: datetime) -> None:
        """Move forward to `at`; an instant already passed leaves the clock where it is."""
        if at.tzinfo is None:
            raise ValueError("OffsetClock.set needs a timezone-aware instant")
        self._offset = max(self._offset, at.astimezone(UTC) - self._base.now())

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("OffsetClock: the clock cannot move backwards")
        self._offset += delta
