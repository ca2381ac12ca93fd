"""Telegram rendering and reading (电报渲染), shared by the aiogram and PTB adapters.

Out: an outbox payload becomes one or more HTML messages (Bot API ``parse_mode=HTML``):
everything is escaped, ``**bold**`` becomes ``<b>``, a mention becomes a link to the user
id, and a text over 4096 characters is split at line boundaries with the buttons on the
last part. Button payloads longer than the Bot API's 64-byte ``callback_data`` travel as
a short digest (see `PayloadBook`).

In: a Bot API update (aiogram's or PTB's object — both spell the fields the Bot API's
way) becomes a platform-neutral `Incoming`.

Mentions: a mention whose person has a Telegram account is rendered where the text says
``@<display name>``; when the text does not name them, the mentions open the message.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from handlers.chat import Attachment, ChatKind, Incoming, Sender

PLATFORM = "telegram"
TEXT_LIMIT = 4096  # characters of a message after entity parsing
CAPTION_LIMIT = 1024  # characters of a document's caption
CALLBACK_LIMIT = 64  # bytes of callback_data
DIGEST_PREFIX = "~h:"

_BOLD = re.compile(r"\*\*(.+?)\*\*")


# -- text ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    """A piece of one line: plain text, bold text, or a mention (user id in `user_id`)."""

    text: str
    bold: bool = False
    user_id: str | None = None

    @property
    def size(self) -> int:
        return utf16_len(self.text)

    def html(self) -> str:
        body = html.escape(self.text, quote=False)
        if self.user_id is not None:
            body = f'<a href="tg://user?id={html.escape(self.user_id)}">{body}</a>'
        return f"<b>{body}</b>" if self.bold else body


def chat_ref(chat_id: str) -> int | str:
    """A chat id for the Bot API: numeric ids as int, channel usernames (@name) as text."""
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _runs_of_line(line: str, mentions: dict[str, str]) -> list[Run]:
    runs: list[Run] = []
    position = 0
    for match in _BOLD.finditer(line):
        runs += _with_mentions(line[position : match.start()], False, mentions)
        runs += _with_mentions(match.group(1), True, mentions)
        position = match.end()
    runs += _with_mentions(line[position:], False, mentions)
    return [run for run in runs if run.text]


def _with_mentions(text: str, bold: bool, mentions: dict[str, str]) -> list[Run]:
    if not mentions or "@" not in text:
        return [Run(text, bold)]
    names = sorted(mentions, key=len, reverse=True)  # the longest name wins
    pattern = re.compile("@(" + "|".join(re.escape(n) for n in names) + ")")
    runs: list[Run] = []
    position = 0
    for match in pattern.finditer(text):
        runs.append(Run(text[position : match.start()], bold))
        runs.append(Run(match.group(1), bold, mentions[match.group(1)]))
        position = match.end()
    runs.append(Run(text[position:], bold))
    return runs


def _linked_mentions(payload: dict[str, Any]) -> dict[str, str]:
    """Display name -> Telegram user id of the payload's mentions that have an account."""
    return {
        str(m["display_name"]): str(m["external_id"])
        for m in payload.get("mentions") or []
        if m.get("external_id") and m.get("display_name")
    }


def _plain_html(text: str) -> str:
    """`text` escaped, ``**bold**`` as ``<b>`` (what the runs of a mention-free text give)."""
    out: list[str] = []
    position = 0
    for match in _BOLD.finditer(text):
        out.append(html.escape(text[position : match.start()], quote=False))
        out.append(f"<b>{html.escape(match.group(1), quote=False)}</b>")
        position = match.end()
    out.append(html.escape(text[position:], quote=False))
    return "".join(out)


def _lines(payload: dict[str, Any]) -> list[list[Run]]:
    text = str(payload.get("text") or "")
    linked = _linked_mentions(payload)
    lines = [_runs_of_line(line, linked) for line in text.split("\n")]
    named = {run.text for line in lines for run in line if run.user_id is not None}
    missing = [name for name in linked if name not in named]
    if missing:
        opening: list[Run] = []
        for name in missing:
            opening += [Run(name, user_id=linked[name]), Run(" ")]
        lines.insert(0, opening[:-1])
    return lines


