"""Rendering outbox payloads as WeCom message bodies (企业微信消息渲染).

Buttons become a `template_card` of type `button_interaction` when WeCom can show them (a
person, at most 6 buttons, each payload at most 1024 bytes, a short text) — the pressed
button's key comes back as the callback's EventKey; otherwise the text lists numbered
options and the person replies `#2` (bot/transports/wecom.py maps it back).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from bot.transports.text_pieces import plain, split_bytes
from handlers.chat import Outgoing

if TYPE_CHECKING:
    from bot.transports.wecom_media import LocalFile

# Sizes, from 发送应用消息 / 群机器人配置说明: text and app markdown at most 2048 bytes,
# robot markdown 4096 bytes; template_card: at most 6 buttons, key ≤ 1024 bytes,
# task_id ≤ 128 bytes of [0-9A-Za-z_-@], main_title ≤ 36 and sub_title ≤ 160 characters.
TEXT_BYTES = 2048
ROBOT_MARKDOWN_BYTES = 4096
CARD_MAX_BUTTONS = 6
CARD_KEY_BYTES = 1024
CARD_TITLE_CHARS = 36
CARD_SUBTITLE_CHARS = 160


def card_fits(text: str, buttons: list[dict[str, str]]) -> bool:
    """Whether a button_interaction card can carry this message unabridged."""
    if not 1 <= len(buttons) <= CARD_MAX_BUTTONS:
        return False
    keys = [b["payload"] for b in buttons]
    if len(set(keys)) != len(keys) or any(len(k.encode()) > CARD_KEY_BYTES for k in keys):
        return False
    title, rest = _card_parts(text)
    return len(title) > 0 and len(rest) <= CARD_SUBTITLE_CHARS


def _card_parts(text: str) -> tuple[str, str]:
    """(main title, sub title) of a card: the first line and the rest; a first line too
    long for a title is shortened there and given whole in the sub title."""
    first, _, rest = plain(text).strip().partition("\n")
    if len(first) <= CARD_TITLE_CHARS:
        return first, rest.strip()
    return first[: CARD_TITLE_CHARS - 1] + "…", f"{first}\n{rest.strip()}".strip()


def button_card(
    text: str, buttons: list[dict[str, str]], task_id: str | None = None
) -> dict[str, Any]:
    """A button_interaction card; `task_id` (from the outbox row) names it for its press."""
    title, rest = _card_parts(text)
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "main_title": {"title": title},
        # Unique per app, [0-9A-Za-z_-@], ≤ 128 bytes.
        "task_id": task_id or f"daiban-{uuid.uuid4().hex}",
        "button_list": [{"text": b["label"], "style": 1, "key": b["payload"]} for b in buttons],
    }
    if rest:
        card["sub_title_text"] = rest
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


def text_part(text: str, message: Outgoing, file: LocalFile | None) -> list[dict[str, Any]]:
    """The text bodies; with a file to send, the file is not named and an empty text is
    left out."""
    if file is None:
        return text_bodies(with_attachment(text, message))
    return text_bodies(text) if text.strip() else []


def with_names(text: str, names: list[str]) -> str:
    return f"{text}\n" + " ".join(f"@{n}" for n in names) if names else text


def with_attachment(text: str, message: Outgoing) -> str:
    # A file WeCom cannot take (another platform's reference, or out of bounds): name it.
    if message.attachment is None:
        return text
    return f"{text}\n📎 {message.attachment.filename}"


__all__ = [
    "TEXT_BYTES",
    "button_card",
    "card_fits",
    "plain",
    "split_bytes",
    "text_bodies",
    "text_part",
    "with_attachment",
    "with_names",
]
