"""Telegram (电报): long polling or a webhook in, the outbox transport out.

`start_telegram` picks the library (aiogram by default, python-telegram-bot with
``DAIBAN_TELEGRAM_LIBRARY=ptb``), registers the transport, the command menu per language,
and starts receiving. Both libraries share everything here; each adapter only speaks the
Bot API through its library.

Inbound once: polling confirms a batch (the next ``getUpdates`` offset) only after every
update in it was handled and recorded, and a webhook answers 200 only then; a redelivered
``update_id`` is found in the inbound record and ignored (handlers/pipeline.py). Updates
of one chat are handled in order; different chats side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import urlparse

from aiohttp import web

from bot.config import ConfigError, Settings
from bot.ratelimit import Rate, RateLimiter, RatePolicy
from bot.transports.base import PermanentError, TransientError
from bot.transports.host import TransportHost
from bot.transports.http_body import read_body
from bot.transports.telegram_media import TelegramMediaInbox, media_folder
from bot.transports.telegram_render import (
    CAPTION_LIMIT,
    PLATFORM,
    PayloadBook,
    incoming_from_update,
    is_group_chat,
    split_text,
    visible_len,
)
from handlers.chat import Incoming
from handlers.commands import command_infos
from handlers.i18n import DEFAULT_LANG, gettext
from handlers.router import Router
from storage.db import StorageError
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# An update is a few KB (a message, never its files); 1 MB leaves room and refuses absurd bodies.
MAX_UPDATE_BYTES = 1024 * 1024
POLL_TIMEOUT = 25  # seconds a getUpdates call may wait for news
BATCH_EVENTS = 50  # events of a polling batch handled in one transaction
# Bot API calls at once. Telegram takes about 30 messages/s, which 8 calls in flight keep
# up at round trips of up to ~250 ms; more only queue inside the HTTP client's pool,
# whose bookkeeping (httpcore, under PTB) grows with every request waiting there.
IN_FLIGHT = 8
COMMAND_LANGUAGES: dict[str | None, str] = {None: DEFAULT_LANG, "zh": "zh_CN", "en": "en"}

Keyboard = list[list[tuple[str, str]]]


class BotApiClient(Protocol):
    """The Bot API as each library adapter offers it (errors already mapped)."""

    library: str
    username: str

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def get_updates(self, offset: int | None, wait_seconds: int) -> list[Any]: ...
    def parse_update(self, data: dict[str, Any]) -> Any: ...
    async def answer_callback(self, callback_id: str) -> None: ...
    async def download(self, file_id: str) -> bytes: ...
    async def send_message(
        self, chat_id: str, html_text: str, keyboard: Keyboard | None
    ) -> None: ...
    async def send_document(
        self,
        chat_id: str,
        ref: str,
        filename: str,
        caption_html: str | None,
        keyboard: Keyboard | None,
        upload: bool = False,
    ) -> None: ...
    async def set_commands(self, commands: list[tuple[str, str]], language: str | None) -> None: ...
    async def set_webhook(self, url: str, secret: str) -> None: ...
    async def delete_webhook(self) -> None: ...


def make_client(settings: Settings) -> BotApiClient:
    """The adapter of `settings.telegram_library`."""
    assert settings.telegram_token is not None
    token = settings.telegram_token.get_secret_value()
    url, timeout = settings.telegram_api_url, settings.telegram_request_timeout
    if settings.telegram_library == "ptb":
        from bot.transports.telegram_ptb import PtbClient

        return PtbClient(token, url, timeout)
    from bot.transports.aiogram_lazy import import_aiogram

    import_aiogram()  # first: aiogram's ~300 types are then built when used, not all now
    from bot.transports.telegram_aiogram import AiogramClient

    return AiogramClient(token, url, timeout)


def rate_policy(settings: Settings) -> RatePolicy:
    """Telegram's limits from the settings (30/s overall, 1/s per chat, 20/min per group)."""
    return RatePolicy(
        overall=Rate.per_second(settings.telegram_rate_global),
        per_chat=Rate.per_second(settings.telegram_rate_chat),
        per_group=Rate.per_minute(settings.telegram_rate_group),
        is_group=is_group_chat,
    )


