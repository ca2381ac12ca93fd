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
