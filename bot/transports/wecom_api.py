"""The WeCom API client and sending transport (企业微信接口与发送通道).

Where a message goes is decided by its outbox chat id:

- a name in `DAIBAN_WECOM_ROBOT_KEYS` → that group's robot webhook (`cgi-bin/webhook/send`),
  @mentions through `mentioned_list` (WeCom userids);
- `appchat:<chatid>` → a group chat the app created (`cgi-bin/appchat/send`);
- anything else is a member's userid → an app message (`cgi-bin/message/send`).

Buttons become a `template_card` of type `button_interaction` when WeCom can show them (a
person, at most 6 buttons, each payload at most 1024 bytes, a short text) — the pressed
button's key comes back as the callback's EventKey; otherwise the text lists numbered
options and the person replies `#2` (bot/transports/wecom.py maps it back).

Limits, from the WeCom docs: an app may send one member at most 30 messages a minute
(发送应用消息 "频率限制"), a robot at most 20 a minute (群机器人配置说明). They are kept
here without blocking: a message over the limit raises `TransientError(retry_after)`, so
the delivery worker holds that chat and keeps its order.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bot.transports.base import PermanentError, TransientError
from handlers.chat import Outgoing
from handlers.i18n import gettext

log = logging.getLogger(__name__)

PLATFORM = "wecom"
APPCHAT_PREFIX = "appchat:"

# 全局错误码 (developer.work.weixin.qq.com, "全局错误码"):
TOKEN_ERRORS = {40014, 42001}  # access_token invalid / expired: fetch a new one, retry once
RATE_ERRORS = {45009, 45033}  # API frequency limit / concurrency limit: back off
BUSY = {-1}  # 系统繁忙: "建议稍候重试"
# The deployment is wrong, not the message: secret, corp id, agent id, IP allow-list (60020).
# Messages wait (they are not failed) while an operator fixes it.
CONFIG_ERRORS = {40001, 40013, 40056, 41001, 48002, 60020}
CONFIG_RETRY = 300.0

# Sizes, from 发送应用消息 / 群机器人配置说明: text and app markdown at most 2048 bytes,
# robot markdown 4096 bytes; template_card: at most 6 buttons, key ≤ 1024 bytes,
# task_id ≤ 128 bytes of [0-9A-Za-z_-@], main_title ≤ 36 and sub_title ≤ 160 characters.
TEXT_BYTES = 2048
ROBOT_MARKDOWN_BYTES = 4096
CARD_MAX_BUTTONS = 6
CARD_KEY_BYTES = 1024
CARD_TITLE_CHARS = 36
CARD_SUBTITLE_CHARS = 160

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=15)


class SlidingWindow:
    """At most `limit` sends per `period` seconds per key; tells how long to wait."""

    def __init__(
        self, limit: int, period: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.period, self.clock = limit, period, clock
        self._sent: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        sent = self._sent.get(key, deque())
        while sent and sent[0] <= now - self.period:
            sent.popleft()
        if not sent:
            self._sent.pop(key, None)  # keeps memory bounded by recently active chats
        return sent

    def wait(self, key: str, count: int = 1) -> float:
        """Seconds until `count` more sends are allowed for `key` (0 when allowed now)."""
        sent = self._recent(key)
        excess = len(sent) + count - self.limit
        if excess <= 0:
            return 0.0
        if count > self.limit:
            raise PermanentError(f"one message needs {count} sends, over the limit {self.limit}")
        return max(0.001, sent[excess - 1] + self.period - self.clock())

    def note(self, key: str) -> None:
        self._sent.setdefault(key, deque()).append(self.clock())


class WeComApi:
    """A small client of the WeCom server API: the access_token and the send calls."""

    def __init__(
        self,
        base_url: str,
        corp_id: str,
        secret: str,
        agent_id: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.corp_id = corp_id
        self.agent_id = agent_id
        self._secret = secret
        self._clock = clock
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
        return self._session

    async def _request(
        self, method: str, path: str, params: dict[str, str], body: dict[str, Any] | None
    ) -> dict[str, Any]:
        """One HTTP call; network trouble and 5xx are transient. URLs are never logged:
        they carry the access_token or a robot key."""
        try:
            async with self._http().request(
                method, f"{self.base_url}{path}", params=params, json=body
            ) as response:
                if response.status >= 500 or response.status == 429:
                    raise TransientError(f"WeCom {path}: HTTP {response.status}")
                if response.status != 200:
                    raise PermanentError(f"WeCom {path}: HTTP {response.status}")
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientError(f"WeCom {path}: {type(exc).__name__}") from None
        if not isinstance(data, dict):
            raise TransientError(f"WeCom {path}: unexpected answer")
        return data

    async def access_token(self, *, refresh: bool = False) -> str:
        """The cached access_token (gettoken), fetched again when expired or on request."""
        async with self._token_lock:
            if refresh or self._token is None or self._clock() >= self._token_expires:
                data = await self._request(
                    "GET",
                    "/cgi-bin/gettoken",
                    {"corpid": self.corp_id, "corpsecret": self._secret},
                    None,
                )
                check(data, "gettoken")
                self._token = str(data["access_token"])
                # Renew a little early so a token never expires between check and use.
                lifetime = float(data.get("expires_in", 7200))
                self._token_expires = self._clock() + max(1.0, lifetime - min(300.0, lifetime / 10))
            return self._token

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` to an access_token API; a rejected token is renewed and tried once more."""
        token = await self.access_token()
        data = await self._request("POST", path, {"access_token": token}, body)
        if data.get("errcode") in TOKEN_ERRORS:
            token = await self.access_token(refresh=True)
            data = await self._request("POST", path, {"access_token": token}, body)
        check(data, path)
        return data

    async def send_message(self, body: dict[str, Any]) -> dict[str, Any]:
        """An app message (message/send) to `body["touser"]`; unknown members are permanent."""
        data = await self.call("/cgi-bin/message/send", {**body, "agentid": self.agent_id})
        if data.get("invaliduser"):
            raise PermanentError(f"WeCom: not a member the app can reach: {data['invaliduser']}")
        return data

    async def create_appchat(
        self, name: str, owner: str, members: list[str], chatid: str | None = None
    ) -> str:
        """Create a group chat (appchat/create); returns its outbox chat id `appchat:<chatid>`."""
        body: dict[str, Any] = {"name": name, "owner": owner, "userlist": members}
        if chatid:
            body["chatid"] = chatid
        data = await self.call("/cgi-bin/appchat/create", body)
        return APPCHAT_PREFIX + str(data["chatid"])

    async def send_appchat(self, body: dict[str, Any]) -> None:
        await self.call("/cgi-bin/appchat/send", body)

    async def send_robot(self, key: str, body: dict[str, Any]) -> None:
        """A group robot message (webhook/send?key=…); no access_token involved."""
        check(await self._request("POST", "/cgi-bin/webhook/send", {"key": key}, body), "webhook")


