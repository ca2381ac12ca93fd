"""The WeCom server API client (企业微信接口客户端): the access_token, sends, uploads, errors.

Every call goes through `WeComApi`; a WeCom errcode becomes our `TransientError` /
`PermanentError` in `check`, so the delivery worker knows whether to wait or give up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aiohttp

from bot.transports.base import PermanentError, TransientError, Unreachable
from bot.transports.json_http import JsonHttp

log = logging.getLogger(__name__)

PLATFORM = "wecom"
APPCHAT_PREFIX = "appchat:"

# 全局错误码 (developer.work.weixin.qq.com, "全局错误码"):
TOKEN_ERRORS = {40014, 42001}  # access_token invalid / expired: fetch a new one, retry once
RATE_ERRORS = {45009, 45033}  # API frequency limit / concurrency limit: back off
BUSY = {-1}  # 系统繁忙: "建议稍候重试"
# The deployment is wrong, not the message: secret, corp id, agent id, IP allow-list (60020).
# Messages wait (they are not failed) while an operator fixes it.
CONFIG_ERRORS = {40001, 40013, 40056, 40091, 41001, 48002, 60020}  # 40091: secret 不合法
CONFIG_RETRY = 300.0
UNREACHABLE_ERRORS = {60111, 81013}  # userid not found / user invalid (全局错误码)
# 发送应用消息: duplicate_check_interval "默认1800s，最大不超过4小时"; ten minutes covers a
# retry after a lost answer without hiding a reminder repeated on purpose.
DUPLICATE_WINDOW = 600
CARD_REPLACE_CHARS = 20  # the replaced button shows a short label
APPCHAT_NAME_CHARS = 50  # appchat/create: "群聊名，最多50个utf8字符，超过将截断"
MEDIA_GONE = 40007  # invalid media_id: expired (3 days) or never uploaded by this sender

# The store's token is read again after this long (or at once when WeCom rejects it), so
# a replica picks up another's renewal without a store read per send.
LOCAL_TOKEN_SECONDS = 60.0


class TokenCache(Protocol):
    """Where the access_token is kept (the store, so that replicas share one)."""

    async def token(self) -> str | None: ...

    async def keep_token(self, token: str, lifetime: float) -> None: ...


class _MemoryTokens:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._token: tuple[str, float] | None = None

    async def token(self) -> str | None:
        if self._token is None or self._token[1] <= self.clock():
            return None
        return self._token[0]

    async def keep_token(self, token: str, lifetime: float) -> None:
        self._token = (token, self.clock() + lifetime)


class ConfigProblem(TransientError):
    """The deployment is wrong (secret, corp id, agent id, IP allow-list): wait, not fail."""


class MediaGone(PermanentError):
    """WeCom no longer knows a media_id (40007): upload the file again."""


class WeComApi(JsonHttp):
    """A small client of the WeCom server API: the access_token and the send calls."""

    def __init__(
        self,
        base_url: str,
        corp_id: str,
        secret: str,
        agent_id: int,
        *,
        tokens: TokenCache | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__("WeCom", base_url)
        self.corp_id = corp_id
        self.agent_id = agent_id
        self._secret = secret
        self._clock = clock
        self.tokens: TokenCache = tokens if tokens is not None else _MemoryTokens(clock)
        self._token_lock = asyncio.Lock()
        self._local_token: tuple[str, float] | None = None  # (token, until), read from `tokens`
        # A configuration error (40091 …) holds every app call until an operator fixes it;
        # /healthz shows `problem` meanwhile.
        self.problem: str | None = None
        self._held_until = 0.0

    async def access_token(self, *, rejected: str | None = None) -> str:
        """The cached access_token (gettoken), shared by replicas through `tokens`.

        A token WeCom `rejected` is replaced only while it is still the cached one: when
        another replica has renewed it already, its token is used.
        """
        self._hold()  # a wrong secret is not tried again every send
        local = self._local_token
        if rejected is None and local is not None and local[1] > self._clock():
            return local[0]  # no store round trip per send (and no queue at the lock)
        async with self._token_lock:
            cached = await self.tokens.token()
            if cached is not None and cached != rejected:
                self._local_token = (cached, self._clock() + LOCAL_TOKEN_SECONDS)
                return cached
            data = await self._request(
                "GET",
                "/cgi-bin/gettoken",
                {"corpid": self.corp_id, "corpsecret": self._secret},
                None,
            )
            self._check(data, "gettoken")
            token = str(data["access_token"])
            # Renew a little early so a token never expires between check and use.
            lifetime = float(data.get("expires_in", 7200))
            await self.tokens.keep_token(token, max(1.0, lifetime - min(300.0, lifetime / 10)))
            self._local_token = (token, self._clock() + min(LOCAL_TOKEN_SECONDS, lifetime / 2))
            return token

    def _check(self, data: dict[str, Any], what: str) -> None:
        """`check`, and hold the app's calls after a configuration error."""
        try:
            check(data, what)
        except ConfigProblem as exc:
            self.problem = str(exc)
            self._held_until = self._clock() + CONFIG_RETRY
            raise
        self.problem = None

    def _hold(self) -> None:
        """While held, an app call waits without asking WeCom (the outbox keeps the rows)."""
        left = self._held_until - self._clock()
        if self.problem is not None and left > 0:
            raise ConfigProblem(self.problem, retry_after=left)

    async def _with_token(
        self, path: str, attempt: Callable[[str], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """`attempt(token)`; a rejected token is renewed and the attempt made once more."""
        self._hold()
        token = await self.access_token()
        data = await attempt(token)
        if data.get("errcode") in TOKEN_ERRORS:
            data = await attempt(await self.access_token(rejected=token))
        self._check(data, path)
        return data

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` to an access_token API; a rejected token is renewed and tried once more."""
        return await self._with_token(
            path, lambda token: self._request("POST", path, {"access_token": token}, body)
        )

    async def get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        """GET an access_token API (the directory's reads)."""

        async def attempt(token: str) -> dict[str, Any]:
            return await self._request("GET", path, {"access_token": token, **params}, None)

        return await self._with_token(path, attempt)

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
            answer, got["file"] = await self._fetch(
                path, {"access_token": token, "media_id": media_id}
            )
            return answer

        await self._with_token(path, attempt)
        return got["file"]

    async def send_message(self, body: dict[str, Any]) -> dict[str, Any]:
        """An app message (message/send) to `body["touser"]`; unknown members are permanent.

        WeCom's duplicate check is on: a part sent again after a lost answer (a timeout
        after WeCom accepted it) is not shown twice. It compares content, so the same
        text to the same member within `DUPLICATE_WINDOW` seconds is shown once.
        """
        body = {
            **body,
            "agentid": self.agent_id,
            "enable_duplicate_check": 1,
            "duplicate_check_interval": DUPLICATE_WINDOW,
        }
        data = await self.call("/cgi-bin/message/send", body)
        if data.get("invaliduser"):
            raise Unreachable(f"WeCom: not a member the app can reach: {data['invaliduser']}")
        return data

    async def update_card(self, userid: str, response_code: str, replace_name: str) -> None:
        """Turn a pressed card's buttons into one unpressable label (update_template_card);
        a response_code is good for one update within 72 hours."""
        body = {
            "userids": [userid],
            "agentid": self.agent_id,
            "response_code": response_code,
            "button": {"replace_name": replace_name[:CARD_REPLACE_CHARS]},
        }
        await self.call("/cgi-bin/message/update_template_card", body)

    async def update_appchat(
        self, chatid: str, *, add: list[str], remove: list[str], name: str | None = None
    ) -> None:
        """Members in and out of a group chat the app created (appchat/update)."""
        body: dict[str, Any] = {"chatid": chatid}
        if add:
            body["add_user_list"] = add
        if remove:
            body["del_user_list"] = remove
        if name:
            body["name"] = name[:APPCHAT_NAME_CHARS]
        await self.call("/cgi-bin/appchat/update", body)

    async def create_appchat(
        self, name: str, owner: str, members: list[str], chatid: str | None = None
    ) -> str:
        """Create a group chat (appchat/create); returns its outbox chat id `appchat:<chatid>`."""
        body: dict[str, Any] = {
            "name": name[:APPCHAT_NAME_CHARS],
            "owner": owner,
            "userlist": members,
        }
        if chatid:
            body["chatid"] = chatid
        data = await self.call("/cgi-bin/appchat/create", body)
        return APPCHAT_PREFIX + str(data["chatid"])

    async def get_appchat(self, chatid: str) -> dict[str, Any]:
        """A group chat the app created (appchat/get): its chat_info (owner, userlist)."""
        path = "/cgi-bin/appchat/get"

        async def attempt(token: str) -> dict[str, Any]:
            return await self._request("GET", path, {"access_token": token, "chatid": chatid}, None)

        info = (await self._with_token(path, attempt)).get("chat_info")
        return info if isinstance(info, dict) else {}

    async def send_appchat(self, body: dict[str, Any]) -> None:
        await self.call("/cgi-bin/appchat/send", body)

    async def send_robot(self, key: str, body: dict[str, Any]) -> None:
        """A group robot message (webhook/send?key=…); no access_token involved."""
        check(await self._request("POST", "/cgi-bin/webhook/send", {"key": key}, body), "webhook")


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
    if code in UNREACHABLE_ERRORS:
        raise Unreachable(reason)
    if code in RATE_ERRORS:
        raise TransientError(reason)  # the transport adds its per-target backoff
    if code in BUSY or code in TOKEN_ERRORS:
        raise TransientError(reason, retry_after=5.0)
    if code in CONFIG_ERRORS:
        log.error("%s: check the WeCom settings of this deployment", reason)
        raise ConfigProblem(reason, retry_after=CONFIG_RETRY)
    raise PermanentError(reason)


__all__ = [
    "APPCHAT_PREFIX",
    "PLATFORM",
    "ConfigProblem",
    "MediaGone",
    "TokenCache",
    "Unreachable",
    "WeComApi",
    "check",
]
