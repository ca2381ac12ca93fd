"""WeCom (企业微信): the callback endpoint and the wiring of the sending transport.

`/wecom/callback` answers WeCom's URL verification (GET with echostr) and receives
encrypted messages (POST). A POST is verified, decrypted and handled through the same
pipeline as every platform (its record, state and replies commit together) before WeCom
gets its "success"; when the store is down the answer is 503 and WeCom delivers the event
again. A redelivered MsgId is recorded already and ignored there. Replies leave through
the outbox and `WeComTransport`.

Media people send (an image, voice or video message; WeCom's app messages have no
document type) carry a MediaId that lives 3 days. `MediaInbox` downloads it at once
(`media/get`) into ``wecom-media/`` beside the SQLite file (else ``var/``), named by content
hash, and the event's attachment then refers to that file — which the transports can send
on again. When the download fails the MediaId is kept and the failure logged.

Message shapes (the doc pages "接收消息与事件" → 消息格式 / 事件格式 / 模板卡片事件推送):
app messages carry ToUserName (corp id), FromUserName (userid), CreateTime, MsgType,
Content, MsgId, AgentID; events carry Event and EventKey (template_card_event also TaskId,
CardType, ResponseCode) and no MsgId. A group robot's callback carries ChatId, ChatType,
From/UserId, From/Name, MsgId, MsgType and Text/Content.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from xml.etree.ElementTree import Element

from aiohttp import web

from bot.transports.host import TransportHost
from bot.transports.http_body import read_body
from bot.transports.wecom_cards import CardPress, card_press, close_card
from bot.transports.wecom_client import PLATFORM
from bot.transports.wecom_crypto import (
    MAX_BODY,
    BadMessage,
    WeComCryptoError,
    WXBizMsgCrypt,
    parse_xml,
)
from bot.transports.wecom_media import MediaInbox
from bot.transports.wecom_settings import check_settings
from handlers.chat import Attachment, ChatKind, Incoming, Sender
from storage.db import StorageError
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

CALLBACK_PATH = "/wecom/callback"
CHOICE = re.compile(r"^\s*[#＃]\s*(\d{1,2})\s*$")
MAX_CLOCK_SKEW = 300  # seconds a message callback's timestamp may be off (replay guard)
EVENT_ID_MAX = 120  # inbound_events.event_id holds 128 characters
MEDIA = {
    "image": ("image/jpeg", "jpg"),
    "voice": ("audio/amr", "amr"),
    "video": ("video/mp4", "mp4"),
    "file": ("application/octet-stream", "bin"),
}


# -- reading what we sent (numbered choices, language) -------------------------------------
async def numbered_choice(app: TransportHost, chat_id: str, number: int) -> str | None:
    """The payload of option `number` in the last message with buttons sent to `chat_id`.

    The outbox row keeps the buttons it was rendered from, so a restart loses nothing.
    """
    async with UnitOfWork(app.services.db) as uow:
        # The buttons sit on one of the last few messages, or are stale.
        payloads = await uow.outbox.recent_payloads(
            PLATFORM, chat_id, limit=20, statuses=("sent", "sending")
        )
    for payload in payloads:
        buttons = [b for row in payload.get("buttons", []) for b in row]
        if buttons:
            return str(buttons[number - 1]["payload"]) if 1 <= number <= len(buttons) else None
    return None


def lang_reader(app: TransportHost) -> Callable[[str], Awaitable[str]]:
    default = app.settings.default_lang

    async def lang_of(userid: str) -> str:
        async with UnitOfWork(app.services.db) as uow:
            person = await uow.people.by_account(PLATFORM, userid)
        return person.lang if person is not None else default

    return lang_of


def group_binder(app: TransportHost) -> Callable[[str, str, str, str], Awaitable[None]]:
    """Bind a group chat the app just created: as if its owner, the butler, sent
    `/bind CODE` in it (the plan, the greeting and the handbook follow from the flow)."""

    async def bind(chat: str, owner: str, invite: str, title: str) -> None:
        event = Incoming(
            event_id=_short(f"g:{chat}:{invite}"),
            sender=Sender(PLATFORM, owner, "", None),
            chat_id=chat,
            chat_kind=ChatKind.GROUP,
            chat_title=title,
            text=f"/bind {invite}",
            command="bind",
            args=invite,
        )
        await app.handle(event)
        app.worker.wake()

    return bind


# -- parsing ---------------------------------------------------------------------------
def _text(root: Element, path: str) -> str:
    return (root.findtext(path) or "").strip()


def _event_id(root: Element, sender: str) -> str:
    msg_id = _text(root, "MsgId")
    if msg_id:
        event_id = f"m:{msg_id}"
    else:  # events have no MsgId: sender + create time + event (+ key) identify them
        parts = [sender, _text(root, "CreateTime"), _text(root, "Event"), _text(root, "EventKey")]
        if _text(root, "TaskId"):  # a card press: which card it answers
            parts.append(_text(root, "TaskId"))
        event_id = "e:" + ":".join(parts)
    return _short(event_id)


def _short(event_id: str) -> str:
    """The event id as stored (inbound_events.event_id holds 128 characters)."""
    if len(event_id) > EVENT_ID_MAX:
        return event_id[:2] + hashlib.sha256(event_id.encode()).hexdigest()
    return event_id


def to_incoming(root: Element) -> Incoming | None:
    """The platform-neutral event of a decrypted callback; None for what we do not handle
    (entering the app, subscribing, location reports…)."""
    robot_sender = _text(root, "From/UserId")
    userid = robot_sender or _text(root, "FromUserName")
    if not userid:
        return None
    chat_id, kind = userid, ChatKind.DM
    if _text(root, "ChatId") and _text(root, "ChatType") != "single":
        chat_id, kind = _text(root, "ChatId"), ChatKind.GROUP
    # WeCom sends no language: the person's stored language applies.
    sender = Sender(PLATFORM, userid, _text(root, "From/Name"), None)
    base: dict[str, Any] = {
        "event_id": _event_id(root, userid),
        "sender": sender,
        "chat_id": chat_id,
        "chat_kind": kind,
    }
    msg_type = _text(root, "MsgType")
    if msg_type == "text":
        text = _text(root, "Content") or _text(root, "Text/Content")
        if robot_sender:  # a robot is addressed as "@机器人 /help": drop the leading mentions
            text = re.sub(r"^(\s*@\S+\s*)+", "", text)
        command, args = Incoming.parse_command(text)
        return Incoming(**base, text=text, command=command, args=args if command else "")
    if msg_type == "event":
        event = _text(root, "Event")
        key = root.findtext("EventKey") or ""
        if event in {"template_card_event", "click"} and key:
            return Incoming(**base, payload=key)
        return None
    if msg_type in MEDIA:
        mime, ext = MEDIA[msg_type]
        media_id = _text(root, "MediaId")
        if not media_id:
            return None
        name = (
            _text(root, "FileName") or _text(root, "Title") or f"{msg_type}-{media_id[:12]}.{ext}"
        )
        return Incoming(**base, attachment=Attachment(name, mime, 0, media_id))
    return None


# -- the callback endpoint ---------------------------------------------------------------
class WeComCallback:
    """GET: URL verification; POST: verify, decrypt, acknowledge, handle in the background."""

    def __init__(
        self, app: TransportHost, crypt: WXBizMsgCrypt, inbox: MediaInbox | None = None
    ) -> None:
        self.app = app
        self.crypt = crypt
        self.inbox = inbox
        self.tasks: set[asyncio.Task[None]] = set()
        self._last: dict[str, asyncio.Task[None]] = {}  # per chat: keeps each chat in order
        self.stopping = asyncio.Event()

    def _refuse(self, request: web.Request, exc: Exception) -> web.Response:
        # Never log the query (signature) or body; the reason and the peer are enough.
        log.warning("WeCom callback refused from %s: %s", request.remote, exc)
        return web.Response(status=403, text="forbidden")

    def _fresh(self, timestamp: str) -> bool:
        try:
            sent = int(timestamp)
        except ValueError:
            return False
        return abs(time.time() - sent) <= MAX_CLOCK_SKEW  # WeCom's clock, not a demo's

    async def verify_url(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            echo = self.crypt.verify_url(
                q.get("msg_signature", ""),
                q.get("timestamp", ""),
                q.get("nonce", ""),
                q.get("echostr", ""),
            )
        except WeComCryptoError as exc:
            return self._refuse(request, exc)
        return web.Response(text=echo, content_type="text/plain")

    def _read(self, query: Mapping[str, str], body: bytes) -> tuple[Incoming | None, Any]:
        """The event of a POSTed body and its card press (an app's XML callback)."""
        plain = self.crypt.decrypt_message(
            query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", ""), body
        )
        root = parse_xml(plain)
        return to_incoming(root), card_press(root)

    async def receive(self, request: web.Request) -> web.Response:
        q = request.query
        if not self._fresh(q.get("timestamp", "")):
            # A replayed (or badly clocked) callback; URL verification (GET) is not checked,
            # so WeCom's published vectors keep verifying.
            return self._refuse(request, WeComCryptoError("timestamp more than 5 minutes off"))
        body = await read_body(request, MAX_BODY)
        try:
            event, press = self._read(q, body)
        except BadMessage as exc:
            log.warning("WeCom callback: unreadable body from %s: %s", request.remote, exc)
            return web.Response(status=400, text="bad request")
        except WeComCryptoError as exc:
            return self._refuse(request, exc)
        if event is not None:
            # Store, then answer: WeCom hears "success" only once the event is committed,
            # so a store that is down makes WeCom deliver it again (it retries 3 times).
            task = self._schedule(event, press)
            try:
                await asyncio.shield(task)
            except StorageError as exc:
                log.warning("WeCom event %s not stored, answered 503: %s", event.event_id, exc)
                return web.Response(status=503, text="store unavailable")
        return web.Response(text="success")

    def _schedule(self, event: Incoming, press: CardPress | None = None) -> asyncio.Task[None]:
        previous = self._last.get(event.chat_id)
        task = asyncio.create_task(self._process(event, previous, press))
        self.tasks.add(task)
        self._last[event.chat_id] = task

        def done(finished: asyncio.Task[None]) -> None:
            self.tasks.discard(finished)
            if self._last.get(event.chat_id) is finished:
                del self._last[event.chat_id]
            if not finished.cancelled():
                finished.exception()  # retrieved here; the request reports it

        task.add_done_callback(done)
        return task

    async def _process(
        self, event: Incoming, previous: asyncio.Task[None] | None, press: CardPress | None
    ) -> None:
        """Handle one event after the previous one of its chat; `StorageError` passes up."""
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        if press is not None and not await close_card(
            self.app.services.db, press, self.app.services.clock.now()
        ):
            self.app.worker.wake()  # a card answered before: only the notice goes out
            return
        if self.inbox is not None and event.attachment is not None:
            event = await self.inbox.keep(event)
        try:
            await self.app.handle(await self._resolve_choice(event))
        except StorageError:
            raise
        except Exception:  # a handler bug: the pipeline already apologised where it could
            log.exception("WeCom event %s failed", event.event_id)

    async def _resolve_choice(self, event: Incoming) -> Incoming:
        """`#2` after a message with buttons presses its second button."""
        match = CHOICE.match(event.text) if event.payload is None else None
        if match is None:
            return event
        payload = await numbered_choice(self.app, event.chat_id, int(match.group(1)))
        if payload is None:
            return event
        return Incoming(
            event_id=event.event_id,
            sender=event.sender,
            chat_id=event.chat_id,
            chat_kind=event.chat_kind,
            chat_title=event.chat_title,
            payload=payload,
        )

    async def drain(self) -> None:
        """Finish every event already acknowledged (the stop function awaits this)."""
        self.stopping.set()
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)


__all__ = [
    "CALLBACK_PATH",
    "MediaInbox",
    "WeComCallback",
    "check_settings",
    "numbered_choice",
    "to_incoming",
]
