"""WeChat Official Account (微信服务号): the callback endpoint and the wiring of the channel.

`/wechat/callback` answers WeChat's URL check (GET: `signature` over the Token, timestamp
and nonce; the `echostr` comes back as it is) and receives messages in safe mode (POST,
`encrypt_type=aes`, `msg_signature`: the WeCom crypto family with the AppID as the receive
id, so `wecom_crypto`'s primitives do the work). Plain mode, whose signature covers no
message, is refused unless `DAIBAN_WECHAT_PLAIN_MODE` allows it.

A POST is refused without any effect when its signature is wrong, its timestamp is more
than `MAX_SKEW` seconds away, it decrypts to another AppID, or its body (or the
decrypted message) is not UTF-8 `<xml>` without a DTD (`defusedxml`). A message WeChat
delivers again (three retries, same MsgId; events: FromUserName + CreateTime + Event) is
acknowledged and ignored: nothing of it is done twice. Otherwise the event is **handled
and stored before** the answer `success`, so an acknowledged message is never lost; a
store that is down answers 503 and WeChat retries.

Each new message from a contact opens their 48-hour window with a fresh quota and
releases what was held for them, the first of it saying how many waited. A follow
(`subscribe`) is `/start` (with the scene of a parameter QR code, `/start CODE`: an invite
code), a menu click is its key (a key starting with "/" is a command), a tap on a menu
message (`bizmsgmenuid`) or `#2` presses that button.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from aiohttp import web

from bot.config import ConfigError, Settings
from bot.transports.host import TransportHost
from bot.transports.media_store import keep_bytes
from bot.transports.media_store import media_folder as shared_folder
from bot.transports.wechat_api import WeChatApi
from bot.transports.wechat_batch import Batcher
from bot.transports.wechat_menu import keep_menu
from bot.transports.wechat_parse import MAX_BODY, Refused, parse_body, text_of, to_incoming
from bot.transports.wechat_render import (
    Template,
    choice_payload,
    parse_templates,
)
from bot.transports.wechat_send import PLATFORM, QUOTA, WINDOW, WeChatTransport
from bot.transports.wecom_crypto import WeComCryptoError, WXBizMsgCrypt, signature
from handlers.chat import Attachment, Incoming
from storage.db import StorageError
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

CALLBACK_PATH = "/wechat/callback"
MAX_SKEW = 300  # seconds: a POST older (or newer) than this is a replay or a wrong clock
CHOICE = re.compile(r"^\s*[#＃]\s*(\d{1,2})\s*$")
SWEEP_SECONDS = 30.0
BATCH = 50  # events handled in one transaction at most (as a Telegram polling batch)
MEDIA_WAIT = 3.0  # seconds to fetch an image before answering (WeChat waits 5)


def check_settings(settings: Settings) -> tuple[str, str, str | None, dict[str, Template]]:
    """(secret, token, AES key, templates), validated; `ConfigError` names the variable.

    The AES key may be left out only when plain mode is allowed (`DAIBAN_WECHAT_PLAIN_MODE`).
    """
    required = [
        ("DAIBAN_WECHAT_APP_SECRET", settings.wechat_app_secret),
        ("DAIBAN_WECHAT_TOKEN", settings.wechat_token),
    ]
    if not settings.wechat_plain_mode or settings.wechat_aes_key is not None:
        required.append(("DAIBAN_WECHAT_AES_KEY", settings.wechat_aes_key))
    for name, value in required:
        if value is None or not value.get_secret_value():
            raise ConfigError(f"{name} must be set when DAIBAN_WECHAT_APP_ID is set.")
    assert settings.wechat_app_secret and settings.wechat_token
    aes_key = settings.wechat_aes_key.get_secret_value() if settings.wechat_aes_key else None
    try:
        if aes_key is not None:
            WXBizMsgCrypt("t", aes_key, "a")
    except ValueError:
        raise ConfigError(
            "DAIBAN_WECHAT_AES_KEY must be the 43-character EncodingAESKey of the account "
            "(公众平台 → 设置与开发 → 基本配置)."
        ) from None
    try:
        templates = parse_templates(settings.wechat_templates)
    except ValueError as exc:
        raise ConfigError(f"DAIBAN_WECHAT_TEMPLATES: {exc}.") from None
    return (
        settings.wechat_app_secret.get_secret_value(),
        settings.wechat_token.get_secret_value(),
        aes_key,
        templates,
    )


# -- the callback endpoint ------------------------------------------------------------------
class WeChatCallback:
    """GET: the URL check; POST: verify, decrypt, handle and store, then answer `success`."""

    def __init__(
        self,
        host: TransportHost,
        crypt: WXBizMsgCrypt | None,
        token: str,
        *,
        api: WeChatApi | None = None,
        media_folder: Path | None = None,
        plain_mode: bool = False,
    ) -> None:
        self.host = host
        self.crypt = crypt
        self._token = token
        self.plain_mode = plain_mode
        self.api = api
        self.media_folder = media_folder
        self.batcher = Batcher(host.services.db)
        self._inbox: list[tuple[Incoming, asyncio.Future[None]]] = []
        self._handler: asyncio.Task[None] | None = None

    def _refuse(self, request: web.Request, reason: object) -> web.Response:
        # Never log the query (signatures) or the body; the reason and the peer are enough.
        log.warning("WeChat callback refused from %s: %s", request.remote, reason)
        return web.Response(status=403, text="forbidden")

    def _signed(self, q: Any) -> bool:
        expected = signature(self._token, q.get("timestamp", ""), q.get("nonce", ""), "")
        return hmac.compare_digest(expected, q.get("signature", "").lower())

    async def verify_url(self, request: web.Request) -> web.Response:
        q = request.query
        if not self._signed(q) or not q.get("echostr"):
            return self._refuse(request, "URL check with a wrong signature")
        return web.Response(text=q["echostr"], content_type="text/plain")

    def _fresh(self, stamp: str) -> bool:
        try:
            sent = int(stamp)
        except ValueError:
            return False
        return abs(self.host.services.clock.now().timestamp() - sent) <= MAX_SKEW

    async def receive(self, request: web.Request) -> web.Response:
        q = request.query
        safe = q.get("encrypt_type") == "aes"
        if not safe and not self.plain_mode:
            return self._refuse(request, "plain mode (only safe mode is accepted)")
        if not self._fresh(q.get("timestamp", "")):
            return self._refuse(request, "stale or missing timestamp")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return self._refuse(request, "body too large")
        try:
            if safe:
                root = self._open(q, parse_body(await request.read()))
            elif self._signed(q):  # plain mode: the signature covers no body; allowed only
                root = parse_body(await request.read())  # when the deployment said so
            else:
                raise Refused("plain-mode callback with a wrong signature")
        except (Refused, WeComCryptoError) as exc:
            return self._refuse(request, exc)
        try:
            await self._take(root)
        except StorageError as exc:
            # Not stored, so not acknowledged: WeChat delivers it again.
            log.warning("WeChat message not stored (%s); WeChat will retry", exc)
            return web.Response(status=503, text="retry")
        return web.Response(text="success")

    def _open(self, q: Any, envelope: Element) -> Element:
        """The message inside a safe-mode envelope (signature checked, then decrypted)."""
        encrypted = text_of(envelope, "Encrypt")
        if self.crypt is None:
            raise Refused("safe mode without DAIBAN_WECHAT_AES_KEY")
        if not encrypted:
            raise Refused("no Encrypt element")
        self.crypt.verify(
            q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", ""), encrypted
        )
        return parse_body(self.crypt.decrypt(encrypted).encode("utf-8"))

    async def _take(self, root: Element) -> None:
        if text_of(root, "MsgType") == "event" and text_of(root, "Event").lower() == "unsubscribe":
            async with UnitOfWork(self.host.services.db) as uow:
                await uow.wechat.close_window(text_of(root, "FromUserName")[:64])
            return
        event = to_incoming(root)
        if event is None:
            return
        if not await self._reopen(event):
            return  # WeChat's retry, or a replay: acknowledged, nothing done again
        event = await self._resolve_choice(event, text_of(root, "bizmsgmenuid"))
        if event.attachment is not None:
            event = await self._keep_media(event)
        await self._handle(event)

    async def _handle(self, event: Incoming) -> None:
        """Handle and store the event, in one transaction with the events arriving at the
        same moment (`host.handle_batch`, as a Telegram polling batch); raises
        `StorageError` when the store is down, so the callback is not acknowledged."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._inbox.append((event, done))
        if self._handler is None or self._handler.done():
            self._handler = asyncio.create_task(self._handle_waiting())
        await done

    async def _handle_waiting(self) -> None:
        while self._inbox:
            batch, self._inbox = self._inbox[:BATCH], self._inbox[BATCH:]
            try:
                await self.host.handle_batch([event for event, _ in batch])
            except Exception as exc:
                for _, done in batch:
                    done.set_exception(exc)
            else:
                for _, done in batch:
                    done.set_result(None)
            self.host.worker.wake()

    async def _reopen(self, event: Incoming) -> bool:
        """A new message (not one handled before): the contact's window opens with a fresh
        quota and what was held for them is released. False for a message seen before."""
        now = self.host.services.clock.now()

        async def reopen(uow: UnitOfWork) -> bool:
            repo = uow.wechat
            if not await repo.note_new_message(event.chat_id, event.event_id, now, QUOTA):
                return False
            await self._release(uow, event.chat_id, now)
            return True

        return await self.batcher.run(reopen)

    async def _release(self, uow: UnitOfWork, openid: str, now: datetime) -> None:
        """Make what was held for the contact due, the first message saying how many."""
        released = await uow.held.release(PLATFORM, openid, now)
        if not released:
            return
        first = await uow.outbox.get(released[0])
        assert first is not None
        # The transport writes "N messages waited" above it in the person's language; N
        # counts the messages queued behind the held ones too.
        waiting = await uow.held.pending_in_chat(PLATFORM, openid)
        first.payload = {**first.payload, "waiting": waiting}
        log.info("WeChat: %d waiting message(s) released for a contact", waiting)

    async def sweep(self) -> int:
        """Release what was held while its contact was writing (the worker held it after
        their message had released the rest); how many contacts. Runs every `SWEEP_SECONDS`."""
        now = self.host.services.clock.now()
        async with UnitOfWork(self.host.services.db) as uow:
            missed = await uow.wechat.missed_releases(now, WINDOW)
            for openid in missed:
                await self._release(uow, openid, now)
        if missed:
            self.host.worker.wake()
        return len(missed)

    async def keep_sweeping(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await self.sweep()
            except Exception:  # the next round tries again
                log.exception("WeChat: releasing missed held messages failed")

    async def _resolve_choice(self, event: Incoming, menu_id: str) -> Incoming:
        """A tap on a menu message, or `#2`, is a press of that button."""
        match = CHOICE.match(event.text) if event.payload is None and not event.command else None
        if not menu_id.isdigit() and match is None:
            return event
        payload = await self._choice(
            event.chat_id,
            int(menu_id) if menu_id.isdigit() else None,
            int(match.group(1)) if match else None,
        )
        if payload is None:
            return event
        return Incoming(
            event_id=event.event_id, sender=event.sender, chat_id=event.chat_id, payload=payload
        )

    async def _choice(self, openid: str, menu_id: int | None, number: int | None) -> str | None:
        async with UnitOfWork(self.host.services.db) as uow:
            # The choices sit on one of the last few messages, or are stale.
            payloads = await uow.outbox.recent_payloads(
                PLATFORM, openid, limit=20, statuses=("sent", "sending")
            )
        for payload in payloads:
            buttons = [b for row in payload.get("buttons", []) for b in row]
            if not buttons:
                continue
            if menu_id is not None:
                found = choice_payload(payload, menu_id)
                if found is not None:
                    return found
                continue
            assert number is not None
            return str(buttons[number - 1]["payload"]) if 1 <= number <= len(buttons) else None
        return None

    async def _keep_media(self, event: Incoming) -> Incoming:
        """Fetch what the contact sent while WeChat still has it (3 days); on failure the
        MediaId stays the reference."""
        attachment = event.attachment
        if self.api is None or self.media_folder is None or attachment is None:
            return event
        try:
            mime, data = await asyncio.wait_for(
                self.api.download_media(attachment.ref), timeout=MEDIA_WAIT
            )
        except Exception as exc:  # never lose the message over its picture
            log.warning("WeChat media of event %s not fetched: %s", event.event_id, exc)
            return event
        path = await keep_bytes(self.media_folder, attachment.filename, data)
        if mime in {"", "application/octet-stream"}:
            mime = attachment.mime_type
        kept = Attachment(attachment.filename, mime, len(data), str(path))
        return Incoming(
            event_id=event.event_id,
            sender=event.sender,
            chat_id=event.chat_id,
            text=event.text,
            attachment=kept,
        )


def media_folder(settings: Settings) -> Path:
    """``wechat-media/`` beside a SQLite file, else under ``var/`` of the checkout."""
    return shared_folder(settings, "wechat-media")


async def start_wechat(
    host: TransportHost, settings: Settings, web_app: web.Application
) -> Callable[[], Awaitable[None]]:
    """Register the WeChat transport, the callback routes and the menu; returns the stop."""
    if not settings.wechat_app_id:
        raise ConfigError("DAIBAN_WECHAT_APP_ID must be set to use WeChat.")
    secret, token, aes_key, templates = check_settings(settings)
    services = host.services
    api = WeChatApi(
        settings.wechat_api_url, settings.wechat_app_id, secret, services.db, services.clock
    )
    host.transports[PLATFORM] = WeChatTransport(
        api,
        services.db,
        services.clock,
        templates=templates,
        link_url=settings.wechat_link_url,
        default_lang=settings.default_lang,
        timezone=services.timezone,
    )
    # What contacts send is kept in the media folder: the archive (一事一档) reads it there.
    services.document_folders[f"{media_folder(settings)}/"] = media_folder(settings)
    callback = WeChatCallback(
        host,
        WXBizMsgCrypt(token, aes_key, settings.wechat_app_id) if aes_key else None,
        token,
        api=api,
        media_folder=media_folder(settings),
        plain_mode=settings.wechat_plain_mode,
    )
    web_app.router.add_get(CALLBACK_PATH, callback.verify_url)
    web_app.router.add_post(CALLBACK_PATH, callback.receive)
    menu = asyncio.create_task(keep_menu(api, services.scheme))
    sweeper = asyncio.create_task(callback.keep_sweeping())
    log.info("WeChat: callback at %s, %d template kind(s)", CALLBACK_PATH, len(templates))

    async def stop() -> None:
        for task in (menu, sweeper):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await api.close()

    return stop


__all__ = [
    "CALLBACK_PATH",
    "WeChatCallback",
    "check_settings",
    "parse_body",
    "start_wechat",
    "to_incoming",
]
