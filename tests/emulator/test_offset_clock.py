"""The emulator's clock: wall time plus an offset that only grows."""

from datetime import datetime, timedelta

import pytest

from domain.clock import FakeClock, OffsetClock

START = datetime.fromisoformat("2026-11-23T09:00:00+08:00")


def test_runs_with_its_base_plus_the_offset():
    base = FakeClock(START)
    clock = OffsetClock(base, timedelta(hours=2))
    base.advance(timedelta(minutes=5))
    assert clock.now() == START + timedelta(hours=2, minutes=5)


def test_set_moves_forward_and_never_back():
    base = FakeClock(START)
    clock = OffsetClock(base)
    clock.set(START + timedelta(days=1))
    assert clock.now() == START + timedelta(days=1)
    clock.set(START)  # in the past: stays
    assert clock.now() == START + timedelta(days=1)
    with pytest.raises(ValueError):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError):
        OffsetClock(base, timedelta(seconds=-1))
    with pytest.raises(ValueError):
        clock.set(datetime(2030, 1, 1))