# -- out -------------------------------------------------------------------------------
class TelegramTransport:
    """Delivers outbox payloads: text parts, documents and inline keyboards, within limits."""

    platform = PLATFORM

    def __init__(self, client: BotApiClient, limiter: RateLimiter, book: PayloadBook) -> None:
        self.client = client
        self.limiter = limiter
        self.book = book
        # Parts of a split message already delivered, so a retry does not repeat them.
        self._progress: OrderedDict[str, int] = OrderedDict()
        self._in_flight = asyncio.Semaphore(IN_FLIGHT)

    async def _call(self, chat_id: str, call: Callable[[], Awaitable[None]]) -> None:
        async with self.limiter.slot(chat_id), self._in_flight:
            try:
                await call()
            except TransientError as exc:
                if exc.retry_after is not None:
                    self.limiter.hold_chat(chat_id, exc.retry_after)
                raise

    async def send(self, chat_external_id: str, payload: dict[str, Any]) -> None:
        """Send one outbox payload; raises `TransientError` or `PermanentError`."""
        chat = chat_external_id
        keyboard = self.book.keyboard(payload) or None
        attachment = payload.get("attachment")
        parts = split_text(payload)
        steps: list[Callable[[], Awaitable[None]]] = []
        if attachment:
            caption = (
                parts[0] if len(parts) == 1 and visible_len(parts[0]) <= CAPTION_LIMIT else None
            )
            if caption is None:
                steps += [_message(self.client, chat, part, None) for part in parts]
            steps.append(
                _document(self.client, chat, attachment, caption, keyboard)  # buttons last
            )
        else:
            parts = parts or ["·"]  # the Bot API refuses an empty text
            steps += [
                _message(self.client, chat, part, keyboard if i == len(parts) - 1 else None)
                for i, part in enumerate(parts)
            ]
        if len(steps) == 1:
            await self._call(chat, steps[0])
            return
        key = hashlib.sha1(
            (chat + json.dumps(payload, sort_keys=True, ensure_ascii=False)).encode()
        ).hexdigest()
        done = self._progress.get(key, 0)
        for index in range(done, len(steps)):
            await self._call(chat, steps[index])
            self._progress[key] = index + 1
            while len(self._progress) > 1000:
                self._progress.popitem(last=False)
        self._progress.pop(key, None)


def _message(
    client: BotApiClient, chat: str, html_text: str, keyboard: Keyboard | None
) -> Callable[[], Awaitable[None]]:
    return lambda: client.send_message(chat, html_text, keyboard)


def _document(
    client: BotApiClient,
    chat: str,
    attachment: dict[str, Any],
    caption: str | None,
    keyboard: Keyboard | None,
) -> Callable[[], Awaitable[None]]:
    ref, name = str(attachment.get("ref") or ""), str(attachment.get("filename") or "file")
    if not ref:
        raise PermanentError("attachment without a file reference")
    # A path on this machine is uploaded; anything else is a Telegram file_id.
    upload = os.path.isfile(ref)
    return lambda: client.send_document(chat, ref, name, caption, keyboard, upload)


# -- in --------------------------------------------------------------------------------
class Inbound:
    """Turns updates into `Incoming` events and hands them to the app, once, in order."""

    def __init__(
        self,
        app: TransportHost,
        client: BotApiClient,
        book: PayloadBook,
        media: TelegramMediaInbox | None = None,
    ) -> None:
        self.app = app
        self.client = client
        self.book = book
        self.media = media  # downloads documents people send (the archive keeps them)
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # chat -> (lock, users)
        self._background: set[asyncio.Task[None]] = set()

    async def _answer(self, callback_id: str) -> None:
        try:
            await self.client.answer_callback(callback_id)
        except (TransientError, PermanentError) as exc:  # a late answer is harmless
            log.debug("answerCallbackQuery %s: %s", callback_id, exc)

    async def _payload(self, data: str, chat_id: str) -> str:
        known = self.book.lookup(data)
        if known is not None:
            return known
        async with UnitOfWork(self.app.services.db) as uow:
            payloads = await uow.outbox.recent_payloads(PLATFORM, chat_id, limit=500)
        return self.book.resolve_from(data, payloads) or data

    async def _event(self, update: Any) -> Incoming | None:
        try:
            event = incoming_from_update(update, self.client.username)
        except Exception:  # one odd update must not stop the others
            log.exception("telegram update %s could not be read", update.update_id)
            return None
        query = getattr(update, "callback_query", None)
        if query is not None:
            task = asyncio.create_task(self._answer(query.id))  # the spinner stops at once
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        if event is not None and event.attachment is not None and self.media is not None:
            event = await self.media.keep(event)
        if event is not None and event.payload is not None:
            payload = await self._payload(event.payload, event.chat_id)
            if payload != event.payload:
                event = Incoming(
                    event_id=event.event_id,
                    sender=event.sender,
                    chat_id=event.chat_id,
                    chat_kind=event.chat_kind,
                    chat_title=event.chat_title,
                    payload=payload,
                )
        return event

    async def _handle_chat(self, chat_id: str, events: Sequence[Incoming]) -> None:
        lock, users = self._locks.get(chat_id, (asyncio.Lock(), 0))
        self._locks[chat_id] = (lock, users + 1)
        try:
            async with lock:
                for event in events:
                    await self.app.handle(event)
        finally:
            lock, users = self._locks[chat_id]
            if users <= 1:
                del self._locks[chat_id]
            else:
                self._locks[chat_id] = (lock, users - 1)

    async def handle_updates(self, updates: Sequence[Any]) -> None:
        """Handle updates: a polling batch in update order, in one transaction per
        `BATCH_EVENTS` (on SQLite every transaction waits its turn, so fewer is faster);
        a single webhook update under its chat's lock, so each chat stays in order.

        Raises `StorageError` when the store is down; nothing unrecorded may be confirmed.
        """
        events = [e for e in [await self._event(u) for u in updates] if e is not None]
        if len(events) > 1:  # a polling batch: one transaction per slice, in update order
            try:
                for start in range(0, len(events), BATCH_EVENTS):
                    await self.app.handle_batch(events[start : start + BATCH_EVENTS])
            finally:
                self.app.worker.wake()  # the replies are in the outbox: deliver them now
            return
        by_chat: dict[str, list[Incoming]] = {}
        for event in events:
            by_chat.setdefault(event.chat_id, []).append(event)
        results = await asyncio.gather(
            *(self._handle_chat(chat, events) for chat, events in by_chat.items()),
            return_exceptions=True,
        )
        if by_chat:
            self.app.worker.wake()  # the replies are in the outbox: deliver them now
        for result in results:
            if isinstance(result, BaseException):
                raise result


