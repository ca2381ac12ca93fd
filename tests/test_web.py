"""The web server's health endpoint tells a balancer the truth."""

from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.config import Settings
from bot.web import build_web_app
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
