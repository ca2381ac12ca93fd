"""Sending on WeChat within its reach rules (微信发送: 客服消息窗口、额度、模板消息).

WeChat lets a 服务号 send a contact customer-service messages only for 48 hours after
the contact's last message, and only `QUOTA` of them per message the contact sends. Both
are state in the store (`wechat_contacts`), used atomically, so replicas and restarts
agree; WeChat's own answer (45015 window closed, 45047 quota used, 43004 unfollowed)
closes the window in the store too, in case our clock and WeChat's disagree.

A message that cannot go now:

- if it is a proactive notice (`payload["notice"]`, e.g. ``accepted``) with a template
  configured for its kind, a template message announces it — once, recorded in the store
  (`wechat_notices_sent`) — pointing back to the chat;
- then, template or not, it is held (`HoldUntilReachable`): it and the chat's later
  messages wait in the outbox, in order, until the contact writes again, when
  `bot/transports/wechat.py` releases them with a line saying how many waited.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import OrderedDict
from datetime import timedelta, tzinfo
from typing import Any

from bot.transports.base import HoldUntilReachable, PermanentError, TransientError
from bot.transports.wechat_api import BadTemplate, Unreachable, WeChatApi
from bot.transports.wechat_batch import Batcher
from bot.transports.wechat_render import (
    Image,
    Template,
    bodies,
    buttons_of,
    image_of,
    menu_fits,
    template_body,
    waiting_header,
    with_header,
)
from domain.clock import Clock
from handlers.chat import Outgoing
from storage.db import Database
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

PLATFORM = "wechat"
WINDOW = timedelta(hours=48)
QUOTA = 5  # customer-service messages per message the contact sends


class WeChatTransport:
    """Deliver outbox payloads to WeChat contacts (their OpenID is the chat id)."""

    platform = PLATFORM

    def __init__(
        self,
        api: WeChatApi,
        db: Database,
        clock: Clock,
        *,
        templates: dict[str, Template],
        link_url: str | None,
        default_lang: str,
        timezone: tzinfo,
        quota: int = QUOTA,
        window: timedelta = WINDOW,
    ) -> None:
        self.api = api
        self.db = db
        self.clock = clock
        self.templates = templates
        self.link_url = link_url
        self.default_lang = default_lang
        self.timezone = timezone
        self.quota = quota
        self.window = window
        self.batcher = Batcher(db)
        # Parts of a message already delivered, so a retry does not send them again.
        self._progress: OrderedDict[str, int] = OrderedDict()

    async def send(self, chat_external_id: str, payload: dict[str, Any]) -> None:
        """Deliver one message, announce it by template, or hold it; or raise TransientError."""
        openid = chat_external_id
        image = None
        if payload.get("attachment"):  # a file on disk is looked at off the event loop
            image = await asyncio.to_thread(image_of, Outgoing.from_payload(payload))
        # The message's identity leaves out the "waited" count its release may add.
        content = {k: v for k, v in payload.items() if k != "waiting"}
        key = hashlib.sha256(
            (openid + json.dumps(content, sort_keys=True, ensure_ascii=False)).encode()
        ).hexdigest()
        done = self._progress.get(key, 0)

        # One transaction (shared with other lanes') for the language of the numbered
        # options' hint and the quota.
        async def admit(uow: UnitOfWork) -> tuple[list[dict[str, Any]], int, bool]:
            lang = self.default_lang
            buttons = buttons_of(payload)
            waited = payload.get("waiting") if done == 0 else None
            # Only numbered options and the "waited" line need the person's language.
            if waited or (buttons and not menu_fits(buttons)):
                person = await uow.people.by_account(PLATFORM, openid)
                lang = person.lang if person is not None else lang
            parts = bodies(payload, lang, image)
            if waited:
                parts = with_header(parts, waiting_header(lang, int(waited)))
            repo, now = uow.wechat, self.clock.now()
            if len(parts) - done <= self.quota:
                # Admitted whole, so that a limit never cuts a message in half …
                count = len(parts) - done
                return parts, count, await repo.take_sends(openid, count, now, self.window)
            # … unless it is longer than a whole quota: then as much as the window allows.
            count = await repo.take_up_to(openid, self.quota, now, self.window)
            return parts, count, count > 0

        parts, count, admitted = await self.batcher.run(admit)
        if not admitted:
            reason = "the 48-hour window is closed or its quota used"
            await self._unreachable(openid, payload, key, reason)
        sent = 0
        try:
            for body in parts[done : done + count]:
                if body["msgtype"] == "image" and image is not None:
                    body = {**body, "image": {"media_id": await self._upload(image)}}
                await self.api.send_custom({"touser": openid, **body})
                sent += 1
        except Unreachable as exc:
            self._note_progress(key, done + sent)
            async with UnitOfWork(self.db) as uow:
                await uow.wechat.close_window(openid)
            await self._unreachable(openid, payload, key, str(exc))
        except TransientError:
            self._note_progress(key, done + sent)
            async with UnitOfWork(self.db) as uow:
                await uow.wechat.give_back(openid, count - sent)
            raise
        if done + count < len(parts):
            self._note_progress(key, done + count)
            raise HoldUntilReachable("the rest of a long message waits for the next window")
        self._progress.pop(key, None)

    def _note_progress(self, key: str, parts_done: int) -> None:
        if parts_done:
            self._progress[key] = parts_done
            while len(self._progress) > 1000:
                self._progress.popitem(last=False)

    async def _upload(self, image: Image) -> str:
        data = await asyncio.to_thread(image.path.read_bytes)
        return await self.api.upload_media(image.filename, data, "image")

    async def _unreachable(
        self, openid: str, payload: dict[str, Any], key: str, reason: str
    ) -> None:
        """Announce a notice by template (once), then hold the message; always raises."""
        kind = payload.get("notice")
        template = self.templates.get(kind) if isinstance(kind, str) else None
        if template is not None:
            async with UnitOfWork(self.db) as uow:
                already = await uow.wechat.notice_sent(key)
                person = await uow.people.by_account(PLATFORM, openid)
            lang = person.lang if person is not None else self.default_lang
            if not already:
                now = self.clock.now()
                body = template_body(
                    str(kind),
                    template,
                    openid,
                    payload,
                    lang,
                    now.astimezone(self.timezone),
                    self.link_url,
                )
                try:
                    await self.api.send_template(body)
                except BadTemplate as exc:
                    log.error("%s: check DAIBAN_WECHAT_TEMPLATES (kind %s)", exc, kind)
                except Unreachable as exc:  # unfollowed: the message still waits
                    log.info("WeChat template to a contact not sent: %s", exc)
                except PermanentError as exc:  # e.g. a field the template refuses
                    log.error("WeChat template of kind %s refused: %s", kind, exc)
                else:
                    async with UnitOfWork(self.db) as uow:
                        await uow.wechat.record_notice(key, now)
                    reason = f"{reason}; announced by a template message"
        raise HoldUntilReachable(f"WeChat: {reason}")


__all__ = ["PLATFORM", "QUOTA", "WINDOW", "WeChatTransport"]
