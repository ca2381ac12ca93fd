"""A fake WeCom server for tests, and WeCom's side of the callback.

`FakeWeCom` serves gettoken, message/send, message/update_template_card, appchat/create,
appchat/update, appchat/send and webhook/send on 127.0.0.1 (a free port), records what was
sent, and enforces WeCom's limits the way WeCom does: a message over 30 a minute or 1,000
an hour per member, or 20 a minute per robot, is answered errcode 0 and silently dropped
(counted in `violations`, kept in `dropped`). `minute` shortens the windows for tests. It
can expire every token (then 42001), or answer the next calls with an errcode or a 5xx.

Cards: a template_card message answers a `response_code` like WeCom; `press` plays a
person pressing a button and returns the callback XML with a fresh ResponseCode;
update_template_card takes each code once (else 40000-something: we answer 40058) and
records the replaced label in `card_updates`.

Media (素材) as the docs describe it: `media/upload?access_token=…&type=file` and a robot's
`webhook/upload_media?key=…&type=file` take a multipart body whose file part is named
"media" (more than 5 bytes, at most 20 MB) and answer a `media_id`; `media/get` gives the
file back with its name in Content-Disposition, or errcode 40007 as JSON. A `file`
message must name a media_id this sender uploaded (app media for app messages and app
chats, that robot's media for a robot) that has not expired (`expire_media`), else
40007. `media_from_user` plays a person sending a file (the id a callback carries).

`WeComSide` plays WeCom towards Daiban: it encrypts a message XML with the official scheme
and POSTs it to `/wecom/callback` with a correct (or deliberately wrong) signature.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
import urllib.parse
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import aiohttp
from aiohttp import web

from bot.transports.wecom_crypto import WXBizMsgCrypt

CORP_ID = "wwdaibantest0001"
SECRET = "fake-secret"
AGENT_ID = 1000002
TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"  # 43 characters


MEDIA_TYPES = {"image", "voice", "video", "file"}
ROBOT_MEDIA_TYPES = {"file", "voice"}
MEDIA_MIN_BYTES = 6
MEDIA_MAX_BYTES = 20 * 1024 * 1024


@dataclass
class Media:
    """One uploaded (or user-sent) file: who may use its id, its name and content."""

    owner: str  # "app" or "robot:<key>"
    filename: str
    data: bytes
    content_type: str
    expired: bool = False


@dataclass
class Sent:
    api: str  # "message", "appchat", "webhook"
    target: str  # touser, chatid or robot key
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)  # when the fake received it

    @property
    def content(self) -> str:
        kind = self.body.get("msgtype", "")
        part = self.body.get(kind, {})
        if kind == "template_card":
            card = part
            return f"{card['main_title']['title']}\n{card.get('sub_title_text', '')}"
        if kind == "file":
            return f"[file {part['media_id']}]"
        return str(part.get("content", ""))


@dataclass
class FakeWeCom:
    corp_id: str = CORP_ID
    secret: str = SECRET
    member_per_minute: int = 30
    member_per_hour: int = 1000
    robot_per_minute: int = 20
    minute: float = 60.0
    dropped: list[Sent] = field(default_factory=list)
    cards: dict[str, dict[str, Any]] = field(default_factory=dict)  # task_id -> card
    card_updates: list[dict[str, Any]] = field(default_factory=list)
    _codes: dict[str, str] = field(default_factory=dict)  # live response_code -> task_id
    # The directory (通讯录): department id -> name; userid -> user/get's fields.
    departments: dict[int, str] = field(default_factory=lambda: {1: "总部"})
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    page_size: int = 2  # user/list_id pages this small, so that paging is exercised
    bad_secret_errcode: int = 40001  # or 40091 ("secret不合法")
    robot_keys: set[str] = field(default_factory=set)
    sent: list[Sent] = field(default_factory=list)
    token_requests: int = 0
    rejected_tokens: int = 0
    violations: int = 0
    calls: list[str] = field(default_factory=list)
    appchats: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: dict[str, Media] = field(default_factory=dict)
    uploads: list[tuple[str, str]] = field(default_factory=list)  # (owner, media_id)
    _inject: deque[tuple[str, int]] = field(default_factory=deque)
    _tokens: dict[str, float] = field(default_factory=dict)
    _windows: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    url: str = ""

    # -- control -----------------------------------------------------------------------
    def expire_tokens(self) -> None:
        """Every access_token issued so far is expired from now on (42001)."""
        for token in self._tokens:
            self._tokens[token] = 0.0

    def inject(self, api: str, errcode: int) -> None:
        """The next call of `api` ("message", "appchat", "webhook") fails with `errcode`;
        an errcode ≥ 500 is answered as that HTTP status instead."""
        self._inject.append((api, errcode))

    def to(self, target: str) -> list[Sent]:
        return [s for s in self.sent if s.target == target]

    def expire_media(self) -> None:
        """Every media_id issued so far is past its 3 days from now on (40007)."""
        for media in self.media.values():
            media.expired = True

    def media_from_user(self, filename: str, data: bytes, content_type: str) -> str:
        """A file a person sent the app: the media_id its callback carries."""
        media_id = f"2{secrets.token_hex(20)}"
        self.media[media_id] = Media("app", filename, data, content_type)
        return media_id

    def file_of(self, sent: Sent) -> Media:
        """The file a `file` message carried."""
        return self.media[sent.body["file"]["media_id"]]

    # -- server ------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_post("/cgi-bin/message/send", self._message_send)
        app.router.add_post("/cgi-bin/message/update_template_card", self._update_card)
        app.router.add_post("/cgi-bin/appchat/create", self._appchat_create)
        app.router.add_post("/cgi-bin/appchat/update", self._appchat_update)
        app.router.add_get("/cgi-bin/appchat/get", self._appchat_get)
        app.router.add_get("/cgi-bin/department/list", self._department_list)
        app.router.add_post("/cgi-bin/user/list_id", self._user_list_id)
        app.router.add_get("/cgi-bin/user/get", self._user_get)
        app.router.add_post("/cgi-bin/appchat/send", self._appchat_send)
        app.router.add_post("/cgi-bin/webhook/send", self._webhook_send)
        app.router.add_post("/cgi-bin/media/upload", self._media_upload)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_post("/cgi-bin/webhook/upload_media", self._robot_upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @staticmethod
    def _err(code: int, msg: str) -> web.Response:
        return web.json_response({"errcode": code, "errmsg": msg})

    async def _gettoken(self, request: web.Request) -> web.Response:
        self.calls.append("gettoken")
        if request.query.get("corpid") != self.corp_id:
            return self._err(40013, "invalid corpid")
        if request.query.get("corpsecret") != self.secret:
            return self._err(self.bad_secret_errcode, "invalid credential")
        self.token_requests += 1
        token = secrets.token_hex(16)
        self._tokens[token] = time.monotonic() + 7200
        return web.json_response(
            {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
        )

    def _token_error(self, request: web.Request) -> web.Response | None:
        expires = self._tokens.get(request.query.get("access_token", ""))
        if expires is None:
            self.rejected_tokens += 1
            return self._err(40014, "invalid access_token")
        if expires <= time.monotonic():
            self.rejected_tokens += 1
            return self._err(42001, "access_token expired")
        return None

    def _injected(self, api: str) -> web.Response | None:
        if self._inject and self._inject[0][0] == api:
            _, code = self._inject.popleft()
            if code >= 500:
                return web.Response(status=code, text="server error")
            return self._err(code, "injected")
        return None

    def _over_limit(self, key: str, *limits: tuple[int, float]) -> bool:
        """Whether one more send breaks a limit (counted as a violation), else count it."""
        now = time.monotonic()
        window = self._windows[key]
        longest = max(period for _, period in limits)
        while window and window[0] <= now - longest:
            window.popleft()
        for limit, period in limits:
            if sum(1 for t in window if t > now - period) >= limit:
                self.violations += 1
                return True
        window.append(now)
        return False

    async def _message_send(self, request: web.Request) -> web.Response:
        self.calls.append("message")
        if (error := self._token_error(request) or self._injected("message")) is not None:
            return error
        body = await request.json()
        if body.get("agentid") != AGENT_ID:
            return self._err(40056, "invalid agentid")
        touser = str(body.get("touser", ""))
        if touser.startswith("nobody"):
            return web.json_response({"errcode": 81013, "errmsg": "user invalid"})
        if (error := self._file_error(body, "app")) is not None:
            return error
        answer: dict[str, Any] = {
            "errcode": 0,
            "errmsg": "ok",
            "invaliduser": "",
            "msgid": f"m{next(self._ids)}",
        }
        limits = (self.member_per_minute, self.minute), (self.member_per_hour, 60 * self.minute)
        if self._over_limit(f"member:{touser}", *limits):
            # WeCom's documented behaviour: over the limit, the message is dropped silently.
            self.dropped.append(Sent("message", touser, body))
            return web.json_response(answer)
        self.sent.append(Sent("message", touser, body))
        if body.get("msgtype") == "template_card":
            card = body["template_card"]
            if card.get("task_id") in self.cards:
                return self._err(40058, "task_id exists")
            self.cards[card["task_id"]] = {**card, "touser": touser}
            answer["response_code"] = self._code(card["task_id"])
        return web.json_response(answer)

    def _code(self, task_id: str) -> str:
        code = f"rc{secrets.token_hex(8)}"
        self._codes[code] = task_id
        return code

    def press(self, userid: str, task_id: str, key: str, *, create_time: int | None = None) -> str:
        """The callback XML of `userid` pressing button `key` on card `task_id`."""
        code = self._code(task_id)
        return card_event_xml(
            userid, key, create_time or int(time.time()), task_id=task_id, response_code=code
        )

    async def _update_card(self, request: web.Request) -> web.Response:
        self.calls.append("update_template_card")
        if (error := self._token_error(request) or self._injected("update_card")) is not None:
            return error
        body = await request.json()
        task_id = self._codes.pop(str(body.get("response_code", "")), None)
        if task_id is None:
            return self._err(40058, "invalid response_code")
        self.card_updates.append({"task_id": task_id, **body})
        return self._err(0, "ok")

    async def _appchat_create(self, request: web.Request) -> web.Response:
        self.calls.append("appchat/create")
        if (error := self._token_error(request)) is not None:
            return error
        body = await request.json()
        members = body.get("userlist") or []
        if not 2 <= len(members) <= 500:
            return self._err(40058, "userlist size invalid")  # "至少2人，至多500人"
        chatid = body.get("chatid") or f"wr{next(self._ids):08d}"
        if chatid in self.appchats:
            return self._err(86215, "chat exists")
        self.appchats[chatid] = {**body, "userlist": list(members)}
        return web.json_response({"errcode": 0, "errmsg": "ok", "chatid": chatid})

    def member(
        self,
        userid: str,
        name: str,
        *,
        mobile: str = "",
        departments: tuple[int, ...] = (1,),
        status: int = 1,
    ) -> None:
        """A member of the directory (status 1 active, 2 disabled, 4 inactive, 5 resigned)."""
        self.users[userid] = {
            "userid": userid,
            "name": name,
            "mobile": mobile,
            "department": list(departments),
            "status": status,
        }

    async def _department_list(self, request: web.Request) -> web.Response:
        self.calls.append("department/list")
        if (error := self._token_error(request)) is not None:
            return error
        rows = [
            {"id": i, "name": n, "parentid": 0 if i == 1 else 1}
            for i, n in self.departments.items()
        ]
        return web.json_response({"errcode": 0, "errmsg": "ok", "department": rows})

    async def _user_list_id(self, request: web.Request) -> web.Response:
        self.calls.append("user/list_id")
        if (error := self._token_error(request)) is not None:
            return error
        body = await request.json()
        start = int(body.get("cursor") or 0)
        ids = sorted(self.users)
        page = ids[start : start + self.page_size]
        rows = [{"userid": u, "department": self.users[u]["department"][0]} for u in page]
        answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "dept_user": rows}
        if start + self.page_size < len(ids):
            answer["next_cursor"] = str(start + self.page_size)
        return web.json_response(answer)

    async def _user_get(self, request: web.Request) -> web.Response:
        self.calls.append("user/get")
        if (error := self._token_error(request)) is not None:
            return error
        user = self.users.get(request.query.get("userid", ""))
        if user is None:
            return self._err(60111, "userid not found")
        return web.json_response({"errcode": 0, "errmsg": "ok", **user})

    async def _appchat_get(self, request: web.Request) -> web.Response:
        self.calls.append("appchat/get")
        if (error := self._token_error(request)) is not None:
            return error
        chatid = request.query.get("chatid", "")
        chat = self.appchats.get(chatid)
        if chat is None:
            return self._err(86003, "chat not exist")
        info = {"chatid": chatid, "name": chat.get("name", ""), "owner": chat.get("owner", "")}
        return web.json_response(
            {"errcode": 0, "errmsg": "ok", "chat_info": {**info, "userlist": chat["userlist"]}}
        )

    async def _appchat_update(self, request: web.Request) -> web.Response:
        self.calls.append("appchat/update")
        if (error := self._token_error(request)) is not None:
            return error
        body = await request.json()
        chat = self.appchats.get(str(body.get("chatid", "")))
        if chat is None:
            return self._err(86003, "chat not exist")
        gone = set(body.get("del_user_list") or [])
        members = [m for m in chat["userlist"] if m not in gone]
        members += [m for m in body.get("add_user_list") or [] if m not in members]
        chat["userlist"] = members
        if body.get("name"):
            chat["name"] = body["name"]
        return self._err(0, "ok")

    async def _appchat_send(self, request: web.Request) -> web.Response:
        self.calls.append("appchat")
        if (error := self._token_error(request) or self._injected("appchat")) is not None:
            return error
        body = await request.json()
        if body.get("chatid") not in self.appchats:
            return self._err(86003, "chat not exist")
        if (error := self._file_error(body, "app")) is not None:
            return error
        self.sent.append(Sent("appchat", body["chatid"], body))
        return self._err(0, "ok")

    async def _webhook_send(self, request: web.Request) -> web.Response:
        self.calls.append("webhook")
        if (error := self._injected("webhook")) is not None:
            return error
        key = request.query.get("key", "")
        if key not in self.robot_keys:
            return self._err(93000, "invalid webhook url")
        body = await request.json()
        if (error := self._file_error(body, f"robot:{key}")) is not None:
            return error
        if self._over_limit(f"robot:{key}", (self.robot_per_minute, self.minute)):
            self.dropped.append(Sent("webhook", key, body))
            return self._err(0, "ok")
        self.sent.append(Sent("webhook", key, body))
        return self._err(0, "ok")

    # -- media -------------------------------------------------------------------------
    def _file_error(self, body: dict[str, Any], owner: str) -> web.Response | None:
        if body.get("msgtype") != "file":
            return None
        media = self.media.get(str((body.get("file") or {}).get("media_id", "")))
        if media is None or media.expired or media.owner != owner:
            return self._err(40007, "invalid media_id")
        return None

    async def _read_media(self, request: web.Request) -> tuple[str, bytes] | web.Response:
        """The multipart part named "media": (its filename, its bytes), or the error."""
        if request.content_type != "multipart/form-data":
            return self._err(44001, "empty media data")
        reader = await request.multipart()
        async for part in reader:
            if part.name == "media" and part.filename:  # type: ignore[union-attr]
                data = bytes(await part.read())  # type: ignore[union-attr]
                if not MEDIA_MIN_BYTES <= len(data) <= MEDIA_MAX_BYTES:
                    return self._err(40006, "invalid file size")
                return part.filename, data  # type: ignore[union-attr]
        return self._err(44001, "empty media data")

    def _stored(self, owner: str, kind: str, filename: str, data: bytes) -> web.Response:
        media_id = f"3{secrets.token_hex(20)}"
        self.media[media_id] = Media(owner, filename, data, "application/octet-stream")
        self.uploads.append((owner, media_id))
        return web.json_response(
            {
                "errcode": 0,
                "errmsg": "",
                "type": kind,
                "media_id": media_id,
                "created_at": str(int(time.time())),
            }
        )

    async def _media_upload(self, request: web.Request) -> web.Response:
        self.calls.append("media/upload")
        if (error := self._token_error(request) or self._injected("media/upload")) is not None:
            return error
        kind = request.query.get("type", "")
        if kind not in MEDIA_TYPES:
            return self._err(40004, "invalid media type")
        got = await self._read_media(request)
        if isinstance(got, web.Response):
            return got
        return self._stored("app", kind, *got)

    async def _robot_upload(self, request: web.Request) -> web.Response:
        self.calls.append("webhook/upload_media")
        key = request.query.get("key", "")
        if key not in self.robot_keys:
            return self._err(93000, "invalid webhook url")
        kind = request.query.get("type", "")
        if kind not in ROBOT_MEDIA_TYPES:
            return self._err(40004, "invalid media type")
        got = await self._read_media(request)
        if isinstance(got, web.Response):
            return got
        return self._stored(f"robot:{key}", kind, *got)

    async def _media_get(self, request: web.Request) -> web.Response:
        self.calls.append("media/get")
        if (error := self._token_error(request) or self._injected("media/get")) is not None:
            return error
        media = self.media.get(request.query.get("media_id", ""))
        if media is None or media.expired or media.owner != "app":
            return self._err(40007, "invalid media_id")
        quoted = urllib.parse.quote(media.filename)
        return web.Response(
            body=media.data,
            content_type=media.content_type,
            headers={
                "Content-Disposition": (
                    f"attachment; filename=\"{quoted}\"; filename*=UTF-8''{quoted}"
                )
            },
        )


# -- WeCom's side of the callback ------------------------------------------------------
def text_xml(userid: str, content: str, msg_id: str, *, corp_id: str = CORP_ID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>"
        f"<FromUserName><![CDATA[{userid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId>"
        f"<AgentID>{AGENT_ID}</AgentID></xml>"
    )


def media_xml(userid: str, kind: str, media_id: str, msg_id: str, *, corp_id: str = CORP_ID) -> str:
    """An image / voice / video message a person sent the app (接收消息: 消息格式)."""
    extra = "<PicUrl><![CDATA[http://wework.qpic.cn/x]]></PicUrl>" if kind == "image" else ""
    return (
        f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>"
        f"<FromUserName><![CDATA[{userid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>"
        f"{extra}<MediaId><![CDATA[{media_id}]]></MediaId><MsgId>{msg_id}</MsgId>"
        f"<AgentID>{AGENT_ID}</AgentID></xml>"
    )


def card_event_xml(
    userid: str,
    key: str,
    create_time: int,
    *,
    corp_id: str = CORP_ID,
    task_id: str = "daiban-t1",
    response_code: str = "rc1",
) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>"
        f"<FromUserName><![CDATA[{userid}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[template_card_event]]></Event>"
        f"<EventKey><![CDATA[{key}]]></EventKey><TaskId><![CDATA[{task_id}]]></TaskId>"
        f"<CardType><![CDATA[button_interaction]]></CardType>"
        f"<ResponseCode><![CDATA[{response_code}]]></ResponseCode><AgentID>{AGENT_ID}</AgentID></xml>"
    )


def robot_group_xml(chat_id: str, userid: str, name: str, content: str, msg_id: str) -> str:
    return (
        f"<xml><WebhookUrl><![CDATA[http://in.qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x]]>"
        f"</WebhookUrl><ChatId><![CDATA[{chat_id}]]></ChatId>"
        f"<ChatType><![CDATA[group]]></ChatType><From><UserId><![CDATA[{userid}]]></UserId>"
        f"<Name><![CDATA[{escape(name)}]]></Name><Alias><![CDATA[a]]></Alias></From>"
        f"<MsgId><![CDATA[{msg_id}]]></MsgId><MsgType><![CDATA[text]]></MsgType>"
        f"<Text><Content><![CDATA[{content}]]></Content></Text></xml>"
    )


class WeComSide:
    """Sends callbacks to Daiban the way WeCom does (encrypted, signed)."""

    def __init__(
        self,
        callback_url: str,
        *,
        token: str = TOKEN,
        aes_key: str = AES_KEY,
        corp_id: str = CORP_ID,
    ) -> None:
        self.callback_url = callback_url
        self.token = token
        self.crypt = WXBizMsgCrypt(token, aes_key, corp_id)

    def _query(
        self, encrypted: str, *, bad_signature: bool, timestamp: int | None = None
    ) -> dict[str, str]:
        timestamp_ = str(int(time.time()) if timestamp is None else timestamp)
        timestamp, nonce = timestamp_, secrets.token_hex(5)
        sig = self.crypt.sign(timestamp, nonce, encrypted)
        if bad_signature:
            sig = ("0" if sig[0] != "0" else "1") + sig[1:]
        return {"msg_signature": sig, "timestamp": timestamp, "nonce": nonce}

    async def post(
        self, xml: str, *, bad_signature: bool = False, timestamp: int | None = None
    ) -> tuple[int, str]:
        """POST one message as WeCom would; returns (status, body)."""
        encrypted = self.crypt.encrypt(xml)
        envelope = (
            f"<xml><ToUserName><![CDATA[{self.crypt.receive_id}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID>{AGENT_ID}</AgentID></xml>"
        )
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                self.callback_url,
                params=self._query(encrypted, bad_signature=bad_signature, timestamp=timestamp),
                data=envelope.encode(),
            ) as response,
        ):
            return response.status, await response.text()

    async def post_json(self, message: dict[str, Any]) -> tuple[int, str]:
        """POST a group robot's message in today's JSON format (`{"encrypt": …}`)."""
        encrypted = self.crypt.encrypt(json.dumps(message, ensure_ascii=False))
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                self.callback_url,
                params=self._query(encrypted, bad_signature=False),
                json={"encrypt": encrypted},
            ) as response,
        ):
            return response.status, await response.text()

    async def verify_url(self, echo: str, *, bad_signature: bool = False) -> tuple[int, str]:
        """The GET WeCom sends when the callback URL is saved in its admin console."""
        encrypted = self.crypt.encrypt(echo)
        params = {**self._query(encrypted, bad_signature=bad_signature), "echostr": encrypted}
        async with (
            aiohttp.ClientSession() as http,
            http.get(self.callback_url, params=params) as response,
        ):
            return response.status, await response.text()