def _cut_line(line: list[Run], limit: int) -> list[list[Run]]:
    """A line longer than `limit` cut into pieces (mentions are never cut)."""
    pieces: list[list[Run]] = [[]]
    room = limit
    for run in line:
        rest = run
        while rest.size > room:
            if rest.user_id is not None or room == 0:
                pieces.append([])
                room = limit
                if rest.size > room:  # a mention longer than a message: send it as text
                    rest = Run(rest.text, rest.bold)
                continue
            head, tail = _split_at(rest.text, room)
            pieces[-1].append(Run(head, rest.bold, rest.user_id))
            pieces.append([])
            room = limit
            rest = Run(tail, rest.bold, rest.user_id)
        if rest.text:
            pieces[-1].append(rest)
            room -= rest.size
    return [piece for piece in pieces if piece]


def _split_at(text: str, units: int) -> tuple[str, str]:
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            return text[:index], text[index:]
    return text, ""


def split_text(payload: dict[str, Any], limit: int = TEXT_LIMIT) -> list[str]:
    """The payload's text as HTML parts of at most `limit` visible characters each.

    Parts break between lines; only a single line longer than `limit` is cut inside.
    """
    text = str(payload.get("text") or "")
    if not _linked_mentions(payload) and utf16_len(text) <= limit:
        # The common case, one part and no mentions, without building runs (the same HTML).
        rendered = _plain_html(text)
        return [rendered] if rendered.strip() else []
    return split_runs(payload, limit)


def split_runs(payload: dict[str, Any], limit: int = TEXT_LIMIT) -> list[str]:
    """`split_text` by runs of each line: mentions linked, long lines cut."""
    parts: list[list[list[Run]]] = [[]]
    used = 0
    for line in _lines(payload):
        size = sum(run.size for run in line)
        for piece in _cut_line(line, limit) if size > limit else [line]:
            piece_size = sum(run.size for run in piece)
            needed = piece_size + (1 if parts[-1] else 0)
            if parts[-1] and used + needed > limit:
                parts.append([])
                used, needed = 0, piece_size
            parts[-1].append(piece)
            used += needed
    rendered = ["\n".join("".join(run.html() for run in line) for line in part) for part in parts]
    return [part for part in rendered if part.strip()] or []


def visible_len(html_text: str) -> int:
    """Characters a rendered part shows (tags removed, entities decoded)."""
    return utf16_len(html.unescape(re.sub(r"<[^>]+>", "", html_text)))


# -- buttons ---------------------------------------------------------------------------
class PayloadBook:
    """Short `callback_data` for long button payloads, remembered both ways.

    A payload of at most 64 bytes is sent as it is. A longer one is sent as
    ``~h:`` + a 20-character digest; the digest maps back through this book, and after a
    restart through the outbox row that carried the button (`resolve_from`).
    """

    def __init__(self, capacity: int = 20_000) -> None:
        self._known: OrderedDict[str, str] = OrderedDict()
        self.capacity = capacity

    @staticmethod
    def digest(payload: str) -> str:
        raw = hashlib.sha256(payload.encode()).digest()
        return DIGEST_PREFIX + base64.urlsafe_b64encode(raw).decode()[:20]

    def data_for(self, payload: str) -> str:
        if len(payload.encode()) <= CALLBACK_LIMIT and not payload.startswith(DIGEST_PREFIX):
            return payload
        data = self.digest(payload)
        self._known[data] = payload
        self._known.move_to_end(data)
        while len(self._known) > self.capacity:
            self._known.popitem(last=False)
        return data

    def lookup(self, data: str) -> str | None:
        """The payload behind `data`: itself when it is not a digest; None when unknown."""
        if not data.startswith(DIGEST_PREFIX):
            return data
        return self._known.get(data)

    def resolve_from(self, data: str, payloads: Iterable[dict[str, Any]]) -> str | None:
        """Find the payload behind a digest among outbox payloads sent to the chat."""
        for payload in payloads:
            for row in payload.get("buttons") or []:
                for button in row:
                    if self.digest(str(button.get("payload", ""))) == data:
                        self._known[data] = button["payload"]
                        return str(button["payload"])
        return None

    def keyboard(self, payload: dict[str, Any]) -> list[list[tuple[str, str]]]:
        """Rows of (label, callback_data) for the payload's buttons."""
        return [
            [(str(b["label"]), self.data_for(str(b["payload"]))) for b in row]
            for row in payload.get("buttons") or []
            if row
        ]


