"""The inbound door's one normalisation of text (入站文本规范化), and the length caps.

Every event passes `normalize_incoming` before it is routed, whatever the messenger:

- control characters are dropped (NUL among them: PostgreSQL refuses it in text, so a NUL in
  a /log note lost the note behind an apology), and so are the bidirectional overrides that
  make a name read backwards; line breaks stay, a tab becomes a space;
- the outgoing light markup (``**bold**``; on WeCom also ``[text](link)`` and ``<font>``) is
  neutralised in what people type, by a word joiner (U+2060, invisible) inside each markup
  token: ``**`` typed by a person shows as ``**`` everywhere and never turns bold. The
  characters themselves are kept, so stored names and notes read as typed;
- a message longer than `MAX_MESSAGE` is not routed: the person is told the limit.

Each kind of free text then has its own cap (`domain.bounds.TEXT_LIMITS`), checked by the
command that takes it with `too_long`.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata

from domain.bounds import TEXT_LIMITS
from handlers.chat import Incoming, Sender
from handlers.context import Ctx
from handlers.i18n import N_

WORD_JOINER = "\u2060"
MAX_MESSAGE = 8000  # characters; Telegram's own cap is 4096, WeCom's 2048 bytes
# A messenger's display name or group title becomes a person's name or a chat's title
# (200-character columns); the messenger, not the person, chose it, so it is cut, not refused.
NAME_MAX = 100
# Embedding and override controls (LRE…RLO, LRI…PDI) and the marks that reorder text.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)}
# `**`, `](` and `<tag`: the start of bold, of a markdown link, of an HTML-like tag.
_MARKUP = re.compile(r"\*(?=\*)|\](?=\()|<(?=[A-Za-z/!])")

KIND_LABELS = {
    "reason": N_("A reason"),
    "note": N_("A note"),
    "log": N_("A work-log note"),
    "minutes": N_("Meeting minutes"),
}


def normalize_text(text: str) -> str:
    """`text` without control characters, with markup typed by a person neutralised."""
    if not text:
        return text
    kept: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        if ch == "\n":
            kept.append(ch)
        elif ch == "\t":
            kept.append(" ")
        elif ch in _BIDI or unicodedata.category(ch) in {"Cc", "Cs"}:
            continue
        else:
            kept.append(ch)
    return _MARKUP.sub(lambda m: m.group(0) + WORD_JOINER, "".join(kept))


def _plain(text: str) -> str:
    """Control characters dropped, nothing else touched (payloads, ids, file names)."""
    return "".join(ch for ch in text if unicodedata.category(ch) not in {"Cc", "Cs"})


def normalize_incoming(event: Incoming) -> Incoming:
    """The event with every person-typed string normalised (see the module docstring)."""
    sender = event.sender
    attachment = event.attachment
    if attachment is not None:
        attachment = dataclasses.replace(attachment, filename=_plain(attachment.filename))
    return dataclasses.replace(
        event,
        sender=Sender(
            sender.platform,
            _plain(sender.external_id),
            normalize_text(sender.display_name)[:NAME_MAX],
            sender.language_code,
        ),
        chat_id=_plain(event.chat_id),
        chat_title=normalize_text(event.chat_title)[:NAME_MAX],
        text=normalize_text(event.text),
        args=normalize_text(event.args),
        payload=_plain(event.payload) if event.payload is not None else None,
        attachment=attachment,
    )


async def too_long(ctx: Ctx, text: str, kind: str) -> bool:
    """True, and the person told the limit for this kind of text, when `text` passes it."""
    limit = TEXT_LIMITS[kind]
    if len(text) <= limit:
        return False
    await ctx.reply(
        ctx._(
            "{what} can be at most {limit} characters; yours has {length}. Please shorten it "
            "and send it again.",
            what=ctx._(KIND_LABELS[kind]),
            limit=limit,
            length=len(text),
        )
    )
    return True


async def message_too_long(ctx: Ctx) -> bool:
    """True, and the person told the limit, when the whole message passes `MAX_MESSAGE`."""
    length = len(ctx.incoming.text or "")
    if length <= MAX_MESSAGE:
        return False
    await ctx.reply(
        ctx._(
            "This message has {length} characters; at most {limit} are read. Please shorten it "
            "or send it in parts. What you entered before is kept.",
            length=length,
            limit=MAX_MESSAGE,
        )
    )
    return True


__all__ = [
    "MAX_MESSAGE",
    "WORD_JOINER",
    "message_too_long",
    "normalize_incoming",
    "normalize_text",
    "too_long",
]
