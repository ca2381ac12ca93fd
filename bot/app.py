"""The bootstrap (装配): the one place where adapters are wired to handlers.

`build_services` turns the settings into the `Services` every flow and job uses (store,
scheme, calendar, clock, router, time zone); `build_app` adds the delivery worker, the
jobs and the transports for `daiban run`. The one-shot commands (`daiban jobs`, `report`,
`people`, `archive`, `export`) use `build_services` too, so they read the configuration
exactly as the running bot does. Tests and stories call `build_app` with a fake clock and
an in-memory transport instead of patching anything.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import ConfigError, Settings
from bot.logs import watch_handler_failures
from bot.metrics import Heartbeat, Metrics
from bot.outbox import DeliveryWorker
from bot.transports.base import Transport
from domain.calendar import CalendarError, WorkCalendar, load_overrides
from domain.clock import Clock
from domain.scheme import Scheme
from domain.scheme_loader import SchemeError, load_scheme
from handlers import log_context
from handlers.app_router import build_router
from handlers.chat import Incoming
from handlers.context import Services
from handlers.pipeline import handle, handle_together
from reminders.jobs import Job, build_jobs
from storage.db import Database, StorageError
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

TICK_JOB = "tick"
STALE_TICKS = 3  # the scheduler is called stuck after this many tick periods without a tick


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
    metrics: Metrics = field(default_factory=Metrics)
    heartbeat: Heartbeat = field(default_factory=lambda: Heartbeat(timedelta(minutes=3)))

    async def handle(self, event: Incoming) -> bool:
        """Handle one inbound event (every transport calls this): counted, timed, and logged
        with its chat; False for a redelivery. Raises `StorageError` when the store is down."""
        started = time.perf_counter()
        outcome = "failed"
        chat = f"{event.platform}:{event.chat_id}"
        with log_context.scope(chat=chat, event=event.event_id) as here:
            try:
                handled = await handle(event, self.services)
                outcome = "failed" if here.failed else "handled" if handled else "duplicate"
                self.worker.hurry([(event.platform, event.chat_id)])  # answers go out first
                return handled
            except StorageError:
                outcome = "storage_error"
                raise
            finally:
                self.metrics.inbound.labels(event.platform, outcome).inc()
                self.metrics.handler_seconds.labels(event.platform).observe(
                    time.perf_counter() - started
                )

    async def handle_batch(self, events: Sequence[Incoming]) -> None:
        """Handle a polling batch in one transaction (far fewer round trips per event); if
        a handler fails, the batch was rolled back whole and every event is handled on its
        own, so only the failing one gets an apology. Raises `StorageError` like `handle`."""
        if len(events) < 2:
            for event in events:
                await self.handle(event)
            return
        started = time.perf_counter()
        try:
            results = await handle_together(events, self.services)
        except StorageError:
            for event in events:
                self.metrics.inbound.labels(event.platform, "storage_error").inc()
            raise
        except Exception:
            log.info("a batch of %d events failed; handling them one by one", len(events))
            for event in events:
                await self.handle(event)
            return
        each = (time.perf_counter() - started) / len(events)
        for event, handled in zip(events, results, strict=True):
            self.metrics.inbound.labels(event.platform, "handled" if handled else "duplicate").inc()
            self.metrics.handler_seconds.labels(event.platform).observe(each)
        self.worker.hurry([(event.platform, event.chat_id) for event in events])

    async def run_job(self, job: Job) -> None:
        """One scheduled run of `job`, now: timed, counted, logged with its name; a failure
        is logged, never raised (the scheduler keeps going)."""
        if job.name == TICK_JOB:
            self.heartbeat.beat()
        started = time.perf_counter()
        result = "failed"
        with log_context.scope(job=job.name):
            try:
                await job.run(self.services, self.services.clock.now())
                result = "ok"
            except Exception:
                log.exception("job %s failed", job.name)
            finally:
                self.metrics.job_runs.labels(job.name, result).inc()
                self.metrics.job_seconds.labels(job.name).observe(time.perf_counter() - started)

    async def seed(self) -> None:
        """Make the scheme's departments known to the store (idempotent)."""
        async with UnitOfWork(self.services.db) as uow:
            for dept in self.services.scheme.departments:
                await uow.departments.ensure(dept.id, dept.name.zh, dept.name.en)

    async def close(self) -> None:
        await self.services.db.dispose()
        if self.worker.beat_db is not self.services.db:
            await self.worker.beat_db.dispose()


def build_services(settings: Settings, *, clock: Clock | None = None) -> Services:
    """What flows and jobs work with, from the settings (nothing connects until first use).

    Raises `ConfigError` naming the variable when the scheme or holidays file is unusable.
    """
    scheme = load_scheme_setting(settings)
    return Services(
        db=Database(settings.database_url),
        scheme=scheme,
        calendar=load_calendar(settings),
        clock=clock or SystemClock(),
        router=build_router(),
        timezone=ZoneInfo(settings.timezone or scheme.timezone),
        round_silent=timedelta(seconds=settings.round_silent_seconds),
    )


async def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    transports: dict[str, Transport] | None = None,
) -> App:
    """The running bot: services, delivery worker, jobs and transports, wired once."""
    services = build_services(settings, clock=clock)
    transports = dict(transports or {})
    metrics = Metrics()
    worker = DeliveryWorker(
        services.db,
        transports,
        services.clock,
        metrics=metrics,
        lease=timedelta(seconds=settings.outbox_lease_seconds),
        silent_after=timedelta(seconds=settings.outbox_silent_seconds),
        # Replicas: the heartbeat never waits for the handlers' pool (bot/outbox_lease.py).
        beat_db=Database(settings.database_url) if services.db.dialect == "postgresql" else None,
    )
    tick_every = timedelta(seconds=settings.tick_seconds)
    jobs = build_jobs(services, tick_every)
    heartbeat = Heartbeat(max(tick_every * STALE_TICKS, timedelta(seconds=90)))
    watch_handler_failures()
    app = App(settings, services, worker, jobs, transports, metrics, heartbeat)
    await app.seed()
    return app


def start_scheduler(app: App) -> AsyncIOScheduler:
    """Run the app's jobs in real time, in the scheme's time zone."""
    scheduler = AsyncIOScheduler(timezone=app.services.timezone)
    for job in app.jobs:
        scheduler.add_job(
            app.run_job,
            job.trigger,
            args=[job],
            id=job.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=30,
        )
    scheduler.start()
    app.heartbeat.start()
    return scheduler


async def run_until_stopped(app: App, stop: asyncio.Event) -> None:
    """The background work of a running Daiban: scheduler and outbox delivery."""
    scheduler = start_scheduler(app)
    try:
        await app.worker.run_forever(stop)
    finally:
        scheduler.shutdown(wait=False)
