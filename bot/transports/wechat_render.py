"""How an outbox message looks on WeChat (微信消息渲染): texts, menu messages, templates.

- A text is plain (our **bold** markers dropped) and split at `TEXT_BYTES` at line ends.
- Buttons become a menu message (`msgmenu`: a head text and a list of choices the person
  taps; WeChat sends the tapped choice back as a text message carrying `bizmsgmenuid`).
  A `bizmsgmenuid` is a number, so each choice's id is the message's `menu_tag` times 100
  plus its position; the tag finds the message again among the last ones sent, so a tap
  on an older menu still means what it said. More choices than `MENU_MAX`, or a label
  longer than `LABEL_MAX`, and the text lists numbered options answered `#2`, as on WeCom.
- An image attachment that is a file here is uploaded and sent as an image message;
  WeChat's customer-service messages carry no documents, so any other file is named.
- A proactive notice outside the 48-hour window becomes a template message whose fields
  are `TEMPLATE_FIELDS` (what the office's chosen template must have; see the README).
"""

from __future__ import annotations

import json
import os
import re
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.transports.text_pieces import plain, split_bytes, with_options
from handlers.chat import Outgoing
from handlers.i18n import N_, gettext

TEXT_BYTES = 2000  # customer-service texts: WeChat cuts around 2048 bytes
HEAD_BYTES = 1000  # a menu message's head text
MENU_MAX = 10
LABEL_MAX = 30
IMAGE_MAX_BYTES = 10 * 1024 * 1024  # temporary image media: at most 10 MB
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/bmp"}
TAG_MODULUS = 10_000_000

NOTICE_TITLES = {
    "accepted": N_("Application accepted"),
    "materials": N_("Documents still needed"),
    "completion": N_("Please confirm completion"),
    "rating": N_("Rating round"),
    "answer": N_("Your question was answered"),
}
NOTICE_KINDS = tuple(NOTICE_TITLES)
# The keys of the template's fields: what, about, when (新版模板: thing ≤ 20 characters).
TEMPLATE_FIELDS = ("thing1", "thing2", "time3")
# Template field values by the key's type (模板消息 "参数说明"): thing ≤ 20 characters,
# character_string ≤ 32, phrase ≤ 5; time and date values are ours and short.
FIELD_CHARS = {"thing": 20, "character_string": 32, "phrase": 5, "keyword": 20}
WAITING = N_("Messages that waited for you while this chat was closed: {count}")


def buttons_of(payload: dict[str, Any]) -> list[dict[str, str]]:
    return [b for row in payload.get("buttons", []) for b in row]


def menu_tag(payload: dict[str, Any]) -> int:
    """A number naming this message's choices (stable across processes and restarts)."""
    seed = json.dumps([payload.get("text", ""), buttons_of(payload)], ensure_ascii=False)
    return zlib.crc32(seed.encode()) % TAG_MODULUS


def menu_fits(buttons: list[dict[str, str]]) -> bool:
    return 1 <= len(buttons) <= MENU_MAX and all(len(b["label"]) <= LABEL_MAX for b in buttons)


@dataclass(frozen=True)
class Image:
    """An image attachment to upload and send after the texts."""

    path: Path
    filename: str


def image_of(message: Outgoing) -> Image | None:
    """The attachment as a sendable image, or None (none, not local, not an image, too big)."""
    att = message.attachment
    if att is None or not att.ref or not os.path.isfile(att.ref):
        return None
    if att.mime_type not in IMAGE_TYPES or not 0 < os.path.getsize(att.ref) <= IMAGE_MAX_BYTES:
        return None
    return Image(Path(att.ref), att.filename or Path(att.ref).name)


def bodies(payload: dict[str, Any], lang: str, image: Image | None) -> list[dict[str, Any]]:
    """The customer-service bodies of one message, without `touser` (an image's media_id
    is filled in at sending)."""
    message = Outgoing.from_payload(payload)
    text = plain(message.text)
    if message.attachment is not None and image is None:
        text = f"{text}\n📎 {message.attachment.filename}"
    buttons = buttons_of(payload)
    out: list[dict[str, Any]] = []
    if buttons and menu_fits(buttons):
        pieces = split_bytes(text, TEXT_BYTES)
        head = pieces.pop() if len(pieces[-1].encode()) <= HEAD_BYTES else ""
        out += [{"msgtype": "text", "text": {"content": p}} for p in pieces]
        tag = menu_tag(payload)
        choices = [
            {"id": str(tag * 100 + n), "content": b["label"]}
            for n, b in enumerate(buttons, start=1)
        ]
        menu = {"head_content": head, "list": choices, "tail_content": ""}
        out.append({"msgtype": "msgmenu", "msgmenu": menu})
    else:
        if buttons:
            text = with_options(text, [b["label"] for b in buttons], lang)
        if text.strip() or image is None:
            out += [
                {"msgtype": "text", "text": {"content": p}} for p in split_bytes(text, TEXT_BYTES)
            ]
    if image is not None:
        out.append({"msgtype": "image", "image": {"media_id": ""}})
    return out