class RateBackoff:
    """Growing waits for repeated 45009/45033 on one target: 2, 4, 8 … 60 s."""

    def __init__(self) -> None:
        self._strikes: dict[str, int] = {}

    def next(self, key: str) -> float:
        strikes = self._strikes.get(key, 0) + 1
        self._strikes[key] = strikes
        return float(min(60, 2**strikes))

    def reset(self, key: str) -> None:
        self._strikes.pop(key, None)


def check(data: dict[str, Any], what: str) -> None:
    """Turn a WeCom errcode into our TransientError / PermanentError (0 passes)."""
    code = data.get("errcode", 0)
    if code == 0:
        return
    reason = f"WeCom {what}: errcode {code} ({str(data.get('errmsg', ''))[:120]})"
    if code in RATE_ERRORS:
        raise TransientError(reason)  # the transport adds its per-target backoff
    if code in BUSY or code in TOKEN_ERRORS:
        raise TransientError(reason, retry_after=5.0)
    if code in CONFIG_ERRORS:
        log.error("%s: check the WeCom settings of this deployment", reason)
        raise TransientError(reason, retry_after=CONFIG_RETRY)
    raise PermanentError(reason)


# -- rendering ---------------------------------------------------------------------------
def plain(text: str) -> str:
    """Our light markup without the bold markers, for text messages."""
    return text.replace("**", "")


