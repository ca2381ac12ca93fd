"""A fake Telegram Bot API server (假电报服务器) for end-to-end tests and benchmarks.

It speaks HTTP on 127.0.0.1 like api.telegram.org (``/bot<token>/<method>``, JSON, form
or multipart bodies) and answers with real Bot API objects. It enforces the rate limits
it is given (any `seconds` window holding more than `count` sends is a violation: the
request is refused with 429 and counted), checks what the real API checks that we could
get wrong (HTML entities, 4096 characters, 64-byte callback_data, unknown chats), and
injects faults on demand: 429 with ``retry_after``, 5xx, and requests that hang past the
client's timeout.

The test side plays the users: `push_text`, `press`, `push_document` queue updates for
``getUpdates`` (long polling with offset/timeout semantics) or POST them to the webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import time
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, ClassVar

from aiohttp import web

JSON_FIELDS = {
    "reply_markup",
    "allowed_updates",
    "commands",
    "scope",
    "link_preview_options",
    "entities",
    "caption_entities",
    "reply_parameters",
}
SEND_METHODS = {"sendmessage", "senddocument"}


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: float


@dataclass
class Limits:
    """The windows the fake enforces (Telegram's published defaults)."""

    overall: Limit | None = field(default_factory=lambda: Limit(30, 1.0))
    per_chat: Limit | None = field(default_factory=lambda: Limit(1, 1.0))
    per_group: Limit | None = field(default_factory=lambda: Limit(20, 60.0))


@dataclass
class Sent:
    """One message the bot sent, as the fake recorded it on arrival."""

    method: str
    chat_id: int
    text: str
    at: float
    message: dict[str, Any]  # the Message object returned to the bot
    params: dict[str, Any]

    @property
    def buttons(self) -> list[tuple[str, str]]:
        markup = self.params.get("reply_markup") or {}
        return [
            (b["text"], b.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]

    @property
    def mentions(self) -> list[tuple[int, str]]:
        """(user id, mentioned text) of each text_mention entity, in order (UTF-16 offsets)."""
        return text_mentions(self.message)


def text_mentions(message: dict[str, Any]) -> list[tuple[int, str]]:
    """The text_mention entities of a Bot API message as (user id, the text they cover)."""
    text = message.get("text") or message.get("caption") or ""
    units = text.encode("utf-16-le")
    entities = message.get("entities") or message.get("caption_entities") or []
    return [
        (
            int(e["user"]["id"]),
            units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le"),
        )
        for e in entities
        if e["type"] == "text_mention"
    ]


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


# -- HTML entities as the Bot API parses them ------------------------------------------
class _EntityParser(HTMLParser):
    TAGS: ClassVar[dict[str, str]] = {
        "b": "bold",
        "strong": "bold",
        "i": "italic",
        "em": "italic",
        "u": "underline",
        "s": "strikethrough",
        "code": "code",
        "pre": "pre",
        "a": "text_link",
    }

    def __init__(self, users: dict[int, dict[str, Any]] | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.users = users or {}
        self.text = ""
        self.entities: list[dict[str, Any]] = []
        self.open: list[tuple[str, int, dict[str, Any]]] = []

    def _offset(self) -> int:
        return len(self.text.encode("utf-16-le")) // 2

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.TAGS:
            raise ApiError(
                400, f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}"'
            )
        extra: dict[str, Any] = {}
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if href.startswith("tg://user?id="):
                raw_id = href.split("=", 1)[1]
                if not raw_id.isdigit():
                    raise ApiError(400, "Bad Request: can't parse entities: wrong user id")
                user_id = int(raw_id)
                # Telegram fills in the user it knows; a user never seen gets a stub.
                user = self.users.get(user_id) or {
                    "id": user_id,
                    "is_bot": False,
                    "first_name": "?",
                }
                extra = {"type": "text_mention", "user": dict(user)}
            else:
                extra = {"url": href}
        self.open.append((tag, self._offset(), extra))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            raise ApiError(400, f'Bad Request: can\'t parse entities: Unexpected end tag "{tag}"')
        _, start, extra = self.open.pop()
        entity = {"type": self.TAGS[tag], "offset": start, "length": self._offset() - start}
        entity |= extra
        if entity["length"] > 0:
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.text += data


def parse_html(
    source: str, users: dict[int, dict[str, Any]] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Text and entities of an HTML-formatted text; `users` fills text_mention users."""
    parser = _EntityParser(users)
    parser.feed(source)
    parser.close()
    if parser.open:
        raise ApiError(400, "Bad Request: can't parse entities: unclosed tag")
    raw = source
    for entity in ("&lt;", "&gt;", "&amp;", "&quot;"):
        raw = raw.replace(entity, "")
    if "&" in _strip_tags(raw):
        raise ApiError(400, "Bad Request: can't parse entities: unescaped &")
    return parser.text, sorted(parser.entities, key=lambda e: e["offset"])


def _strip_tags(source: str) -> str:
    out, inside = [], False
    for char in source:
        if char == "<":
            inside = True
        elif char == ">":
            inside = False
        elif not inside:
            out.append(char)
    return "".join(out)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}(?!\w)")
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?(?!\S)")


def text_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram finds in a plain text a user sends: ``@username`` mentions
    and ``/command`` (or ``/command@bot``) wherever they stand as a word."""
    found = [("mention", m) for m in _MENTION.finditer(text)]
    found += [("bot_command", m) for m in _COMMAND.finditer(text)]
    return [
        {
            "type": kind,
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group(0)),
        }
        for kind, m in sorted(found, key=lambda f: f[1].start())
    ]


# -- the server ------------------------------------------------------------------------
class FakeBotApi:
    """The fake server and its recordings. `await fake.start()` returns its base URL."""

    def __init__(self, token: str = "4242:TEST-token", limits: Limits | None = None) -> None:
        self.token = token
        self.limits = limits if limits is not None else Limits()
        self.bot_user = {
            "id": 4242,
            "is_bot": True,
            "first_name": "Daiban",
            "username": "daiban_test_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.url = ""
        self.sent: list[Sent] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.violations = 0
        self.injected: dict[str, int] = {"429": 0, "500": 0, "timeout": 0}
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.answered: list[str] = []
        self.webhook: dict[str, Any] | None = None
        self.chats: dict[int, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.files: dict[str, bytes] = {}
        self.known_users: dict[int, dict[str, Any]] = {}  # every user who sent an update
        self._faults: deque[tuple[str, float, set[str]]] = deque()
        self._updates: list[dict[str, Any]] = []
        self._again: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        self._update_ids = itertools.count(10_001)
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._windows: dict[Any, deque[float]] = {}
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.on_sent: list[Any] = []  # callbacks(sent) for tests that watch arrivals

    # -- life --------------------------------------------------------------------------
    async def start(self, port: int = 0) -> str:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        sockets = site._server.sockets  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
        return self.url

    async def stop(self) -> None:
        self._closing = True
        self._new_update.set()  # a long poll still waiting returns now
        if self._runner is not None:
            await self._runner.cleanup()

    # -- faults ------------------------------------------------------------------------
    def inject(
        self,
        kind: str,
        times: int = 1,
        *,
        retry_after: float = 1,
        hang: float = 3.0,
        methods: tuple[str, ...] = ("sendMessage", "sendDocument"),
    ) -> None:
        """The next `times` calls of `methods` fail: "429", "500" or "timeout" (hang)."""
        value = retry_after if kind == "429" else hang
        for _ in range(times):
            self._faults.append((kind, value, {m.lower() for m in methods}))

    # -- the users' side ---------------------------------------------------------------
    @staticmethod
    def user(
        user_id: int, first_name: str, language_code: str | None = "zh-hans"
    ) -> dict[str, Any]:
        person: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            person["language_code"] = language_code
        return person

    def private_chat(self, user: dict[str, Any]) -> dict[str, Any]:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        self.chats[user["id"]] = chat
        return chat

    def group_chat(self, chat_id: int, title: str, kind: str = "supergroup") -> dict[str, Any]:
        """A group chat (`kind` "supergroup" or "group"); its id must be negative."""
        chat = {"id": chat_id, "type": kind, "title": title}
        self.chats[chat_id] = chat
        return chat

    def _message(self, user: dict[str, Any], chat: dict[str, Any] | None) -> dict[str, Any]:
        chat = chat or self.private_chat(user)
        self.chats[chat["id"]] = chat
        self.known_users[user["id"]] = user
        return {
            "message_id": next(self._message_ids),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
        }

    async def push_text(
        self, user: dict[str, Any], text: str, chat: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        message = self._message(user, chat) | {"text": text}
        entities = text_entities(text)
        if entities:
            message["entities"] = entities
        return await self.push({"message": message})

    async def push_document(
        self,
        user: dict[str, Any],
        file_name: str,
        data: bytes,
        mime_type: str = "application/pdf",
        chat: dict[str, Any] | None = None,
        caption: str | None = None,
    ) -> dict[str, Any]:
        document = self._store_file(file_name, data, mime_type)
        message = self._message(user, chat) | {"document": document}
        if caption:
            message["caption"] = caption
        return await self.push({"message": message})

    async def press(self, user: dict[str, Any], sent: Sent, callback_data: str) -> dict[str, Any]:
        """The user presses the button carrying `callback_data` under a message the bot sent."""
        assert callback_data in {data for _, data in sent.buttons}, (callback_data, sent.buttons)
        self.known_users[user["id"]] = user
        query = {
            "id": str(next(self._update_ids) * 7),
            "from": user,
            "message": sent.message,
            "chat_instance": f"ci{sent.chat_id}",
            "data": callback_data,
        }
        return await self.push({"callback_query": query})

    async def push(self, body: dict[str, Any]) -> dict[str, Any]:
        """Queue (or POST to the webhook) an update; returns it with its update_id."""
        update = {"update_id": next(self._update_ids)} | body
        if self.webhook is not None:
            update["_webhook_status"] = await self._post_webhook(update)
            return update
        self._updates.append(update)
        self._new_update.set()
        return update

    async def redeliver(self, update: dict[str, Any]) -> int | None:
        """Deliver an update again with the same update_id (as after a lost confirmation)."""
        clean = {k: v for k, v in update.items() if not k.startswith("_")}
        if self.webhook is not None:
            return await self._post_webhook(clean)
        self._again.append(clean)
        self._new_update.set()
        return None

    async def _post_webhook(self, update: dict[str, Any], secret: str | None = None) -> int:
        import aiohttp

        assert self.webhook is not None
        clean = {k: v for k, v in update.items() if not k.startswith("_")}
        headers = {
            "X-Telegram-Bot-Api-Secret-Token": secret or self.webhook.get("secret_token", "")
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.webhook["url"], json=clean, headers=headers) as resp,
        ):
            return resp.status

    @property
    def pending_updates(self) -> int:
        return len(self._updates) + len(self._again)

    def sent_to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]

    async def wait_for(self, predicate: Any, within: float = 20.0, step: float = 0.05) -> Any:
        """Poll until `predicate()` is truthy; its value, or AssertionError after `within` s."""
        deadline = time.monotonic() + within
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {within}s waiting for {predicate}")
            await asyncio.sleep(step)

    # -- the API -----------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params |= await request.json()
            return params
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                name = part.name or ""
                if part.filename:  # type: ignore[union-attr]
                    data = await part.read()  # type: ignore[union-attr]
                    params[name] = ("upload", part.filename, bytes(data))  # type: ignore[union-attr]
                else:
                    params[name] = await part.text()  # type: ignore[union-attr]
        elif request.can_read_body:
            params |= dict(await request.post())
        for key in JSON_FIELDS & params.keys():
            if isinstance(params[key], str):
                params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(ApiError(401, "Unauthorized"))
        method = request.match_info["method"].lower()
        params = await self._params(request)
        self.calls.append((method, params))
        try:
            if method in SEND_METHODS or method == "answercallbackquery":
                await self._fault(method)
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as exc:
            return _error(exc)
        return web.json_response({"ok": True, "result": result})

    async def _fault(self, method: str) -> None:
        if not self._faults or method not in self._faults[0][2]:
            return
        kind, value, _ = self._faults.popleft()
        self.injected[kind] += 1
        if kind == "429":
            raise ApiError(
                429, f"Too Many Requests: retry after {math.ceil(value)}", math.ceil(value)
            )
        if kind == "500":
            raise ApiError(500, "Internal Server Error")
        await asyncio.sleep(value)  # "timeout": the client gives up first
        raise ApiError(504, "Gateway Timeout")

    def _check_limits(self, chat_id: int, now: float) -> None:
        keys: list[tuple[Any, Limit]] = []
        if self.limits.overall:
            keys.append(("overall", self.limits.overall))
        if self.limits.per_chat:
            keys.append((("chat", chat_id), self.limits.per_chat))
        if self.limits.per_group and chat_id < 0:
            keys.append((("group", chat_id), self.limits.per_group))
        for key, limit in keys:
            window = self._windows.setdefault(key, deque())
            while window and window[0] <= now - limit.seconds:
                window.popleft()
            if len(window) >= limit.count:
                self.violations += 1
                wait = max(1, math.ceil(window[0] + limit.seconds - now))
                raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)
        for key, _ in keys:
            self._windows[key].append(now)

    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if not markup:
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _text(
        self, raw: str, parse_mode: str | None, limit: int
    ) -> tuple[str, list[dict[str, Any]]]:
        text, entities = parse_html(raw, self.known_users) if parse_mode == "HTML" else (raw, [])
        if utf16_len(text) > limit:
            raise ApiError(400, "Bad Request: message is too long")
        return text, entities

    def _record(
        self,
        method: str,
        chat: dict[str, Any],
        message: dict[str, Any],
        params: dict[str, Any],
        at: float,
    ) -> dict[str, Any]:
        sent = Sent(
            method,
            chat["id"],
            message.get("text") or message.get("caption") or "",
            at,
            message,
            params,
        )
        self.sent.append(sent)
        for callback in self.on_sent:
            callback(sent)
        return message

    async def _m_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user

    async def _m_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        at = time.monotonic()
        chat = self._chat(params)
        text, entities = self._text(str(params.get("text", "")), params.get("parse_mode"), 4096)
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        markup = self._markup(params)
        self._check_limits(chat["id"], at)
        message = {
            "message_id": next(self._message_ids),
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if entities:
            message["entities"] = entities
        if markup:
            message["reply_markup"] = markup
        return self._record("sendMessage", chat, message, params, at)

    def _store_file(self, name: str, data: bytes, mime_type: str) -> dict[str, Any]:
        number = next(self._file_ids)
        file_id = f"BQACAgIAAxkBAAI{number:06d}"
        self.files[file_id] = data
        return {
            "file_id": file_id,
            "file_unique_id": f"AgAD{number:06d}",
            "file_name": name,
            "mime_type": mime_type,
            "file_size": len(data),
        }

    async def _m_senddocument(self, params: dict[str, Any]) -> dict[str, Any]:
        at = time.monotonic()
        chat = self._chat(params)
        document = params.get("document")
        if isinstance(document, tuple):
            _, filename, data = document
            stored = self._store_file(filename, data, "application/octet-stream")
        elif isinstance(document, str) and document in self.files:
            stored = {
                "file_id": document,
                "file_unique_id": "AgAD" + document[-6:],
                "file_size": len(self.files[document]),
            }
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        caption, entities = self._text(
            str(params.get("caption") or ""), params.get("parse_mode"), 1024
        )
        markup = self._markup(params)
        self._check_limits(chat["id"], at)
        message = {
            "message_id": next(self._message_ids),
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
            "document": stored,
        }
        if caption:
            message["caption"] = caption
        if entities:
            message["caption_entities"] = entities
        if markup:
            message["reply_markup"] = markup
        return self._record("sendDocument", chat, message, params, at)

    async def _m_answercallbackquery(self, params: dict[str, Any]) -> bool:
        self.answered.append(str(params["callback_query_id"]))
        return True

    async def _m_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands") or []
        for command in commands:
            if not 1 <= len(command["description"]) <= 256:
                raise ApiError(400, "Bad Request: command description is invalid")
        self.commands[params.get("language_code") or ""] = commands
        return True

    async def _m_setwebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token", "")}
        return True

    async def _m_deletewebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    async def _m_getfile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file_id"))
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": "AgAD" + file_id[-6:],
            "file_size": len(self.files[file_id]),
            "file_path": f"documents/{file_id}",
        }

    async def _file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if request.match_info["token"] != self.token or file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id])

    async def _m_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        wait = float(params.get("timeout") or 0)
        deadline = time.monotonic() + wait
        while True:
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            ready = self._again[:limit]
            self._again = self._again[len(ready) :]
            ready += self._updates[: limit - len(ready)]
            if ready or self._closing or time.monotonic() >= deadline:
                return [{k: v for k, v in u.items() if not k.startswith("_")} for u in ready]
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())


def _error(exc: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
    if exc.retry_after is not None:
        body["parameters"] = {"retry_after": exc.retry_after}
    return web.json_response(body, status=exc.code)


__all__ = [
    "FakeBotApi",
    "Limit",
    "Limits",
    "Sent",
    "parse_html",
    "text_entities",
    "text_mentions",
]
