"""The WeCom callback in process: store, then answer (issue 16 point 4)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from aiohttp import web

from bot.transports.wecom import CALLBACK_PATH, WeComCallback
from bot.transports.wecom_crypto import WXBizMsgCrypt
from handlers.chat import Incoming
from storage.db import StorageError
from tests.fakes.fake_wecom import AES_KEY, CORP_ID, TOKEN, WeComSide, text_xml


class Host:
    """A TransportHost whose store is up or down, and which remembers what it handled."""

    def __init__(self) -> None:
        self.store_up = True
        self.handled: list[str] = []
        self.slow = 0.0

    async def handle(self, event: Incoming) -> bool:
        await asyncio.sleep(self.slow)
        if not self.store_up:
            raise StorageError("the database cannot be reached")
        if event.event_id in self.handled:
            return False
        self.handled.append(event.event_id)
        return True


@pytest.fixture
async def served():
    host = Host()
    callback = WeComCallback(host, WXBizMsgCrypt(TOKEN, AES_KEY, CORP_ID))  # type: ignore[arg-type]
    app = web.Application()
    app.router.add_get(CALLBACK_PATH, callback.verify_url)
    app.router.add_post(CALLBACK_PATH, callback.receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    side = WeComSide(f"http://127.0.0.1:{port}{CALLBACK_PATH}")
    yield SimpleNamespace(host=host, side=side, callback=callback)
    await callback.drain()
    await runner.cleanup()


async def test_success_is_answered_only_after_the_event_is_handled(served):
    served.host.slow = 0.3
    status, body = await served.side.post(text_xml("lisi", "/help", "7001"))
    assert (status, body) == (200, "success")
    assert served.host.handled == ["m:7001"]  # already stored when WeCom heard "success"


async def test_a_store_that_is_down_answers_503_so_wecom_delivers_again(served):
    served.host.store_up = False
    status, _ = await served.side.post(text_xml("lisi", "/help", "7002"))
    assert status == 503
    assert served.host.handled == []
    served.host.store_up = True  # WeCom's retry, a moment later
    status, body = await served.side.post(text_xml("lisi", "/help", "7002"))
    assert (status, body) == (200, "success")
    status, body = await served.side.post(text_xml("lisi", "/help", "7002"))  # once more
    assert (status, body) == (200, "success")
    assert served.host.handled == ["m:7002"]