def split_bytes(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` UTF-8 bytes, cut at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = ""
        while len(line.encode()) > limit:  # one very long line: cut by characters
            cut = len(line.encode()[:limit].decode("utf-8", errors="ignore"))
            pieces.append(line[:cut])
            line = line[cut:]
        current = line
    if current or not pieces:
        pieces.append(current)
    return pieces


def numbered(text: str, labels: list[str], lang: str) -> str:
    options = "\n".join(f"#{n} {label}" for n, label in enumerate(labels, start=1))
    hint = gettext(lang, "Reply with # and the number of your choice, for example #1.")
    return f"{text}\n\n{options}\n{hint}"


def card_fits(text: str, buttons: list[dict[str, str]]) -> bool:
    """Whether a button_interaction card can carry this message unabridged."""
    if not 1 <= len(buttons) <= CARD_MAX_BUTTONS:
        return False
    keys = [b["payload"] for b in buttons]
    if len(set(keys)) != len(keys) or any(len(k.encode()) > CARD_KEY_BYTES for k in keys):
        return False
    title, _, rest = plain(text).partition("\n")
    return 0 < len(title) <= CARD_TITLE_CHARS and len(rest) <= CARD_SUBTITLE_CHARS


def button_card(text: str, buttons: list[dict[str, str]]) -> dict[str, Any]:
    title, _, rest = plain(text).partition("\n")
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "main_title": {"title": title},
        # Unique per app, [0-9A-Za-z_-@], ≤ 128 bytes.
        "task_id": f"daiban-{uuid.uuid4().hex}",
        "button_list": [{"text": b["label"], "style": 1, "key": b["payload"]} for b in buttons],
    }
    if rest.strip():
        card["sub_title_text"] = rest.strip()
    return {"msgtype": "template_card", "template_card": card}


def text_bodies(text: str, *, markdown_limit: int = TEXT_BYTES) -> list[dict[str, Any]]:
    """text (or markdown when the message uses bold) bodies, split at the size limit."""
    if "**" in text:
        return [
            {"msgtype": "markdown", "markdown": {"content": part}}
            for part in split_bytes(text, markdown_limit)
        ]
    return [
        {"msgtype": "text", "text": {"content": part}} for part in split_bytes(text, TEXT_BYTES)
    ]


class WeComTransport:
    """Deliver outbox payloads on WeCom: app messages, app group chats, group robots."""

    platform = PLATFORM

    def __init__(
        self,
        api: WeComApi,
        *,
        robot_keys: dict[str, str],
        lang_of: Callable[[str], Awaitable[str]],
        default_lang: str,
        member_per_minute: int = 30,
        robot_per_minute: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.robot_keys = robot_keys
        self.lang_of = lang_of
        self.default_lang = default_lang
        self.member_window = SlidingWindow(member_per_minute, 60.0, clock)
        self.robot_window = SlidingWindow(robot_per_minute, 60.0, clock)
        self.backoff = RateBackoff()

    async def send(self, chat_external_id: str, payload: dict[str, Any]) -> None:
        """Deliver one outbox payload, or raise TransientError / PermanentError."""
        message = Outgoing.from_payload(payload)
        buttons = [b for row in payload.get("buttons", []) for b in row]
        mentions = payload.get("mentions", [])
        if chat_external_id in self.robot_keys:
            await self._robot(chat_external_id, message, buttons, mentions)
        elif chat_external_id.startswith(APPCHAT_PREFIX):
            await self._appchat(chat_external_id, message, buttons, mentions)
        else:
            await self._member(chat_external_id, message, buttons)

    async def _deliver(
        self,
        window: SlidingWindow,
        key: str,
        bodies: list[dict[str, Any]],
        post: Callable[[dict[str, Any]], Awaitable[Any]],
    ) -> None:
        # All parts of a message are admitted together, so a limit never cuts one in half.
        wait = window.wait(key, len(bodies))
        if wait > 0:
            raise TransientError("WeCom rate limit reached (kept by Daiban)", retry_after=wait)
        for body in bodies:
            window.note(key)
            try:
                await post(body)
            except TransientError as exc:
                if exc.retry_after is None:  # WeCom's own 45009/45033
                    exc.retry_after = self.backoff.next(key)
                raise
        self.backoff.reset(key)

    async def _member(self, userid: str, message: Outgoing, buttons: list[dict[str, str]]) -> None:
        if buttons and card_fits(message.text, buttons):
            bodies = [button_card(message.text, buttons)]
        else:
            text = message.text
            if buttons:
                text = numbered(text, [b["label"] for b in buttons], await self.lang_of(userid))
            bodies = text_bodies(_with_attachment(text, message))

        async def post(body: dict[str, Any]) -> None:
            await self.api.send_message({"touser": userid, **body})

        await self._deliver(self.member_window, f"member:{userid}", bodies, post)

    async def _appchat(
        self,
        chat: str,
        message: Outgoing,
        buttons: list[dict[str, str]],
        mentions: list[dict[str, Any]],
    ) -> None:
        # appchat/send has no mentions and no card callbacks: names and numbered options.
        # Its per-chat limit is not published; the robots' 20 a minute is the careful choice.
        text = _with_names(message.text, [m["display_name"] for m in mentions])
        if buttons:
            text = numbered(text, [b["label"] for b in buttons], self.default_lang)
        chatid = chat.removeprefix(APPCHAT_PREFIX)

        async def post(body: dict[str, Any]) -> None:
            await self.api.send_appchat({"chatid": chatid, **body, "safe": 0})

        bodies = text_bodies(_with_attachment(text, message))
        await self._deliver(self.robot_window, chat, bodies, post)

    async def _robot(
        self,
        name: str,
        message: Outgoing,
        buttons: list[dict[str, str]],
        mentions: list[dict[str, Any]],
    ) -> None:
        userids = [m["external_id"] for m in mentions if m.get("external_id")]
        unknown = [m["display_name"] for m in mentions if not m.get("external_id")]
        text = _with_names(message.text, unknown)
        if buttons:
            text = numbered(text, [b["label"] for b in buttons], self.default_lang)
        text = _with_attachment(text, message)
        if userids:
            # Only text messages carry mentioned_list; it goes on the last part.
            bodies: list[dict[str, Any]] = [
                {"msgtype": "text", "text": {"content": part}}
                for part in split_bytes(plain(text), TEXT_BYTES)
            ]
            bodies[-1]["text"]["mentioned_list"] = userids
        else:
            bodies = text_bodies(text, markdown_limit=ROBOT_MARKDOWN_BYTES)
        key = self.robot_keys[name]

        async def post(body: dict[str, Any]) -> None:
            await self.api.send_robot(key, body)

        await self._deliver(self.robot_window, f"robot:{name}", bodies, post)


def _with_names(text: str, names: list[str]) -> str:
    return f"{text}\n" + " ".join(f"@{n}" for n in names) if names else text


def _with_attachment(text: str, message: Outgoing) -> str:
    # A file of another platform cannot be re-sent by reference; name it instead.
    if message.attachment is None:
        return text
    return f"{text}\n📎 {message.attachment.filename}"


ROBOT_KEYS_HELP = "name=key pairs separated by commas, for example groupA=KEY1,groupB=KEY2"


def parse_robot_keys(text: str | None) -> dict[str, str]:
    """`groupA=key1,groupB=key2` → {"groupA": "key1", …}; ValueError names the bad part."""
    keys: dict[str, str] = {}
    entries = [e for e in re.split(r"[,;\n]", text or "") if e.strip()]
    for number, entry in enumerate(entries, start=1):
        name, sep, key = entry.partition("=")
        name, key = name.strip(), key.strip()
        if not sep or not name or not key:
            # Never echo the entry: it may hold a key.
            raise ValueError(f"entry {number} is not name=key ({ROBOT_KEYS_HELP})")
        if name in keys:
            raise ValueError(f"the group {name!r} appears twice")
        if name.startswith(APPCHAT_PREFIX):
            raise ValueError(f"a robot group name cannot start with {APPCHAT_PREFIX!r}")
        keys[name] = key
    return keys


__all__ = [
    "APPCHAT_PREFIX",
    "PLATFORM",
    "SlidingWindow",
    "WeComApi",
    "WeComTransport",
    "check",
    "parse_robot_keys",
    "split_bytes",
]
