"""The WeCom API client and sending transport (企业微信接口与发送通道).

Where a message goes is decided by its outbox chat id:

- a name in `DAIBAN_WECOM_ROBOT_KEYS` → that group's robot webhook (`cgi-bin/webhook/send`),
  @mentions through `mentioned_list` (WeCom userids);
- `appchat:<chatid>` → a group chat the app created (`cgi-bin/appchat/send`);
- anything else is a member's userid → an app message (`cgi-bin/message/send`).

Files (文件消息): an attachment whose `ref` is a file on this machine is uploaded as
temporary media (素材) and sent as a `file` message after the text — app messages and
app group chats upload with `cgi-bin/media/upload?type=file`, robots with their own
`cgi-bin/webhook/upload_media?key=…&type=file`. A media_id lives 3 days (上传临时素材), so
an upload is remembered per uploader and content hash for 2 days and reused; a send
refused with 40007 (invalid media_id) uploads again once. WeCom takes files of more than 5
bytes and at most 20 MB; any other attachment (too small or large, or a reference that
is not a local file, e.g. another platform's file id) is named in the text instead.

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
import hashlib
import json
import logging
import os
import re
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bot.transports.base import PermanentError, TransientError
from handlers.chat import Attachment, Outgoing
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
MEDIA_GONE = 40007  # invalid media_id: expired (3 days) or never uploaded by this sender

# 上传临时素材: "所有文件size必须大于5个字节", 普通文件(file) at most 20 MB; the robots'
# upload_media has the same bounds. A media_id is valid for 3 days; we reuse one for 2.
MEDIA_MIN_BYTES = 6
FILE_MAX_BYTES = 20 * 1024 * 1024
MEDIA_REUSE_SECONDS = 2 * 24 * 3600.0

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
TRANSFER_TIMEOUT = aiohttp.ClientTimeout(total=120)  # uploads and downloads of up to 20 MB


class MediaGone(PermanentError):
    """WeCom no longer knows a media_id (40007): upload the file again."""


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
        self,
        method: str,
        path: str,
        params: dict[str, str],
        body: dict[str, Any] | None,
        *,
        form: aiohttp.FormData | None = None,
    ) -> dict[str, Any]:
        """One HTTP call (a JSON body, or a multipart `form`); network trouble and 5xx are
        transient. URLs are never logged: they carry the access_token or a robot key."""
        try:
            async with self._http().request(
                method,
                f"{self.base_url}{path}",
                params=params,
                json=body if form is None else None,
                data=form,
                timeout=HTTP_TIMEOUT if form is None else TRANSFER_TIMEOUT,
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

    async def _with_token(
        self, path: str, attempt: Callable[[str], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """`attempt(token)`; a rejected token is renewed and the attempt made once more."""
        data = await attempt(await self.access_token())
        if data.get("errcode") in TOKEN_ERRORS:
            data = await attempt(await self.access_token(refresh=True))
        check(data, path)
        return data

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` to an access_token API; a rejected token is renewed and tried once more."""
        return await self._with_token(
            path, lambda token: self._request("POST", path, {"access_token": token}, body)
        )

    async def upload_media(self, filename: str, data: bytes, kind: str = "file") -> str:
        """Upload temporary media for app messages (media/upload); its media_id (3 days)."""
        path = "/cgi-bin/media/upload"

        async def attempt(token: str) -> dict[str, Any]:
            params = {"access_token": token, "type": kind}
            return await self._request("POST", path, params, None, form=_media_form(filename, data))

        return _media_id(await self._with_token(path, attempt), path)

    async def upload_robot_media(self, key: str, filename: str, data: bytes) -> str:
        """Upload a file for a group robot (webhook/upload_media); its media_id (3 days)."""
        path = "/cgi-bin/webhook/upload_media"
        params = {"key": key, "type": "file"}
        data_ = await self._request("POST", path, params, None, form=_media_form(filename, data))
        check(data_, "webhook/upload_media")
        return _media_id(data_, path)

    async def download_media(self, media_id: str) -> tuple[str, str, bytes]:
        """A file people sent the app (media/get): (file name, MIME type, content)."""
        path = "/cgi-bin/media/get"
        got: dict[str, tuple[str, str, bytes]] = {}

        async def attempt(token: str) -> dict[str, Any]:
            params = {"access_token": token, "media_id": media_id}
            try:
                async with self._http().get(
                    f"{self.base_url}{path}", params=params, timeout=TRANSFER_TIMEOUT
                ) as response:
                    if response.status >= 500 or response.status == 429:
                        raise TransientError(f"WeCom {path}: HTTP {response.status}")
                    if response.status not in (200, 206):
                        raise PermanentError(f"WeCom {path}: HTTP {response.status}")
                    body = await response.read()
                    mime = response.content_type or "application/octet-stream"
                    name = response.content_disposition and response.content_disposition.filename
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise TransientError(f"WeCom {path}: {type(exc).__name__}") from None
            if mime in {"application/json", "text/plain"} and body.lstrip().startswith(b"{"):
                try:
                    answer = json.loads(body)
                except ValueError:
                    answer = None
                if isinstance(answer, dict) and "errcode" in answer:
                    return answer  # an error comes back as JSON instead of the file
            got["file"] = (name or "", mime, body)
            return {"errcode": 0}

        await self._with_token(path, attempt)
        return got["file"]

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