async def poll(client: BotApiClient, inbound: Inbound) -> None:
    """Long polling; a batch is confirmed (next offset) only once handled."""
    offset: int | None = None
    failures = 0
    while True:
        try:
            updates = await client.get_updates(offset, POLL_TIMEOUT)
            await inbound.handle_updates(updates)
        except (TransientError, PermanentError, StorageError) as exc:
            failures += 1
            delay = min(2**failures, 60)
            log.warning("telegram polling: %s; again in %ss", exc, delay)
            await asyncio.sleep(delay)
            continue
        failures = 0
        if updates:
            offset = max(u.update_id for u in updates) + 1


def webhook_secret(settings: Settings) -> str:
    """The configured secret, or one derived from the token (the check is never off)."""
    if settings.telegram_webhook_secret is not None:
        return settings.telegram_webhook_secret.get_secret_value()
    assert settings.telegram_token is not None
    token = settings.telegram_token.get_secret_value()
    return hashlib.sha256(f"daiban-webhook:{token}".encode()).hexdigest()[:48]


def webhook_handler(
    client: BotApiClient, inbound: Inbound, secret: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("telegram webhook: wrong secret token from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        body = await read_body(request, MAX_UPDATE_BYTES)
        try:
            update = client.parse_update(json.loads(body))
        except Exception:
            log.warning("telegram webhook: unreadable update", exc_info=True)
            return web.Response(status=400, text="bad update")
        try:
            await inbound.handle_updates([update])
        except StorageError:
            return web.Response(status=503, text="try again")  # Telegram delivers it again
        return web.Response(text="ok")

    return receive


async def register_commands(client: BotApiClient, router: Router) -> None:
    """setMyCommands for the default language and for zh and en clients."""
    everyone = [c for c in command_infos(router) if not c.roles]
    for language, lang in COMMAND_LANGUAGES.items():
        commands = [(c.name, gettext(lang, c.description)) for c in everyone]
        try:
            await client.set_commands(commands, language)
        except (TransientError, PermanentError) as exc:
            log.warning("setMyCommands (%s) failed: %s", language or "default", exc)


async def start_telegram(
    app: TransportHost, settings: Settings, web_app: web.Application
) -> Callable[[], Awaitable[None]]:
    """Connect Daiban to Telegram; returns the function that disconnects it."""
    client = make_client(settings)
    try:
        await client.start()
    except (TransientError, PermanentError) as exc:
        await client.close()
        raise ConfigError(
            f"DAIBAN_TELEGRAM_TOKEN / DAIBAN_TELEGRAM_API_URL: the Bot API at "
            f"{settings.telegram_api_url} did not accept getMe ({exc})."
        ) from None
    book = PayloadBook()
    limiter = RateLimiter(rate_policy(settings))
    app.transports[PLATFORM] = TelegramTransport(client, limiter, book)
    # The lease is a delivery setting; bot/app.py builds the worker before settings reach it.
    app.worker.lease = timedelta(seconds=settings.outbox_lease_seconds)
    folder = media_folder(settings)
    app.services.document_folders[f"{folder}/"] = folder  # the archive reads them there
    inbound = Inbound(app, client, book, TelegramMediaInbox(client.download, folder))
    await register_commands(client, app.services.router)
    task: asyncio.Task[None] | None = None
    if settings.telegram_mode == "webhook":
        assert settings.telegram_webhook_url is not None
        path = urlparse(settings.telegram_webhook_url).path or "/telegram/webhook"
        secret = webhook_secret(settings)
        web_app.router.add_post(path, webhook_handler(client, inbound, secret))
        try:
            await client.set_webhook(settings.telegram_webhook_url, secret)
        except (TransientError, PermanentError) as exc:
            log.error("setWebhook failed: %s", exc)
    else:
        with contextlib.suppress(TransientError, PermanentError):
            await client.delete_webhook()  # getUpdates is refused while a webhook is set
        task = asyncio.create_task(poll(client, inbound))
    log.info(
        "Telegram connected as @%s via %s (%s)",
        client.username,
        client.library,
        settings.telegram_mode,
    )

    async def stop() -> None:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        app.transports.pop(PLATFORM, None)
        await client.close()

    return stop


__all__ = ["Inbound", "TelegramTransport", "make_client", "rate_policy", "start_telegram"]
