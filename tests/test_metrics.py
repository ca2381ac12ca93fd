"""/metrics tells the truth: what was handled, how fast, what was delivered, what waits.

Each test drives the real app (handle, the tick job, the delivery worker), then scrapes
/metrics over HTTP and reads it with prometheus_client's own parser.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.transports.base import PermanentError, TransientError
from bot.transports.memory import MemoryTransport
from bot.web import build_web_app
from handlers.access import OnProject
from handlers.context import Ctx
from storage.db import StorageError
from storage.models import OutboxMessage
from storage.uow import UnitOfWork
from tests.observed import dm_event, group_event, new_app, scrape, seed_overdue_project, value

# A database read after `app.close()` opened a new pool that nobody closed: its aiosqlite
# thread outlived the test's event loop and failed in a later test ("Event loop is closed").
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")


def _sqlite_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


@pytest.fixture(autouse=True)
def no_connection_outlives_the_test() -> Iterator[None]:
    """Every SQLite connection a test opened is closed when it ends (the thread joined),
    not left for the garbage collector to stop on a closed event loop."""
    before = _sqlite_threads()
    yield
    left = _sqlite_threads() - before
    for thread in left:
        thread.join(timeout=2)
    alive = [t.name for t in left if t.is_alive()]
    assert not alive, f"SQLite connections left open after app.close(): {alive}"


async def test_inbound_events_are_counted_by_outcome_and_timed(tmp_path):
    app = await new_app(tmp_path, {"telegram": MemoryTransport("telegram")})
    await seed_overdue_project(app)

    @app.services.router.command("boom", scope=OnProject())
    async def boom(ctx: Ctx) -> None:
        raise RuntimeError("a handler bug")

    try:
        assert await app.handle(dm_event("1", "/start")) is True
        assert await app.handle(dm_event("1", "/start")) is False  # redelivered
        assert await app.handle(dm_event("2", "/help")) is True
        assert await app.handle(group_event("3", "/boom")) is True  # apologised, recorded
        async with TestClient(TestServer(build_web_app(app))) as client:
            samples = await scrape(client)
        async with UnitOfWork(app.services.db) as uow:
            pending = await uow.outbox.pending_count()
    finally:
        await app.close()
    inbound = "daiban_inbound_events_total"
    assert value(samples, inbound, platform="telegram", outcome="handled") == 2
    assert value(samples, inbound, platform="telegram", outcome="duplicate") == 1
    assert value(samples, inbound, platform="telegram", outcome="failed") == 1
    assert value(samples, inbound, platform="telegram", outcome="storage_error") == 0
    assert value(samples, "daiban_handler_seconds_count", platform="telegram") == 4
    assert value(samples, "daiban_handler_seconds_sum", platform="telegram") > 0
    assert value(samples, "daiban_handler_seconds_bucket", platform="telegram", le="+Inf") == 4
    # The replies and the apology wait in the outbox: depth read from the database.
    assert value(samples, "daiban_database_up") == 1
    assert value(samples, "daiban_outbox_pending") == pending > 0


async def test_an_unreachable_store_counts_as_storage_error_and_blanks_the_gauges(tmp_path):
    app = await new_app(tmp_path, {})
    await app.services.db.dispose()
    (tmp_path / "observed.sqlite3").unlink()
    (tmp_path / "observed.sqlite3").mkdir()  # cannot be opened any more
    try:
        with pytest.raises(StorageError):
            await app.handle(dm_event("9", "/start"))
        async with TestClient(TestServer(build_web_app(app))) as client:
            samples = await scrape(client)
    finally:
        await app.close()
    assert (
        value(samples, "daiban_inbound_events_total", platform="telegram", outcome="storage_error")
        == 1
    )
    assert value(samples, "daiban_database_up") == 0
    assert math.isnan(value(samples, "daiban_outbox_pending"))
    assert math.isnan(value(samples, "daiban_outbox_oldest_pending_age_seconds"))


async def _sent_keys(app: Any) -> list[str]:
    async with UnitOfWork(app.services.db) as uow:
        rows = await uow.session.execute(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.status == "sent")
        )
        return [str(key) for key in rows.scalars()]


async def test_nudges_and_escalations_are_counted_when_delivered(tmp_path):
    transport = MemoryTransport("telegram")
    app = await new_app(tmp_path, {"telegram": transport})
    await seed_overdue_project(app)
    [tick] = [job for job in app.jobs if job.name == "tick"]
    try:
        await app.run_job(tick)  # the day's round: nudges, then the ladder
        delivered = await app.worker.drain()
        keys = await _sent_keys(app)
        async with TestClient(TestServer(build_web_app(app))) as client:
            samples = await scrape(client)
    finally:
        await app.close()
    nudges = sum(1 for key in keys if key.startswith("nudge:"))
    escalations = sum(1 for key in keys if key.startswith("ladder:"))
    assert nudges >= 2 and escalations >= 1  # group + DM nudge; the group's problem notice
    assert delivered == len(transport.delivered) == len(keys)
    assert value(samples, "daiban_reminders_sent_total", kind="nudge") == nudges
    assert value(samples, "daiban_reminders_sent_total", kind="escalation") == escalations
    assert value(samples, "daiban_deliveries_total", platform="telegram", result="sent") == len(
        keys
    )
    assert value(samples, "daiban_job_runs_total", job="tick", result="ok") == 1
    assert value(samples, "daiban_job_seconds_count", job="tick") == 1
    assert value(samples, "daiban_outbox_pending") == 0


class Flaky:
    """A WeCom stand-in: chat "busy" is rate-limited, "gone" does not exist, others work."""

    platform = "wecom"

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, chat_external_id: str, payload: dict[str, Any]) -> None:
        if chat_external_id == "busy":
            raise TransientError("45009 api freq out of limit", retry_after=30)
        if chat_external_id == "gone":
            raise PermanentError("81013 user not found")
        self.sent.append(chat_external_id)


async def test_deliveries_by_result_and_the_outbox_depth_and_age(tmp_path):
    flaky = Flaky()
    app = await new_app(tmp_path, {"wecom": flaky})
    clock = app.services.clock
    async with UnitOfWork(app.services.db) as uow:
        for chat in ("ok", "busy", "gone"):
            await uow.outbox.enqueue(
                platform="wecom",
                chat_external_id=chat,
                payload={"text": f"to {chat}"},
                dedupe_key=f"nudge:test:{chat}",
                now=clock.now(),
            )
    try:
        await app.worker.drain()
        async with TestClient(TestServer(build_web_app(app))) as client:
            first = await scrape(client)
            clock.set(clock.now() + timedelta(seconds=90))  # the busy chat's retry is due
            later = await scrape(client)
    finally:
        await app.close()
    deliveries = "daiban_deliveries_total"
    assert flaky.sent == ["ok"]
    assert value(first, deliveries, platform="wecom", result="sent") == 1
    assert value(first, deliveries, platform="wecom", result="transient") == 1
    assert value(first, deliveries, platform="wecom", result="permanent") == 1
    # Only the delivered nudge counts as sent; failures are deliveries, not reminders.
    assert value(first, "daiban_reminders_sent_total", kind="nudge") == 1
    # The rate-limited message waits 30 s: pending, but not yet due.
    assert value(first, "daiban_outbox_pending") == 1
    assert value(first, "daiban_outbox_oldest_pending_age_seconds") == 0
    assert value(later, "daiban_outbox_pending") == 1
    assert value(later, "daiban_outbox_oldest_pending_age_seconds") == pytest.approx(60)
