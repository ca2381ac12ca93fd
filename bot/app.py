"""The bootstrap (装配): the one place where adapters are wired to handlers.

Tests and stories call `build_app` with a fake clock and an in-memory transport instead of
patching anything.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import ConfigError, Settings
from bot.outbox import DeliveryWorker
from bot.transports.base import Transport
from domain.calendar import CalendarError, WorkCalendar, load_overrides
from domain.clock import Clock
from domain.scheme import Scheme
from domain.scheme_loader import SchemeError, load_scheme
from handlers.app_router import build_router
from handlers.chat import Incoming
from handlers.context import Services
from handlers.pipeline import handle
from reminders.jobs import Job, build_jobs
from storage.db import Database
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def load_scheme_setting(settings: Settings) -> Scheme:
    try:
        return load_scheme(settings.scheme)
    except SchemeError as exc:
        raise ConfigError(f"DAIBAN_SCHEME ({settings.scheme!r}) cannot be used: {exc}") from None
    except FileNotFoundError:
        raise ConfigError(
            f"DAIBAN_SCHEME ({settings.scheme!r}) is neither a preset name nor a scheme file; "
            "presets: tongzhou, sanyuan, guangzhou, anshan, jinniu."
        ) from None


def load_calendar(settings: Settings) -> WorkCalendar:
    if settings.holidays_file is None:
        return WorkCalendar()
    try:
        return WorkCalendar(load_overrides(settings.holidays_file))
    except (CalendarError, OSError) as exc:
        raise ConfigError(f"DAIBAN_HOLIDAYS_FILE cannot be used: {exc}") from None


@dataclass
class App:
    settings: Settings
    services: Services
    worker: DeliveryWorker
    jobs: list[Job]
    transports: dict[str, Transport] = field(default_factory=dict)

    async def handle(self, event: Incoming) -> bool:
        return await handle(event, self.services)

    async def seed(self) -> None:
        """Make the scheme's departments known to the store (idempotent)."""
        async with UnitOfWork(self.services.db) as uow:
            for dept in self.services.scheme.departments:
                await uow.departments.ensure(dept.id, dept.name.zh, dept.name.en)

    async def close(self) -> None:
        await self.services.db.dispose()


async def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    transports: dict[str, Transport] | None = None,
) -> App:
    scheme = load_scheme_setting(settings)
    services = Services(
        db=Database(settings.database_url),
        scheme=scheme,
        calendar=load_calendar(settings),
        clock=clock or SystemClock(),
        router=build_router(),
        timezone=ZoneInfo(settings.timezone or scheme.timezone),
    )
    transports = dict(transports or {})
    worker = DeliveryWorker(services.db, transports, services.clock)
    jobs = build_jobs(services, timedelta(seconds=settings.tick_seconds))
    app = App(settings, services, worker, jobs, transports)
    await app.seed()
    return app


def start_scheduler(app: App) -> AsyncIOScheduler:
    """Run the app's jobs in real time, in the scheme's time zone."""
    scheduler = AsyncIOScheduler(timezone=app.services.timezone)

    async def run(job: Job) -> None:
        try:
            await job.run(app.services, app.services.clock.now())
        except Exception:
            log.exception("job %s failed", job.name)

    for job in app.jobs:
        scheduler.add_job(
            run,
            job.trigger,
            args=[job],
            id=job.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=30,
        )
    scheduler.start()
    return scheduler


async def run_until_stopped(app: App, stop: asyncio.Event) -> None:
    """The background work of a running Daiban: scheduler and outbox delivery."""
    scheduler = start_scheduler(app)
    try:
        await app.worker.run_forever(stop)
    finally:
        scheduler.shutdown(wait=False)
