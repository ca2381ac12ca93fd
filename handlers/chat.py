"""The platform-neutral chat model (聊天模型): what comes in, what goes out.

Transports translate their messenger's updates into `Incoming` and render `Outgoing`;
nothing above `bot/transports/` ever sees a messenger's own objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ChatKind(StrEnum):
    DM = "dm"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file a person sent or the bot sends: name, MIME type and a transport reference."""

    filename: str
    mime_type: str = "application/octet-stream"
    size: int = 0
    ref: str = ""  # transport file id / storage key; opaque above transports


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent an event, as the messenger knows them."""

    platform: str  # "telegram", "wecom", "emulator", "story", "terminal"
    external_id: str
    display_name: str = ""
    language_code: str | None = None  # as the messenger reports it: "zh-hans", "en-US"…


@dataclass(frozen=True, slots=True)
class Incoming:
    """One inbound event: a text, a command, a button press or a file."""

    event_id: str  # platform-unique (Telegram update_id, WeCom MsgId); dedupe key
    sender: Sender
    chat_id: str  # the messenger's chat id (a DM's chat id or a group's)
    chat_kind: ChatKind = ChatKind.DM
    chat_title: str = ""
    text: str = ""
    command: str | None = None  # "start" for "/start CODE"
    args: str = ""  # "CODE"
    payload: str | None = None  # button payload, e.g. "lang:en"
    attachment: Attachment | None = None

    @property
    def platform(self) -> str:
        return self.sender.platform

    @staticmethod
    def parse_command(text: str) -> tuple[str | None, str]:
        """Split "/cmd@bot args" into ("cmd", "args"); (None, text) when not a command."""
        stripped = text.strip()
        if not stripped.startswith("/") or len(stripped) < 2:
            return None, text
        head, _, rest = stripped[1:].partition(" ")
        name = head.split("@", 1)[0].lower()
        if not name or not all(c.isascii() and (c.isalnum() or c == "_") for c in name):
            return None, text
        return name, rest.strip()


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button: a visible label and the payload pressed back to us."""

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class Mention:
    """An @mention of a person inside an outgoing text (rendered per platform)."""

    person_id: int
    display_name: str


@dataclass(slots=True)
class Outgoing:
    """One message the bot wants sent. Written to the outbox, never sent directly.

    `buttons` is a list of rows. `text` uses light markup: **bold** and line breaks only,
    which every transport can render or strip.
    """

    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    attachment: Attachment | None = None
    # A proactive notice's kind (application accepted, materials missing…): a platform that
    # cannot always reach a person (WeChat) sends such a notice in its own notice form.
    notice: str | None = None

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "text": self.text,
            "buttons": [
                [{"label": b.label, "payload": b.payload} for b in row] for row in self.buttons
            ],
            "mentions": [
                {"person_id": m.person_id, "display_name": m.display_name} for m in self.mentions
            ],
            "attachment": None
            if self.attachment is None
            else {
                "filename": self.attachment.filename,
                "mime_type": self.attachment.mime_type,
                "size": self.attachment.size,
                "ref": self.attachment.ref,
            },
        }
        if self.notice is not None:
            payload["notice"] = self.notice
        return payload

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Outgoing:
        att = data.get("attachment")
        return cls(
            text=data["text"],
            buttons=[
                [Button(b["label"], b["payload"]) for b in row] for row in data.get("buttons", [])
            ],
            mentions=[Mention(m["person_id"], m["display_name"]) for m in data.get("mentions", [])],
            attachment=None if att is None else Attachment(**att),
            notice=data.get("notice"),
        )
