"""The WeChat Official Account API client (微信公众平台接口, 服务号).

Calls: the access_token (`cgi-bin/token`), customer-service messages
(`cgi-bin/message/custom/send`), template messages (`cgi-bin/message/template/send`),
temporary media (`cgi-bin/media/upload`, `cgi-bin/media/get`) and the custom menu
(`cgi-bin/menu/get`, `cgi-bin/menu/create`).

The access_token is kept in the store (`platform_tokens`), so every replica uses the same
one and a restart does not fetch a new one (WeChat limits how often it may be fetched).
When WeChat refuses it (40001 invalid, 42001 expired) it is dropped — unless another
replica replaced it meanwhile — fetched again and the call made once more. Neither the
token nor the secret is ever logged: URLs carry them, so URLs are never logged either.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from bot.transports.base import PermanentError, TransientError
from bot.transports.json_http import JsonHttp
from domain.clock import Clock
from storage.db import Database
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# 全局返回码 (developers.weixin.qq.com, "全局返回码说明"):
TOKEN_ERRORS = {40001, 40014, 42001}  # invalid / expired access_token: fetch anew, once
WINDOW_CLOSED = 45015  # "response out of time limit or subscription is canceled"
QUOTA_USED = 45047  # "out of response count limit"
NOT_FOLLOWING = 43004  # "require subscribe": the contact unfollowed
BAD_TEMPLATE = 40037  # invalid template_id
RATE_ERRORS = {45009, 45011}  # the API's daily or per-minute limit
BUSY = {-1}  # 系统繁忙
# The deployment is wrong, not the message (AppID, secret, IP allow-list): messages wait
# while an operator fixes it.
CONFIG_ERRORS = {40013, 40125, 40164, 41002, 41004, 48001, 61004}
CONFIG_RETRY = 300.0
MENU_MISSING = 46003  # menu/get when no menu was ever set



class Unreachable(PermanentError):
    """WeChat will not deliver a customer-service message to this contact now: the window
    is closed (45015), its quota used (45047) or the contact unfollowed (43004)."""

    def __init__(self, reason: str, code: int) -> None:
        super().__init__(reason)
        self.code = code


class BadTemplate(PermanentError):
    """The configured template id is not one of the account's templates (40037)."""


def check(data: dict[str, Any], what: str) -> None:
    """Turn a WeChat errcode into our errors (0 passes)."""
    code = data.get("errcode", 0)
    if code in (0, None):
        return
    reason = f"WeChat {what}: errcode {code} ({str(data.get('errmsg', ''))[:80]})"
    if code in (WINDOW_CLOSED, QUOTA_USED, NOT_FOLLOWING):
        raise Unreachable(reason, int(code))
    if code == BAD_TEMPLATE:
        raise BadTemplate(reason)
    if code in RATE_ERRORS:
        raise TransientError(reason, retry_after=60.0)
    if code in BUSY or code in TOKEN_ERRORS:
        raise TransientError(reason, retry_after=5.0)
    if code in CONFIG_ERRORS:
        log.error("%s: check the WeChat settings of this deployment", reason)
        raise TransientError(reason, retry_after=CONFIG_RETRY)
    raise PermanentError(reason)


