"""The WeCom callback in process: store, then answer (issue 16 point 4); hardening (6)."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.transports.wecom import CALLBACK_PATH, WeComCallback
from bot.transports.wecom_crypto import BadMessage, WXBizMsgCrypt, parse_xml
from bot.transports.wecom_robots import ROBOT_PATH, RobotCallback, parse_robot_callbacks
from handlers.chat import ChatKind, Incoming
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


async def test_a_message_callback_older_or_newer_than_5_minutes_is_refused(served):
    now = int(time.time())
    for stamp in (now - 301, now + 301, "yesterday"):
        xml = text_xml("lisi", "/help", f"73{len(str(stamp))}")
        status, _ = await served.side.post(xml, timestamp=stamp)  # type: ignore[arg-type]
        assert status == 403
    status, _ = await served.side.post(text_xml("lisi", "/help", "7399"), timestamp=now - 290)
    assert status == 200
    assert served.host.handled == ["m:7399"]


async def test_url_verification_still_answers_wecoms_published_vector():
    # The official sample's vector (Sample.py), whose timestamp is from 2016.
    crypt = WXBizMsgCrypt(
        "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
        "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
        "ww1436e0e65a779aee",
    )
    callback = WeComCallback(Host(), crypt)  # type: ignore[arg-type]
    app = web.Application()
    app.router.add_get(CALLBACK_PATH, callback.verify_url)
    query = {
        "msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
        "timestamp": "1476416373",
        "nonce": "47744683",
        "echostr": (
            "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="
        ),
    }
    async with TestClient(TestServer(app)) as client:
        response = await client.get(CALLBACK_PATH, params=query)
        assert (response.status, await response.text()) == (200, "1288432023552776189")


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><xml><Encrypt>x</Encrypt></xml>',  # a declaration
        b'<!DOCTYPE xml [<!ENTITY a "b">]><xml><Encrypt>&a;</Encrypt></xml>',
        b"<xml><Encrypt>\xd6\xd0\xce\xc4</Encrypt></xml>",  # GB18030, not UTF-8
        b'{"encrypt": "x"}',
        b"<xml><Encrypt>x</Encrypt>",  # unclosed
    ],
)
def test_only_utf8_documents_beginning_with_xml_and_without_dtd_are_parsed(body):
    with pytest.raises(BadMessage):
        parse_xml(body)


def test_entities_inside_an_xml_document_are_refused_by_defusedxml():
    # Starts as WeCom's do, then smuggles a DTD inside: not XML, never expanded.
    with pytest.raises(BadMessage):
        parse_xml(b'<xml><!DOCTYPE x [<!ENTITY a "b">]><Encrypt>&a;</Encrypt></xml>')
    assert parse_xml("<xml><Encrypt><![CDATA[ab]]></Encrypt></xml>").findtext("Encrypt") == "ab"


ROBOT_TOKEN, ROBOT_KEY = "robotToken1", "kWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2D"


async def test_a_group_robot_callback_in_json_with_an_empty_receive_id_is_a_group_event():
    host = Host()
    callback = RobotCallback(host, WXBizMsgCrypt(ROBOT_TOKEN, ROBOT_KEY, ""))  # type: ignore[arg-type]
    callback.name = "teamA"
    app = web.Application()
    path = ROBOT_PATH.format(name="teamA")
    app.router.add_get(path, callback.verify_url)
    app.router.add_post(path, callback.receive)
    received: list[Incoming] = []

    async def handle(event: Incoming) -> bool:
        received.append(event)
        return True

    host.handle = handle  # type: ignore[method-assign]
    async with TestClient(TestServer(app)) as client:
        url = str(client.make_url(path))
        side = WeComSide(url, token=ROBOT_TOKEN, aes_key=ROBOT_KEY, corp_id="")
        message = {
            "msgid": "CAIQ16HMjQYY",
            "aibotid": "AIBOTID",
            "chatid": "wrkSFfCgAAxxxx",
            "chattype": "group",
            "from": {"userid": "lina"},
            "msgtype": "text",
            "text": {"content": "@代办 /help"},
        }
        assert await side.post_json(message) == (200, "success")
        assert await side.verify_url("echo-robot") == (200, "echo-robot")
        wrong = WeComSide(url, token="another", aes_key=ROBOT_KEY, corp_id="")
        assert (await wrong.post_json(message))[0] == 403
        await callback.drain()
    [event] = received
    assert (event.chat_id, event.chat_kind, event.command) == ("teamA", ChatKind.GROUP, "help")
    assert event.sender.external_id == "lina" and event.event_id == "r:teamA:CAIQ16HMjQYY"


def test_robot_callback_settings_refuse_without_echoing_the_secrets():
    assert parse_robot_callbacks(f"teamA={ROBOT_TOKEN}:{ROBOT_KEY}") == {
        "teamA": (ROBOT_TOKEN, ROBOT_KEY)
    }
    with pytest.raises(ValueError) as bad:
        parse_robot_callbacks(f"teamA={ROBOT_TOKEN}:{ROBOT_KEY[:-1]}")
    assert ROBOT_TOKEN not in str(bad.value) and ROBOT_KEY[:-1] not in str(bad.value)
