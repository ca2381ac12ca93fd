"""Clock control (时钟控制): move the emulator's time forward and run what falls due.

The emulator's clock is the wall clock plus an offset that only grows (`OffsetClock`).
Moving it runs every scheduled job whose fire time lies in between, in order, exactly as
stories do, and delivers what they queued, so reminders arrive live on the page. The
simulated instant is saved beside the data, so a restart never takes time back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import App
from domain.clock import OffsetClock
from reminders.jobs import fire_times

log = logging.getLogger(__name__)

DELIVERY_STEP = timedelta(minutes=15)


class ClockError(ValueError):
    """A clock move that cannot be made (in the past, not a date)."""


class EmulatorClock:
    """Owns the app's clock while the emulator is attached."""

    def __init__(self, app: App, state_file: Path) -> None:
        self.app = app
        self.state_file = state_file
        base = app.services.clock
        offset = timedelta(0)
        saved = self._load()
        if saved is not None:
            offset = max(timedelta(0), saved - base.now())
        self.clock = OffsetClock(base, offset)
        # The one clock of the app: handlers, jobs and the delivery worker all read it.
        app.services.clock = self.clock
        app.worker.clock = self.clock
        self._lock = asyncio.Lock()

    def _load(self) -> datetime | None:
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
            return datetime.fromisoformat(data["simulated_at"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _save(self) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(
            json.dumps({"simulated_at": self.clock.now().isoformat()}), encoding="utf-8"
        )

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def status(self) -> dict[str, Any]:
        """What the page shows: the simulated local time, weekday and whether it is a workday."""
        tz = self.app.services.timezone
        now = self.clock.now()
        local = now.astimezone(tz)
        calendar = self.app.services.calendar
        return {
            "now": now.isoformat(),
            "local": local.strftime("%Y-%m-%d %H:%M"),
            "local_iso": local.replace(microsecond=0).isoformat(),
            "weekday": local.isoweekday(),
            "workday": calendar.is_workday(local.date()),
            "provisional": calendar.is_provisional(local.date()),
            "offset_seconds": round(self.clock.offset.total_seconds()),
            "timezone": tz.key,
            "busy": self.busy,
        }

    def target(self, action: str, to: str | None = None) -> datetime:
        """The instant a move leads to: `hour`, `workday` (same time, next working day), `to`."""
        tz = self.app.services.timezone
        now = self.clock.now()
        if action == "hour":
            return now + timedelta(hours=1)
        if action == "workday":
            local = now.astimezone(tz)
            day = self.app.services.calendar.add_workdays(local.date(), 1)
            return datetime.combine(day, local.time(), tz)
        if action == "to" and to:
            try:
                if len(to.strip()) == 10:  # a bare date: the start of its working hours
                    parsed = datetime.combine(
                        date.fromisoformat(to.strip()),
                        self.app.services.scheme.reminders.working_hours.start,
                        tz,
                    )
                else:
                    parsed = datetime.fromisoformat(to.strip())
            except ValueError:
                raise ClockError(f"not a date or time: {to!r}") from None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=tz)
            if parsed <= now:
                raise ClockError(
                    f"{parsed.isoformat()} is not after the simulated time "
                    f"{now.astimezone(tz).isoformat()}; the clock only moves forward"
                )
            return parsed
        raise ClockError(f"unknown clock move {action!r}")

    async def advance_to(self, target: datetime) -> int:
        """Run every job due up to `target`, delivering after each; returns how many ran."""
        async with self._lock:
            app = self.app
            start = self.clock.now()
            due = sorted((t, j.name, j) for j in app.jobs for t in fire_times(j, start, target))
            delivered_at = start
            for at, _, job in due:
                self.clock.set(at)
                try:
                    await job.run(app.services, at)
                except Exception:  # one failing job must not stop the clock
                    log.exception("job %s failed at %s", job.name, at.isoformat())
                # Deliver every DELIVERY_STEP of simulated time, not after every tick: a
                # day of one-minute ticks stays quick, and the page shows each message at
                # the time its job queued it (the outbox row's created_at) anyway.
                if at - delivered_at >= DELIVERY_STEP:
                    await app.worker.drain()
                    delivered_at = at
            self.clock.set(target)
            await app.worker.drain()
            self._save()
            return len(due)