class WeChatApi(JsonHttp):
    """A small client of the 服务号 server API, its access_token shared through the store."""

    def __init__(self, base_url: str, app_id: str, secret: str, db: Database, clock: Clock) -> None:
        super().__init__("WeChat", base_url)
        self.app_id = app_id
        self._secret = secret
        self._db = db
        self._clock = clock
        self._token_name = f"wechat:{app_id}"
        self._token_lock = asyncio.Lock()
        self._known: tuple[str, datetime] | None = None  # the token and until when
        self.token_fetches = 0  # how many times this process asked WeChat for a token

    def __repr__(self) -> str:  # never show the secret
        return f"WeChatApi(app_id={self.app_id!r})"

    # -- the access token -----------------------------------------------------------------
    async def access_token(self) -> str:
        """The shared token (remembered here until it expires or is refused, else read from
        the store), fetched from WeChat when none is valid."""
        now = self._clock.now()
        if self._known is not None and now < self._known[1]:
            return self._known[0]
        async with UnitOfWork(self._db) as uow:
            stored = await uow.wechat.token_until(self._token_name, now)
        if stored is not None:
            self._known = stored
            return stored[0]
        async with self._token_lock:  # one fetch per process; the store serves the others
            async with UnitOfWork(self._db) as uow:
                stored = await uow.wechat.token_until(self._token_name, now)
            if stored is not None:
                self._known = stored
                return stored[0]
            self.token_fetches += 1
            data = await self._request(
                "GET",
                "/cgi-bin/token",
                {"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret},
            )
            check(data, "token")
            token = str(data["access_token"])
            # Renew early, so a token never expires between reading and using it.
            lifetime = float(data.get("expires_in", 7200))
            margin = min(300.0, lifetime / 10)
            expires = self._clock.now() + timedelta(seconds=max(1.0, lifetime - margin))
            async with UnitOfWork(self._db) as uow:
                repo = uow.wechat
                self._known = await repo.save_token(self._token_name, token, expires, now)
            log.info("WeChat: new access token, valid for %d s", int(lifetime))
            return self._known[0]

    async def _drop_token(self, token: str) -> None:
        self._known = None
        async with UnitOfWork(self._db) as uow:
            await uow.wechat.drop_token(self._token_name, token)

    async def _with_token(
        self, what: str, attempt: Callable[[str], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """`attempt(token)`; a refused token is replaced and the attempt made once more."""
        token = await self.access_token()
        data = await attempt(token)
        if data.get("errcode") in TOKEN_ERRORS:
            log.info("WeChat %s: the access token was refused; fetching a new one", what)
            await self._drop_token(token)
            data = await attempt(await self.access_token())
        check(data, what)
        return data

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` to an access_token API."""
        return await self._with_token(
            path, lambda token: self._request("POST", path, {"access_token": token}, body)
        )

    # -- the calls --------------------------------------------------------------------------
    async def send_custom(self, body: dict[str, Any]) -> None:
        """A customer-service message (message/custom/send); `Unreachable` outside the window."""
        await self.call("/cgi-bin/message/custom/send", body)

    async def send_template(self, body: dict[str, Any]) -> None:
        """A template message (message/template/send)."""
        await self.call("/cgi-bin/message/template/send", body)

    async def upload_media(self, filename: str, data: bytes, kind: str = "image") -> str:
        """Upload temporary media (media/upload, kept 3 days); its media_id."""
        path = "/cgi-bin/media/upload"

        async def attempt(token: str) -> dict[str, Any]:
            form = aiohttp.FormData(quote_fields=False)
            form.add_field(
                "media", data, filename=filename, content_type="application/octet-stream"
            )
            return await self._request(
                "POST", path, {"access_token": token, "type": kind}, form=form
            )

        answer = await self._with_token(path, attempt)
        if not answer.get("media_id"):
            raise TransientError(f"WeChat {path}: no media_id in the answer")
        return str(answer["media_id"])

    async def download_media(self, media_id: str) -> tuple[str, bytes]:
        """What a contact sent (media/get): (MIME type, content)."""
        path = "/cgi-bin/media/get"
        got: dict[str, tuple[str, str, bytes]] = {}

        async def attempt(token: str) -> dict[str, Any]:
            answer, got["file"] = await self._fetch(
                path, {"access_token": token, "media_id": media_id}
            )
            return answer

        await self._with_token(path, attempt)
        _, mime, body = got["file"]
        return mime, body

    async def current_menu(self) -> list[dict[str, Any]] | None:
        """The account's custom menu buttons (menu/get); None when it has none."""
        path = "/cgi-bin/menu/get"

        async def attempt(token: str) -> dict[str, Any]:
            answer = await self._request("GET", path, {"access_token": token})
            return (
                {"errcode": 0, "missing": True} if answer.get("errcode") == MENU_MISSING else answer
            )

        answer = await self._with_token(path, attempt)
        if answer.get("missing"):
            return None
        return list((answer.get("menu") or {}).get("button") or [])

    async def create_menu(self, buttons: list[dict[str, Any]]) -> None:
        await self.call("/cgi-bin/menu/create", {"button": buttons})


__all__ = [
    "QUOTA_USED",
    "WINDOW_CLOSED",
    "BadTemplate",
    "Unreachable",
    "WeChatApi",
    "check",
]
