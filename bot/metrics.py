"""Metrics (运行指标) in the Prometheus text format, one registry per `App`.

Counters and histograms count what this process did (events handled, messages delivered,
job runs); sum them over replicas. The outbox gauges are read from the shared database at
scrape time, so every replica reports the same, whole-deployment depth and age: take
`max`, not `sum`, over replicas. Nudges and escalations are counted when a delivery worker
sends them, by their dedupe key's kind; each outbox row is claimed by one worker, so the
sum over replicas counts each message once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from storage.db import Database
from storage.uow import UnitOfWork

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

# The first part of an outbox row's dedupe key names what sent it (handlers/problems.py
# Postman prefixes and the reminders' own keys). Replies (``in:``) are not reminders.
REMINDER_KINDS = {
    "nudge": "nudge",
    "ladder": "escalation",
    "digest": "digest",
    "report": "report",
    "form-reminder": "form_reminder",
    "ticket-reminder": "ticket_reminder",
    "rating-round": "rating_round",
    "followup-due": "followup",
}


def reminder_kind(dedupe_key: str) -> str | None:
    """The reminder kind of an outbox row by its dedupe key, or None for other messages."""
    return REMINDER_KINDS.get(dedupe_key.partition(":")[0])


class Heartbeat:
    """The scheduler's liveness: when it last fired the tick job (monotonic seconds)."""

    def __init__(self, stale_after: timedelta, now: Callable[[], float] = time.monotonic):
        self.stale_after = stale_after.total_seconds()
        self._now = now
        self.started: float | None = None
        self.last_tick: float | None = None

    def start(self) -> None:
        self.started = self._now()

    def beat(self) -> None:
        self.last_tick = self._now()

    def age(self) -> float | None:
        """Seconds since the last tick (or since start, before the first); None if not started."""
        since = self.last_tick if self.last_tick is not None else self.started
        return None if since is None else self._now() - since

    @property
    def stale(self) -> bool:
        age = self.age()
        return age is not None and age > self.stale_after


class Metrics:
    """Every metric of one Daiban process, on its own registry (tests run many apps)."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.inbound = Counter(
            "daiban_inbound_events",
            "Inbound platform events by outcome (handled, duplicate, failed, storage_error).",
            ["platform", "outcome"],
            registry=registry,
        )
        self.handler_seconds = Histogram(
            "daiban_handler_seconds",
            "Time to handle one inbound event (dedupe, route, one transaction).",
            ["platform"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.deliveries = Counter(
            "daiban_deliveries",
            "Outbox send attempts by result (sent, transient, permanent, error).",
            ["platform", "result"],
            registry=registry,
        )
        self.reminders_sent = Counter(
            "daiban_reminders_sent",
            "Reminder messages delivered by kind (nudge, escalation, digest, …).",
            ["kind"],
            registry=registry,
        )
        self.job_runs = Counter(
            "daiban_job_runs",
            "Scheduler job runs by result (ok, failed).",
            ["job", "result"],
            registry=registry,
        )
        self.job_seconds = Histogram(
            "daiban_job_seconds",
            "Duration of one scheduler job run.",
            ["job"],
            buckets=JOB_BUCKETS,
            registry=registry,
        )
        self.outbox_pending = Gauge(
            "daiban_outbox_pending",
            "Outbox messages pending (due now or later), read from the database.",
            registry=registry,
        )
        self.outbox_oldest_age = Gauge(
            "daiban_outbox_oldest_pending_age_seconds",
            "How long the oldest due pending message has waited (0 when none is due).",
            registry=registry,
        )
        self.database_up = Gauge(
            "daiban_database_up",
            "1 when the last scrape could read the database.",
            registry=registry,
        )
        self.scheduler_tick_age = Gauge(
            "daiban_scheduler_tick_age_seconds",
            "Seconds since the scheduler last fired the tick job (NaN before it started).",
            registry=registry,
        )

    def delivered(self, platform: str, result: str, dedupe_key: str) -> None:
        """One send attempt of an outbox row; a sent reminder also counts by its kind."""
        self.deliveries.labels(platform, result).inc()
        if result == "sent" and (kind := reminder_kind(dedupe_key)) is not None:
            self.reminders_sent.labels(kind).inc()

    async def read_database(self, db: Database, now: datetime) -> None:
        """Refresh the outbox gauges (two indexed queries); NaN when the store is down."""
        try:
            async with UnitOfWork(db) as uow:
                pending = await uow.outbox.pending_count()
                age = await uow.outbox.oldest_pending_age(now)
        except Exception:
            self.database_up.set(0)
            self.outbox_pending.set(math.nan)
            self.outbox_oldest_age.set(math.nan)
            return
        self.database_up.set(1)
        self.outbox_pending.set(pending)
        self.outbox_oldest_age.set(0 if age is None else age.total_seconds())

    def render(self, heartbeat: Heartbeat) -> bytes:
        """The registry in the Prometheus text format."""
        age = heartbeat.age()
        self.scheduler_tick_age.set(math.nan if age is None else age)
        return generate_latest(self.registry)


__all__ = ["CONTENT_TYPE", "Heartbeat", "Metrics", "reminder_kind"]
