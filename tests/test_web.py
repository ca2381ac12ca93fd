"""The web server's health and metrics endpoints tell a balancer and Prometheus the truth."""

from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.app import build_app
from bot.config import Settings
from bot.metrics import Heartbeat
from bot.web import build_web_app
from handlers.chat import Incoming, Sender
from storage.db import StorageError
from storage.migrate import upgrade
from storage.uow import UnitOfWork


async def test_healthz_reports_database_and_outbox(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}"
    await upgrade(url)
    app = await build_app(Settings(database_url=url))
    async with UnitOfWork(app.services.db) as uow:
        await uow.outbox.enqueue(
            platform="x",
            chat_external_id="c",
            payload={"text": "hi"},
            dedupe_key="k1",
            now=app.services.clock.now(),
        )
    async with TestClient(TestServer(build_web_app(app))) as client:
        response = await client.get("/healthz")
        body = await response.json()
    await app.close()
    assert response.status == 200
    assert body["status"] == "ok" and body["outbox_pending"] == 1 and body["scheme"] == "tongzhou"


async def test_healthz_is_503_when_the_database_is_gone(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}"
    await upgrade(url)
    app = await build_app(Settings(database_url=url))
    (tmp_path / "h.sqlite3").unlink()
    (tmp_path / "h.sqlite3").mkdir()  # a directory where the file was: cannot be opened
    await app.services.db.dispose()
    async with TestClient(TestServer(build_web_app(app))) as client:
        response = await client.get("/healthz")
    await app.close()
    assert response.status == 503


async def test_an_unreachable_store_is_not_acknowledged(tmp_path):
    """The event is not recorded, so handle() must raise for the transport to retry."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}"
    await upgrade(url)
    app = await build_app(Settings(database_url=url))
    await app.services.db.dispose()
    (tmp_path / "h.sqlite3").unlink()
    (tmp_path / "h.sqlite3").mkdir()
    event = Incoming(event_id="1", sender=Sender("story", "u1", "甲"), chat_id="u1", text="hi")
    with pytest.raises(StorageError):
        await app.handle(event)
    await app.close()


class Ticker:
    """A monotonic clock for the scheduler's heartbeat that moves when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_healthz_is_503_naming_the_scheduler_when_ticks_stop(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}"
    await upgrade(url)
    app = await build_app(Settings(database_url=url, tick_seconds=60))
    ticker = Ticker()
    app.heartbeat = Heartbeat(timedelta(seconds=app.heartbeat.stale_after), now=ticker)
    [tick] = [job for job in app.jobs if job.name == "tick"]
    try:
        async with TestClient(TestServer(build_web_app(app))) as client:

            async def health() -> tuple[int, dict]:
                response = await client.get("/healthz")
                return response.status, await response.json()

            before_start = await health()
            app.heartbeat.start()  # as start_scheduler does
            ticker.now += 170  # no tick yet, but within three periods of the start
            starting = await health()
            await app.run_job(tick)  # the scheduler fires the tick
            ticker.now += 100
            ticking = await health()
            ticker.now += 81  # 181 s since the last tick: stuck
            stuck = await health()
            await app.run_job(tick)
            recovered = await health()
    finally:
        await app.close()
    assert before_start[0] == 200 and before_start[1]["scheduler"]["state"] == "not started"
    assert starting[0] == 200 and starting[1]["scheduler"]["last_tick_seconds_ago"] == 170
    assert ticking[0] == 200 and ticking[1]["scheduler"]["last_tick_seconds_ago"] == 100
    status, body = stuck
    assert status == 503 and body["status"] == "down"
    assert body["scheduler"]["state"] == "stalled"
    assert body["problems"] == ["scheduler stalled: no tick for 181 s (limit 180 s)"]
    assert body["outbox_pending"] == 0  # the database part still answers
    assert recovered[0] == 200 and recovered[1]["status"] == "ok"


async def test_metrics_answer_in_the_prometheus_text_format(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}"
    await upgrade(url)
    app = await build_app(Settings(database_url=url))
    try:
        async with TestClient(TestServer(build_web_app(app))) as client:
            response = await client.get("/metrics")
            text = await response.text()
    finally:
        await app.close()
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {
        "daiban_inbound_events",
        "daiban_handler_seconds",
        "daiban_deliveries",
        "daiban_reminders_sent",
        "daiban_outbox_pending",
        "daiban_outbox_oldest_pending_age_seconds",
        "daiban_scheduler_tick_age_seconds",
    } <= names