def _media_form(filename: str, data: bytes) -> aiohttp.FormData:
    # The part is named "media"; its filename is what people see (上传临时素材). Unquoted,
    # so a Chinese name travels as UTF-8 the way browsers and curl send it.
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("media", data, filename=filename, content_type="application/octet-stream")
    return form


def _media_id(data: dict[str, Any], what: str) -> str:
    media_id = data.get("media_id")
    if not media_id:
        raise TransientError(f"WeCom {what}: no media_id in the answer")
    return str(media_id)


def check(data: dict[str, Any], what: str) -> None:
    """Turn a WeCom errcode into our TransientError / PermanentError (0 passes)."""
    code = data.get("errcode", 0)
    if code == 0:
        return
    reason = f"WeCom {what}: errcode {code} ({str(data.get('errmsg', ''))[:120]})"
    if code == MEDIA_GONE:
        raise MediaGone(reason)
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


@dataclass(frozen=True)
class LocalFile:
    """An attachment WeCom can take as a file message: a file on this machine."""

    path: Path
    filename: str
    data: bytes
    digest: str


def local_file(attachment: Attachment | None) -> LocalFile | None:
    """The attachment as a sendable file, or None (no file, not local, or out of bounds)."""
    if attachment is None or not attachment.ref or not os.path.isfile(attachment.ref):
        return None
    path = Path(attachment.ref)
    size = path.stat().st_size
    if not MEDIA_MIN_BYTES <= size <= FILE_MAX_BYTES:
        log.warning("WeCom: %s is %d bytes, outside 6 B–20 MB; named instead", path.name, size)
        return None
    data = path.read_bytes()
    name = attachment.filename or path.name
    return LocalFile(path, name, data, hashlib.sha256(data).hexdigest())


class MediaCache:
    """media_ids already uploaded, per uploader and file (content hash and name), reused
    for `ttl` seconds (WeCom keeps them 3 days)."""

    def __init__(
        self,
        clock: Callable[[], float],
        ttl: float = MEDIA_REUSE_SECONDS,
        capacity: int = 512,
    ) -> None:
        self.clock, self.ttl, self.capacity = clock, ttl, capacity
        self._ids: OrderedDict[tuple[str, str, str], tuple[str, float]] = OrderedDict()

    def get(self, uploader: str, file: LocalFile) -> str | None:
        key = (uploader, file.digest, file.filename)
        found = self._ids.get(key)
        if found is None or found[1] <= self.clock():
            self._ids.pop(key, None)
            return None
        return found[0]

    def put(self, uploader: str, file: LocalFile, media_id: str) -> None:
        key = (uploader, file.digest, file.filename)
        self._ids[key] = (media_id, self.clock() + self.ttl)
        self._ids.move_to_end(key)
        while len(self._ids) > self.capacity:
            self._ids.popitem(last=False)

    def forget(self, uploader: str, file: LocalFile) -> None:
        self._ids.pop((uploader, file.digest, file.filename), None)


