"""The emulator stays local and tied to its page: a loopback Host, the page's own Origin,
this start's token, JSON bodies; uploads are downloads with nosniff; the page has a CSP;
`daiban run` refuses to serve it on a non-loopback address or beside a real messenger."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp import FormData, WSServerHandshakeError
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.config import ConfigError, Settings
from bot.emulator import attach_emulator
from bot.emulator.guard import TOKEN_HEADER, check_placement, is_loopback
from bot.emulator.routes import TOKEN_KEY
from bot.web import build_web_app
from domain.clock import FakeClock
from storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
START = datetime.fromisoformat("2026-11-27T16:00:00+08:00")


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[TestClient, str]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'emu.sqlite3'}"
    await upgrade(url)
    settings = Settings(database_url=url, tick_seconds=900)
    app = await build_app(settings, clock=FakeClock(START))
    web_app = build_web_app(app)
    stop = await attach_emulator(app, settings, web_app, data_dir=tmp_path / "var")
    async with TestClient(TestServer(web_app)) as client:
        yield client, web_app[TOKEN_KEY]
    await stop()
    await app.close()


async def test_the_page_hands_over_the_token_under_a_strict_policy(served) -> None:
    client, token = served
    response = await client.get("/")
    html = await response.text()
    assert re.search(rf'<meta name="daiban-emulator-token" content="{re.escape(token)}">', html)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    script = await client.get("/emulator/static/app.js")
    assert script.headers["X-Content-Type-Options"] == "nosniff"
    # A second start hands out another token.
    assert len(token) >= 32


async def test_the_api_wants_the_token_and_json(served) -> None:
    client, token = served
    before = await (await client.get("/emulator/api/clock", headers={TOKEN_HEADER: token})).json()
    for headers in ({}, {TOKEN_HEADER: "wrong"}):
        assert (await client.get("/emulator/api/personas", headers=headers)).status == 403
        moved = await client.post(
            "/emulator/api/clock", json={"action": "workday"}, headers=headers
        )
        assert moved.status == 403
    # A cross-site form can only send text/plain or a form: refused even with the token.
    plain = await client.post(
        "/emulator/api/clock",
        data='{"action": "workday"}',
        headers={TOKEN_HEADER: token, "Content-Type": "text/plain"},
    )
    assert plain.status == 415
    reset = await client.post("/emulator/api/reset", headers={TOKEN_HEADER: token})
    assert reset.status == 415
    after = await (await client.get("/emulator/api/clock", headers={TOKEN_HEADER: token})).json()
    assert after == before  # nothing moved
    ok = await client.post(
        "/emulator/api/clock", json={"action": "hour"}, headers={TOKEN_HEADER: token}
    )
    assert ok.status == 200


async def test_another_origin_or_host_is_refused(served) -> None:
    client, token = served
    own = f"http://{client.host}:{client.port}"
    good = {TOKEN_HEADER: token, "Origin": own}
    assert (await client.get("/emulator/api/personas", headers=good)).status == 200
    evil = {TOKEN_HEADER: token, "Origin": "http://evil.example"}
    assert (await client.get("/emulator/api/personas", headers=evil)).status == 403
    # DNS rebinding: a foreign name resolving to 127.0.0.1 still says its own Host.
    for path in ("/", "/emulator/api/personas"):
        rebound = {TOKEN_HEADER: token, "Host": f"evil.example:{client.port}"}
        assert (await client.get(path, headers=rebound)).status == 403, path


async def test_the_websocket_wants_the_token_and_the_pages_origin(served) -> None:
    client, token = served
    own = f"http://{client.host}:{client.port}"
    for path, origin in [
        ("/emulator/ws", own),
        ("/emulator/ws?token=wrong", own),
        (f"/emulator/ws?token={token}", "http://evil.example"),
    ]:
        with pytest.raises(WSServerHandshakeError) as refused:
            await client.ws_connect(path, origin=origin)
        assert refused.value.status == 403
    ws = await client.ws_connect(f"/emulator/ws?token={token}", origin=own)
    assert (await asyncio.wait_for(ws.receive_json(), 10))["type"] == "clock"
    await ws.close()


async def test_an_uploaded_html_file_is_a_download_never_a_page(served) -> None:
    client, token = served
    form = FormData()
    form.add_field("persona", "enterprise")
    form.add_field("chat", "enterprise")
    form.add_field(
        "file", b"<script>alert(1)</script>", filename="x.html", content_type="text/html"
    )
    response = await client.post("/emulator/api/upload", data=form, headers={TOKEN_HEADER: token})
    assert response.status == 200
    ref = (await response.json())["attachment"]["ref"]
    download = await client.get(f"/emulator/{ref}")
    assert download.status == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.1:8080", True),
        ("localhost:8080", True),
        ("[::1]:8080", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("192.168.1.5:8080", False),
        ("evil.example", False),
        ("127.0.0.1.evil.example", False),
        ("", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_placement_refuses_a_public_address_or_a_messenger_unless_told() -> None:
    check_placement(Settings(web_host="127.0.0.1"))
    with pytest.raises(ConfigError, match=r"DAIBAN_WEB_HOST=0\.0\.0\.0.*DAIBAN_EMULATOR_UNSAFE"):
        check_placement(Settings(web_host="0.0.0.0"))
    with pytest.raises(ConfigError, match="beside a real messenger"):
        check_placement(Settings(telegram_token="123:abc", emulator=True))
    check_placement(Settings(web_host="0.0.0.0", emulator_unsafe=True))


def test_daiban_run_refuses_the_emulator_on_all_addresses(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite3'}"
    asyncio.run(upgrade(url))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DAIBAN_")},
        "PYTHONPATH": str(ROOT),
        "DAIBAN_DATABASE_URL": url,
        "DAIBAN_WEB_HOST": "0.0.0.0",
        "DAIBAN_WEB_PORT": "1",  # never reached: the check comes before listening
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=tmp_path,  # no .env of the checkout
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "DAIBAN_WEB_HOST=0.0.0.0: the emulator" in done.stderr
