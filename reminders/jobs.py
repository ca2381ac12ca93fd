"""Scheduled jobs as data (定时任务): a name, an APScheduler trigger, and what to run.

The same list drives the real `AsyncIOScheduler` and the fake clock of stories and the
emulator, so what a story shows is what production does.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from handlers.context import Services
from reminders.digest import DIGEST_JOB, send_digests
from reminders.quarterly import quarterly_job
from reminders.rating_round import rating_job
from reminders.reports import send_monthly_report, send_weekly_dispatch
from reminders.schedule import catch_up
from reminders.stalled_forms import remind_stalled_forms
from reminders.tickets import remind_open_tickets
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

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
    # Reports and the rating round later on their day if the bot was down at 09:00.
    await reports_job(services, at)
    await rating_job(services, at)
    # Today's nudges and ladder once, and a digest missed during downtime (same day only).
    await catch_up(services, at)


async def digest_job(services: Services, at: datetime) -> None:
    """The leaders' daily digest at the scheme's digest time."""
    await send_digests(services, at)


async def reports_job(services: Services, at: datetime) -> None:
    """The office's weekly dispatch list, monthly report and quarterly statistics; each
    claimed per period."""
    await send_weekly_dispatch(services, at)
    await send_monthly_report(services, at)
    await quarterly_job(services, at)


# Platforms redeliver an event within minutes (WeCom: 3 tries; Telegram: a day at most);
# a month of inbound ids is plenty for dedupe and keeps the table small.
INBOUND_KEPT = timedelta(days=30)


async def prune_job(services: Services, at: datetime) -> None:
    """Forget inbound event ids older than `INBOUND_KEPT` (nightly)."""
    async with UnitOfWork(services.db) as uow:
        gone = await uow.inbound.prune(at - INBOUND_KEPT)
    if gone:
        log.info("pruned %d inbound event ids older than %s days", gone, INBOUND_KEPT.days)


def build_jobs(services: Services, tick_every: timedelta) -> list[Job]:
    reports_at = services.scheme.reminders.working_hours.start
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
        Job(
            DIGEST_JOB,
            CronTrigger(
                hour=services.scheme.reports.digest_time.hour,
                minute=services.scheme.reports.digest_time.minute,
                timezone=services.timezone,
            ),
            digest_job,
        ),
        # Daily at the start of working hours; each sends only on its day (or the next
        # working day of the week/month) and claims its period, so it goes out once.
        Job(
            "reports",
            CronTrigger(hour=reports_at.hour, minute=reports_at.minute, timezone=services.timezone),
            reports_job,
        ),
        Job(
            "rating",
            CronTrigger(hour=reports_at.hour, minute=reports_at.minute, timezone=services.timezone),
            rating_job,
        ),
        Job("prune", CronTrigger(hour=3, minute=17, timezone=services.timezone), prune_job),
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