# -- reading updates -------------------------------------------------------------------
def _sender(user: Any) -> Sender:
    name = " ".join(p for p in (user.first_name, getattr(user, "last_name", None)) if p)
    return Sender(
        platform=PLATFORM,
        external_id=str(user.id),
        display_name=name or getattr(user, "username", None) or str(user.id),
        language_code=getattr(user, "language_code", None),
    )


def _chat_kind(chat: Any) -> ChatKind | None:
    kind = str(chat.type)
    if kind in {"group", "supergroup"}:
        return ChatKind.GROUP
    if kind == "private":
        return ChatKind.DM
    return None  # channels: the bot does not talk there


def _attachment(message: Any) -> Attachment | None:
    document = getattr(message, "document", None)
    if document is not None:
        return Attachment(
            filename=document.file_name or "document",
            mime_type=document.mime_type or "application/octet-stream",
            size=document.file_size or 0,
            ref=document.file_id,
        )
    photos = getattr(message, "photo", None)
    if photos:
        largest = photos[-1]
        return Attachment(
            filename=f"photo_{largest.file_unique_id}.jpg",
            mime_type="image/jpeg",
            size=largest.file_size or 0,
            ref=largest.file_id,
        )
    return None


def _without_bot_mention(text: str, bot_username: str) -> str:
    """The text after a leading ``@bot`` mention (``@daiban_bot /status`` → ``/status``);
    the text itself when it does not open with our username (``@daiban_bot2`` is not us)."""
    if not bot_username:
        return text
    stripped = text.lstrip()
    head = f"@{bot_username}"
    if not stripped.lower().startswith(head.lower()):
        return text
    rest = stripped[len(head) :]
    if rest and rest[0].isascii() and (rest[0].isalnum() or rest[0] == "_"):
        return text
    return rest.lstrip(" \t\n,，:：")


def incoming_from_update(update: Any, bot_username: str) -> Incoming | None:
    """The `Incoming` of a Bot API update, or None for updates Daiban does not handle.

    Works on aiogram's and PTB's `Update` alike. A callback's `payload` is the raw
    callback_data (a digest is resolved by the caller). Commands addressed to another bot
    in a group (``/help@otherbot``) are ignored. A message opening with a mention of this
    bot is read without it, so ``@daiban_bot /status`` in a group is the command.
    """
    event_id = str(update.update_id)
    query = getattr(update, "callback_query", None)
    if query is not None:
        message = query.message
        chat = message.chat if message is not None else None
        kind = _chat_kind(chat) if chat is not None else ChatKind.DM
        if kind is None or query.data is None:
            return None
        return Incoming(
            event_id=event_id,
            sender=_sender(query.from_user),
            chat_id=str(chat.id if chat is not None else query.from_user.id),
            chat_kind=kind,
            chat_title=(getattr(chat, "title", None) or "") if chat is not None else "",
            payload=query.data,
        )
    message = getattr(update, "message", None)
    if message is None or message.from_user is None:
        return None
    kind = _chat_kind(message.chat)
    if kind is None:
        return None
    text = message.text or message.caption or ""
    command, args = (None, text)
    if message.text:
        text = _without_bot_mention(text, bot_username)
        command, args = Incoming.parse_command(text)
        if command is not None:
            head = text.strip().split(maxsplit=1)[0]
            addressee = head.partition("@")[2]
            if addressee and addressee.lower() != bot_username.lower():
                return None
    return Incoming(
        event_id=event_id,
        sender=_sender(message.from_user),
        chat_id=str(message.chat.id),
        chat_kind=kind,
        chat_title=getattr(message.chat, "title", None) or "",
        text=text,
        command=command,
        args=args if command else "",
        attachment=_attachment(message),
    )


def is_group_chat(chat_id: str) -> bool:
    """Telegram group and supergroup ids are negative; users' ids are positive."""
    return chat_id.startswith("-")


__all__ = [
    "CALLBACK_LIMIT",
    "CAPTION_LIMIT",
    "PLATFORM",
    "TEXT_LIMIT",
    "PayloadBook",
    "incoming_from_update",
    "is_group_chat",
    "split_text",
    "utf16_len",
    "visible_len",
]
