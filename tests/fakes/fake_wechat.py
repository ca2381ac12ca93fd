"""A fake WeChat Official Account platform (微信公众平台) for tests, and the contacts' side.

`FakeWeChat` serves, on 127.0.0.1 (a free port), what Daiban calls: `cgi-bin/token`,
`message/custom/send`, `message/template/send`, `media/upload`, `media/get`, `menu/get`
and `menu/create`. Where it matters it behaves as WeChat does:

- a customer-service message is accepted only within 48 hours of the contact's last
  message (else errcode 45015) and at most 5 per message they sent (else 45047), by the
  fake's own clock, which `advance` moves forward; breaches are counted in `violations`;
- a template message must name one of the account's templates (else 40037), its `thing`
  fields at most 20 characters (else 47003);
- an image message must name a media_id uploaded here (else 40007);
- tokens can be expired (`expire_tokens`: then 40001 / 42001) and are counted.

`Contact` plays a WeChat user towards Daiban: each message is encrypted (safe mode, the
AppID as receive id) and POSTed to `/wechat/callback`; a callback not answered within 5
seconds (or answered 5xx) is delivered again, up to three retries, as WeChat does.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from bot.transports.wecom_crypto import WXBizMsgCrypt, signature

APP_ID = "wx5d6e7f8a9b0c1d2e"
APP_SECRET = "fake-wechat-secret"
TOKEN = "daibanWeChatToken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
ACCOUNT = "gh_daiban0001"  # the account's original id (ToUserName)
WINDOW = 48 * 3600
QUOTA = 5
CALLBACK_TIMEOUT = 5.0
RETRIES = 3


@dataclass
class Sent:
    api: str  # "custom" or "template"
    touser: str
    body: dict[str, Any]
    at: float

    @property
    def content(self) -> str:
        if self.api == "template":
            return " | ".join(str(v["value"]) for v in self.body["data"].values())
        kind = self.body["msgtype"]
        if kind == "text":
            return str(self.body["text"]["content"])
        if kind == "msgmenu":
            menu = self.body["msgmenu"]
            choices = " ".join(f"[{c['content']}]" for c in menu["list"])
            return f"{menu['head_content']}\n{choices}\n{menu.get('tail_content', '')}".strip()
        return f"[{kind}]"


@dataclass
class FakeWeChat:
    app_id: str = APP_ID
    secret: str = APP_SECRET
    templates: set[str] = field(default_factory=set)
    sent: list[Sent] = field(default_factory=list)
    refused: list[tuple[str, int]] = field(default_factory=list)  # (api, errcode)
    violations: int = 0
    token_requests: int = 0
    menu: list[dict[str, Any]] | None = None
    menu_creates: int = 0
    uploads: dict[str, bytes] = field(default_factory=dict)
    user_media: dict[str, bytes] = field(default_factory=dict)
    followers: set[str] = field(default_factory=set)
    offset: float = 0.0  # seconds the fake's clock is ahead of the real one
    quota: int = QUOTA  # customer-service messages per message a contact sends
    _last_message: dict[str, float] = field(default_factory=dict)
    _sends: dict[str, int] = field(default_factory=dict)
    _tokens: dict[str, float] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    url: str = ""

    # -- control -------------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def expire_tokens(self) -> None:
        for token in self._tokens:
            self._tokens[token] = 0.0

    def user_wrote(self, openid: str) -> None:
        """A contact sent a message: their window opens with a fresh quota."""
        self.followers.add(openid)
        self._last_message[openid] = self.now()
        self._sends[openid] = 0

    def media_from_user(self, data: bytes) -> str:
        media_id = f"u{secrets.token_hex(12)}"
        self.user_media[media_id] = data
        return media_id

    def to(self, openid: str, api: str | None = None) -> list[Sent]:
        return [s for s in self.sent if s.touser == openid and api in (None, s.api)]

    def texts(self, openid: str) -> list[str]:
        return [s.content for s in self.to(openid)]

    # -- server --------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom)
        app.router.add_post("/cgi-bin/message/template/send", self._template)
        app.router.add_post("/cgi-bin/media/upload", self._upload)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_get("/cgi-bin/menu/get", self._menu_get)
        app.router.add_post("/cgi-bin/menu/create", self._menu_create)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _error(self, api: str, code: int, message: str) -> web.Response:
        self.refused.append((api, code))
        return web.json_response({"errcode": code, "errmsg": message})

    def _token_error(self, request: web.Request) -> int | None:
        token = request.query.get("access_token", "")
        if token not in self._tokens:
            return 40001
        if self._tokens[token] <= time.time():
            return 42001
        return None

    async def _token(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("appid") != self.app_id or q.get("secret") != self.secret:
            return self._error("token", 40013, "invalid appid or secret")
        self.token_requests += 1
        token = f"TOKEN-{secrets.token_hex(8)}"
        self._tokens[token] = time.time() + 7200
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def _custom(self, request: web.Request) -> web.Response:
        if (code := self._token_error(request)) is not None:
            return self._error("custom", code, "invalid credential")
        body = await request.json()
        openid = body.get("touser", "")
        last = self._last_message.get(openid)
        if openid not in self.followers or last is None or self.now() - last > WINDOW:
            self.violations += 1
            return self._error("custom", 45015, "response out of time limit")
        if self._sends.get(openid, 0) >= self.quota:
            self.violations += 1
            return self._error("custom", 45047, "out of response count limit")
        kind = body.get("msgtype")
        if kind == "image" and body["image"].get("media_id") not in self.uploads:
            return self._error("custom", 40007, "invalid media_id")
        if kind == "msgmenu":
            for choice in body["msgmenu"]["list"]:
                if not str(choice["id"]).isdigit():
                    return self._error("custom", 40008, "invalid msgmenu id")
        if kind not in {"text", "image", "msgmenu"}:
            return self._error("custom", 40008, "invalid message type")
        self._sends[openid] = self._sends.get(openid, 0) + 1
        self.sent.append(Sent("custom", openid, body, self.now()))
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _template(self, request: web.Request) -> web.Response:
        if (code := self._token_error(request)) is not None:
            return self._error("template", code, "invalid credential")
        body = await request.json()
        if body.get("template_id") not in self.templates:
            return self._error("template", 40037, "invalid template_id")
        if body.get("touser") not in self.followers:
            return self._error("template", 43004, "require subscribe")
        for key, field_ in body.get("data", {}).items():  # thing: at most 20 characters
            if key.startswith("thing") and len(str(field_.get("value", ""))) > 20:
                return self._error("template", 47003, f"argument invalid! data.{key}.value")
        self.sent.append(Sent("template", body["touser"], body, self.now()))
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": next(self._ids)})

    async def _upload(self, request: web.Request) -> web.Response:
        if (code := self._token_error(request)) is not None:
            return self._error("upload", code, "invalid credential")
        if request.query.get("type") not in {"image", "voice", "video", "thumb"}:
            return self._error("upload", 40004, "invalid media type")
        data = b""
        async for part in await request.multipart():
            if getattr(part, "name", None) == "media":
                data = await part.read()  # type: ignore[union-attr]
        media_id = f"m{secrets.token_hex(12)}"
        self.uploads[media_id] = data
        return web.json_response({"type": "image", "media_id": media_id, "created_at": 1})

    async def _media_get(self, request: web.Request) -> web.Response:
        if (code := self._token_error(request)) is not None:
            return self._error("media", code, "invalid credential")
        data = self.user_media.get(request.query.get("media_id", ""))
        if data is None:
            return self._error("media", 40007, "invalid media_id")
        return web.Response(body=data, content_type="image/jpeg")

    async def _menu_get(self, request: web.Request) -> web.Response:
        if (code := self._token_error(request)) is not None:
            return self._error("menu", code, "invalid credential")
        if self.menu is None:
            return self._error("menu", 46003, "menu no exist")
        # menu/get answers leaf buttons with an empty sub_button list
        shown = [{**b, "sub_button": b.get("sub_button", [])} for b in self.menu]
        return web.json_response({"menu": {"button": shown}})

    async def _menu_create(self, request: web.Request) -> web.Response:
        if (code := self._token_error(request)) is not None:
            return self._error("menu", code, "invalid credential")
        body = await request.json()
        buttons = body.get("button", [])
        if not 1 <= len(buttons) <= 3 or any(
            len(b["name"].encode()) > 16 or len(b.get("sub_button", [])) > 5 for b in buttons
        ):
            return self._error("menu", 40017, "invalid button")
        self.menu = buttons
        self.menu_creates += 1
        return web.json_response({"errcode": 0, "errmsg": "ok"})


# -- the contacts' side ------------------------------------------------------------------
def text_xml(openid: str, content: str, msg_id: int, menu_id: int | None = None) -> str:
    extra = f"<bizmsgmenuid>{menu_id}</bizmsgmenuid>" if menu_id is not None else ""
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId>{extra}</xml>"
    )


def event_xml(openid: str, event: str, key: str = "", create_time: int | None = None) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>"
        f"<EventKey><![CDATA[{key}]]></EventKey></xml>"
    )


def image_xml(openid: str, media_id: str, msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
        f"<PicUrl><![CDATA[http://mmbiz.example/{media_id}]]></PicUrl>"
        f"<MediaId><![CDATA[{media_id}]]></MediaId><MsgId>{msg_id}</MsgId></xml>"
    )


@dataclass
class Signed:
    """One POST as WeChat would make it: query and body."""

    query: dict[str, str]
    body: bytes


def seal(
    xml: str, *, app_id: str = APP_ID, token: str = TOKEN, timestamp: int | None = None
) -> Signed:
    """Encrypt and sign `xml` for the callback (safe mode)."""
    crypt = WXBizMsgCrypt(token, AES_KEY, app_id)
    encrypted = crypt.encrypt(xml)
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    nonce = secrets.token_hex(5)
    body = (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    ).encode()
    query = {
        "signature": signature(token, stamp, nonce, ""),
        "timestamp": stamp,
        "nonce": nonce,
        "openid": "o",
        "encrypt_type": "aes",
        "msg_signature": crypt.sign(stamp, nonce, encrypted),
    }
    return Signed(query, body)


@dataclass
class Contact:
    """A WeChat user writing to the account, through the fake platform's callback."""

    fake: FakeWeChat
    callback_url: str
    openid: str
    attempts: int = 0  # callbacks posted, retries included
    # Callbacks carry WeChat's time; a Daiban process on the real clock needs the real one.
    real_time: bool = False
    timeout: float = CALLBACK_TIMEOUT  # WeChat's 5 s; tests may shorten it
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_msg_id(self) -> int:
        return int(f"7{abs(hash(self.openid)) % 10**6:06d}{next(self._ids):06d}")

    async def post(self, signed: Signed) -> tuple[int, str]:
        """POST once; (status, body)."""
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.callback_url, params=signed.query, data=signed.body) as response,
        ):
            return response.status, await response.text()

    async def deliver(self, xml: str, *, wrote: bool = True) -> tuple[int, str]:
        """As WeChat delivers: retried when not answered in 5 s or answered 5xx."""
        if wrote:
            self.fake.user_wrote(self.openid)
        signed = seal(xml, timestamp=int(time.time() if self.real_time else self.fake.now()))
        result = (0, "")
        for _ in range(1 + RETRIES):
            self.attempts += 1
            try:
                async with (
                    aiohttp.ClientSession(
                        timeout=aiohttp.ClientTimeout(total=self.timeout)
                    ) as http,
                    http.post(self.callback_url, params=signed.query, data=signed.body) as response,
                ):
                    result = (response.status, await response.text())
            except (TimeoutError, aiohttp.ClientError):
                result = (0, "timeout")
                continue
            if result[0] < 500:
                return result
            await asyncio.sleep(0.2)
        return result

    async def say(self, text: str) -> tuple[int, str]:
        return await self.deliver(text_xml(self.openid, text, self.next_msg_id()))

    async def tap(self, menu_id: int, label: str) -> tuple[int, str]:
        """A tap on a choice of a menu message: a text carrying its bizmsgmenuid."""
        return await self.deliver(text_xml(self.openid, label, self.next_msg_id(), menu_id))

    async def follow(self, scene: str = "") -> tuple[int, str]:
        key = f"qrscene_{scene}" if scene else ""
        return await self.deliver(event_xml(self.openid, "subscribe", key))

    async def click(self, key: str) -> tuple[int, str]:
        return await self.deliver(event_xml(self.openid, "CLICK", key))

    async def send_image(self, data: bytes) -> tuple[int, str]:
        media_id = self.fake.media_from_user(data)
        return await self.deliver(image_xml(self.openid, media_id, self.next_msg_id()))
