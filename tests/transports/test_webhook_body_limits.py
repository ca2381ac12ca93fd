"""A webhook body over its limit is answered 413 (Payload Too Large), not 400: the Telegram
webhook and the WeCom callback, with a declared length and chunked."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.transports.telegram import MAX_UPDATE_BYTES, SECRET_HEADER, webhook_handler
from bot.transports.wecom import CALLBACK_PATH, WeComCallback
from bot.transports.wecom_crypto import MAX_BODY, WXBizMsgCrypt
from tests.fakes.fake_wecom import AES_KEY, CORP_ID, TOKEN


class RefusingClient:
    """parse_update of a Bot API client that finds every update unreadable."""

    def parse_update(self, data: Any) -> Any:
        raise ValueError("not an update")


async def chunks(size: int) -> AsyncIterator[bytes]:
    for _ in range(size // 65536 + 1):
        yield b"x" * 65536


def server() -> web.Application:
    app = web.Application(client_max_size=20 * 1024 * 1024)  # as bot/web.py
    hook = webhook_handler(RefusingClient(), None, "s3cret")  # type: ignore[arg-type]
    app.router.add_post("/telegram/hook", hook)
    callback = WeComCallback(None, WXBizMsgCrypt(TOKEN, AES_KEY, CORP_ID))  # type: ignore[arg-type]
    app.router.add_post(CALLBACK_PATH, callback.receive)
    return app


async def test_an_oversized_telegram_update_is_413_and_a_bad_small_one_400():
    headers = {SECRET_HEADER: "s3cret"}
    async with TestClient(TestServer(server())) as client:
        big = await client.post(
            "/telegram/hook", data=b"{" + b" " * MAX_UPDATE_BYTES + b"}", headers=headers
        )
        chunked = await client.post(
            "/telegram/hook", data=chunks(MAX_UPDATE_BYTES), headers=headers
        )
        small = await client.post("/telegram/hook", data=b"{}", headers=headers)
    assert big.status == 413
    assert chunked.status == 413
    assert small.status == 400


async def test_an_oversized_wecom_callback_is_413_and_a_bad_small_one_400():
    # A fresh timestamp: a stale one is refused (403) before the body is read at all.
    fresh = f"{CALLBACK_PATH}?timestamp={int(time.time())}&nonce=n&msg_signature=s"
    async with TestClient(TestServer(server())) as client:
        big = await client.post(fresh, data=b"<xml>" + b"x" * MAX_BODY + b"</xml>")
        chunked = await client.post(fresh, data=chunks(MAX_BODY))
        small = await client.post(fresh, data=b"<xml>not closed")
    assert big.status == 413
    assert chunked.status == 413
    assert small.status == 400