@dataclass(frozen=True)
class FileStep:
    """The file message after the text: who uploads it, and how."""

    file: LocalFile
    uploader: str  # "app" or "robot:<name>": media_ids are not shared between them
    upload: Callable[[str, bytes], Awaitable[str]]


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
        self.media = MediaCache(clock)
        # Parts of a message already delivered, so a retry does not send them again.
        self._progress: OrderedDict[str, int] = OrderedDict()

    async def send(self, chat_external_id: str, payload: dict[str, Any]) -> None:
        """Deliver one outbox payload, or raise TransientError / PermanentError."""
        message = Outgoing.from_payload(payload)
        buttons = [b for row in payload.get("buttons", []) for b in row]
        mentions = payload.get("mentions", [])
        file = await asyncio.to_thread(local_file, message.attachment)
        progress = hashlib.sha1(
            (chat_external_id + json.dumps(payload, sort_keys=True, ensure_ascii=False)).encode()
        ).hexdigest()
        if chat_external_id in self.robot_keys:
            await self._robot(chat_external_id, message, buttons, mentions, file, progress)
        elif chat_external_id.startswith(APPCHAT_PREFIX):
            await self._appchat(chat_external_id, message, buttons, mentions, file, progress)
        else:
            await self._member(chat_external_id, message, buttons, file, progress)

    async def _deliver(
        self,
        window: SlidingWindow,
        key: str,
        bodies: list[dict[str, Any]],
        post: Callable[[dict[str, Any]], Awaitable[Any]],
        *,
        file: FileStep | None = None,
        progress: str = "",
    ) -> None:
        steps: list[Callable[[], Awaitable[Any]]] = [_bound(post, body) for body in bodies]
        if file is not None:
            steps.append(lambda: self._post_file(file, post))
        done = self._progress.get(progress, 0) if progress else 0
        # All parts of a message are admitted together, so a limit never cuts one in half.
        wait = window.wait(key, len(steps) - done)
        if wait > 0:
            raise TransientError("WeCom rate limit reached (kept by Daiban)", retry_after=wait)
        for index in range(done, len(steps)):
            window.note(key)
            try:
                await steps[index]()
            except TransientError as exc:
                if exc.retry_after is None:  # WeCom's own 45009/45033
                    exc.retry_after = self.backoff.next(key)
                raise
            if progress and len(steps) > 1:
                self._progress[progress] = index + 1
                while len(self._progress) > 1000:
                    self._progress.popitem(last=False)
        self._progress.pop(progress, None)
        self.backoff.reset(key)

    async def _media_id(self, step: FileStep, *, fresh: bool = False) -> str:
        known = None if fresh else self.media.get(step.uploader, step.file)
        if known is not None:
            return known
        media_id = await step.upload(step.file.filename, step.file.data)
        self.media.put(step.uploader, step.file, media_id)
        return media_id

    async def _post_file(
        self, step: FileStep, post: Callable[[dict[str, Any]], Awaitable[Any]]
    ) -> None:
        """Upload (or reuse) the file and send it; an expired media_id is uploaded anew once."""
        body = {"msgtype": "file", "file": {"media_id": await self._media_id(step)}}
        try:
            await post(body)
        except MediaGone:
            self.media.forget(step.uploader, step.file)
            body = {"msgtype": "file", "file": {"media_id": await self._media_id(step, fresh=True)}}
            await post(body)

    def _app_file(self, file: LocalFile | None) -> FileStep | None:
        return None if file is None else FileStep(file, "app", self.api.upload_media)

    async def _member(
        self,
        userid: str,
        message: Outgoing,
        buttons: list[dict[str, str]],
        file: LocalFile | None,
        progress: str,
    ) -> None:
        if buttons and card_fits(message.text, buttons):
            bodies = [button_card(message.text, buttons)]
        else:
            text = message.text
            if buttons:
                text = numbered(text, [b["label"] for b in buttons], await self.lang_of(userid))
            bodies = _text_part(text, message, file)

        async def post(body: dict[str, Any]) -> None:
            await self.api.send_message({"touser": userid, **body})

        await self._deliver(
            self.member_window,
            f"member:{userid}",
            bodies,
            post,
            file=self._app_file(file),
            progress=progress,
        )

    async def _appchat(
        self,
        chat: str,
        message: Outgoing,
        buttons: list[dict[str, str]],
        mentions: list[dict[str, Any]],
        file: LocalFile | None,
        progress: str,
    ) -> None:
        # appchat/send has no mentions and no card callbacks: names and numbered options.
        # Its per-chat limit is not published; the robots' 20 a minute is the careful choice.
        text = _with_names(message.text, [m["display_name"] for m in mentions])
        if buttons:
            text = numbered(text, [b["label"] for b in buttons], self.default_lang)
        chatid = chat.removeprefix(APPCHAT_PREFIX)

        async def post(body: dict[str, Any]) -> None:
            await self.api.send_appchat({"chatid": chatid, **body, "safe": 0})

        await self._deliver(
            self.robot_window,
            chat,
            _text_part(text, message, file),
            post,
            file=self._app_file(file),
            progress=progress,
        )

    async def _robot(
        self,
        name: str,
        message: Outgoing,
        buttons: list[dict[str, str]],
        mentions: list[dict[str, Any]],
        file: LocalFile | None,
        progress: str,
    ) -> None:
        userids = [m["external_id"] for m in mentions if m.get("external_id")]
        unknown = [m["display_name"] for m in mentions if not m.get("external_id")]
        text = _with_names(message.text, unknown)
        if buttons:
            text = numbered(text, [b["label"] for b in buttons], self.default_lang)
        if file is None:
            text = _with_attachment(text, message)
        bodies: list[dict[str, Any]]
        if userids:
            # Only text messages carry mentioned_list; it goes on the last part.
            bodies = [
                {"msgtype": "text", "text": {"content": part}}
                for part in split_bytes(plain(text), TEXT_BYTES)
            ]
            bodies[-1]["text"]["mentioned_list"] = userids
        elif text.strip() or file is None:
            bodies = text_bodies(text, markdown_limit=ROBOT_MARKDOWN_BYTES)
        else:
            bodies = []
        key = self.robot_keys[name]

        async def post(body: dict[str, Any]) -> None:
            await self.api.send_robot(key, body)

        async def upload(filename: str, data: bytes) -> str:
            return await self.api.upload_robot_media(key, filename, data)

        step = None if file is None else FileStep(file, f"robot:{name}", upload)
        await self._deliver(
            self.robot_window, f"robot:{name}", bodies, post, file=step, progress=progress
        )


def _bound(
    post: Callable[[dict[str, Any]], Awaitable[Any]], body: dict[str, Any]
) -> Callable[[], Awaitable[Any]]:
    return lambda: post(body)


def _text_part(text: str, message: Outgoing, file: LocalFile | None) -> list[dict[str, Any]]:
    """The text bodies; with a file to send, the file is not named and an empty text is
    left out."""
    if file is None:
        return text_bodies(_with_attachment(text, message))
    return text_bodies(text) if text.strip() else []


def _with_names(text: str, names: list[str]) -> str:
    return f"{text}\n" + " ".join(f"@{n}" for n in names) if names else text


def _with_attachment(text: str, message: Outgoing) -> str:
    # A file WeCom cannot take (another platform's reference, or out of bounds): name it.
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
    "MediaCache",
    "MediaGone",
    "SlidingWindow",
    "WeComApi",
    "WeComTransport",
    "check",
    "parse_robot_keys",
    "split_bytes",
]
