"""Scheduled jobs as data (定时任务): a name, an APScheduler trigger, and what to run.

The same list drives the real `AsyncIOScheduler` and the fake clock of stories and the
emulator, so what a story shows is what production does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from handlers.context import Services
from reminders.stalled_forms import remind_stalled_forms
from reminders.tickets import remind_open_tickets

JobFunc = Callable[[Services, datetime], Awaitable[None]]

# Interval triggers are anchored here so that fire times are the same in every process.
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Job:
    name: str
    trigger: BaseTrigger
    run: JobFunc


async def tick(services: Services, at: datetime) -> None:
    """The periodic due scan: ask the store what is due now and act on it."""
    await remind_stalled_forms(services, at)
    await remind_open_tickets(services, at)


def build_jobs(services: Services, tick_every: timedelta) -> list[Job]:
    return [
        Job(
            "tick",
            IntervalTrigger(
                seconds=int(tick_every.total_seconds()),
                start_date=EPOCH,
                timezone=services.timezone,
            ),
            tick,
        ),
    ]


def fire_times(job: Job, after: datetime, until: datetime) -> list[datetime]:
    """Every fire time of `job` in (after, until]."""
    times: list[datetime] = []
    previous: datetime | None = None
    probe = after + timedelta(microseconds=1)
    while True:
        nxt = job.trigger.get_next_fire_time(previous, probe)
        if nxt is None or nxt > until:
            return times
        if nxt > after:
            times.append(nxt)
        previous, probe = nxt, nxt + timedelta(microseconds=1)
