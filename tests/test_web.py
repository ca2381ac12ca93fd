"""The web server's health endpoint tells a balancer the truth."""

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.config import Settings
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
