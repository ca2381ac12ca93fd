"""`daiban jobs run NAME [--at ISO-DATETIME]`: one scheduler job, once (手动运行定时任务).

The operator's manual catch-up, and the way to make a job happen on demand: the named job
of the scheduler's own list (`reminders.jobs.build_jobs`: tick, digest, reports, rating, prune)
runs once, as of ``--at`` (default: now; a time without an offset is in the scheme's time
zone). Its claims and dedupe keys hold exactly as for the scheduler: a slot that already
ran does not run again, and two processes running the same job at the same moment on one
database send nothing twice.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.config import ConfigError, Settings

if TYPE_CHECKING:  # the heavy imports wait until a job runs: `daiban --help` stays quick
    from reminders.jobs import Job

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `daiban jobs run NAME [--at ISO-DATETIME]`."""
    jobs = sub.add_parser("jobs", help="run one scheduler job once (manual catch-up)")
    jobs.add_argument("action", choices=["run"])
    jobs.add_argument("name", help="the job: tick, digest, reports, rating or prune")
    jobs.add_argument("--at", help="run as of this ISO date-time (default: now)")


def parse_at(text: str | None, timezone: ZoneInfo) -> datetime:
    """The moment to run as of: now, or ``text`` (naive means the scheme's time zone)."""
    if text is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--at {text!r} is not an ISO date-time; give e.g. 2026-11-23T09:00:00+08:00."
        ) from None
    return at.replace(tzinfo=timezone) if at.tzinfo is None else at


def find_job(jobs: list[Job], name: str) -> Job:
    for job in jobs:
        if job.name == name:
            return job
    names = ", ".join(job.name for job in jobs)
    raise ConfigError(f"there is no job {name!r}; the jobs are: {names}.")


async def _ensure_current(url: str) -> None:
    from storage.db import safe_url
    from storage.migrate import current, head

    if await current(url) != head():
        raise ConfigError(
            f"The database {safe_url(url)} is not up to date; run `daiban db upgrade` first."
        )


async def jobs_command(settings: Settings, name: str, at_text: str | None) -> int:
    """Run job ``name`` once as of ``at_text``; 0 when it ran (or had nothing to do)."""
    from bot.app import build_services
    from domain.clock import FakeClock
    from reminders.jobs import build_jobs
    from storage.db import StorageError
    from storage.uow import UnitOfWork

    services = build_services(settings)
    try:
        job = find_job(build_jobs(services, timedelta(seconds=settings.tick_seconds)), name)
        at = parse_at(at_text, services.timezone)
        await _ensure_current(settings.database_url)
        # The job's clock stands at `at` too, so nothing in it reads the wall clock.
        services = dataclasses.replace(services, clock=FakeClock(at))
        try:
            await job.run(services, at)
        except StorageError:
            raise
        except Exception:
            log.exception("job %s failed", name)
            return 1
        async with UnitOfWork(services.db) as uow:
            queued = await uow.outbox.count_created_at(at)
    finally:
        await services.db.dispose()
    local = at.astimezone(services.timezone)
    print(f"ran {name} as of {local.isoformat()}: {queued} outbox messages are dated then")
    return 0


__all__ = ["add_parser", "find_job", "jobs_command", "parse_at"]