def with_header(parts: list[dict[str, Any]], header: str) -> list[dict[str, Any]]:
    """The parts with `header` above the first one's text, where it fits; never one part
    more, so that the parts of a message keep their positions with or without it."""
    first = parts[0] if parts else None
    if first is not None and first["msgtype"] == "text":
        content = f"{header}\n\n{first['text']['content']}"
        if len(content.encode()) <= TEXT_BYTES:
            return [{"msgtype": "text", "text": {"content": content}}, *parts[1:]]
    if first is not None and first["msgtype"] == "msgmenu":
        head = f"{header}\n\n{first['msgmenu']['head_content']}"
        if len(head.encode()) <= HEAD_BYTES:
            return [{"msgtype": "msgmenu", "msgmenu": {**first["msgmenu"], "head_content": head}}]
    return parts


def choice_payload(payload: dict[str, Any], menu_id: int) -> str | None:
    """The button payload a tapped `bizmsgmenuid` means, if it belongs to this message."""
    if menu_id // 100 != menu_tag(payload):
        return None
    buttons = buttons_of(payload)
    position = menu_id % 100
    return str(buttons[position - 1]["payload"]) if 1 <= position <= len(buttons) else None


def field_value(key: str, text: str) -> str:
    """`text` fitted to what WeChat accepts in a field with this key (cut with "…")."""
    limit = next((n for kind, n in FIELD_CHARS.items() if key.startswith(kind)), None)
    text = " ".join(text.split())
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…" if limit > 1 else text[:limit]


@dataclass(frozen=True)
class Template:
    """An account template for one notice kind, and the keys of its three fields."""

    template_id: str
    fields: tuple[str, str, str] = TEMPLATE_FIELDS


def template_body(
    kind: str,
    template: Template,
    openid: str,
    payload: dict[str, Any],
    lang: str,
    at: datetime,
    url: str | None,
) -> dict[str, Any]:
    """The template message announcing a notice that waits in the chat."""
    first_line = plain(str(payload.get("text", ""))).strip().split("\n", 1)[0]
    values = (
        gettext(lang, NOTICE_TITLES[kind]),
        first_line,
        at.strftime("%Y-%m-%d %H:%M"),
    )
    body: dict[str, Any] = {
        "touser": openid,
        "template_id": template.template_id,
        "data": {
            key: {"value": field_value(key, value)}
            for key, value in zip(template.fields, values, strict=True)
        },
    }
    if url:
        body["url"] = url
    return body


def waiting_header(lang: str, count: int) -> str:
    return gettext(lang, WAITING).format(count=count)


FIELD_KEY = re.compile(r"^[a-z_]+[0-9]*$")


def parse_templates(text: str | None) -> dict[str, Template]:
    """`accepted=ID1,rating=ID2:thing2|thing4|time5` → {"accepted": Template("ID1"), …}.

    After a colon, the keys of the template's three fields (what, about, when) when they
    are not `thing1|thing2|time3`. ValueError names the bad part (never its template id)."""
    templates: dict[str, Template] = {}
    for number, entry in enumerate((e for e in (text or "").split(",") if e.strip()), start=1):
        kind, sep, value = (part.strip() for part in entry.partition("="))
        template_id, colon, keys = (part.strip() for part in value.partition(":"))
        if not sep or not kind or not template_id:
            raise ValueError(f"entry {number} is not kind=template_id")
        if kind not in NOTICE_TITLES:
            raise ValueError(f"{kind!r} is not a notice kind (kinds: {', '.join(NOTICE_KINDS)})")
        if kind in templates:
            raise ValueError(f"the kind {kind!r} appears twice")
        fields = tuple(k.strip() for k in keys.split("|")) if colon else TEMPLATE_FIELDS
        if len(fields) != 3 or not all(FIELD_KEY.match(k) for k in fields):
            raise ValueError(
                f"entry {number}: after the colon come three field keys, e.g. thing1|thing2|time3"
            )
        templates[kind] = Template(template_id, (fields[0], fields[1], fields[2]))
    return templates


__all__ = [
    "NOTICE_KINDS",
    "TEMPLATE_FIELDS",
    "Image",
    "Template",
    "bodies",
    "choice_payload",
    "image_of",
    "menu_tag",
    "parse_templates",
    "split_bytes",
    "template_body",
    "waiting_header",
    "with_header",
]
