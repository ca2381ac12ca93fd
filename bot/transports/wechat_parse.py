"""Reading what WeChat POSTs (微信消息解析): the XML body and the platform-neutral event.

A body must be UTF-8 XML whose root is `<xml>`, without a DTD or entities (`defusedxml`
refuses them: no entity-expansion tricks); anything else is `Refused`. Message shapes,
from the 公众号 docs "接收普通消息" / "接收事件推送": ToUserName (the account), FromUserName
(the contact's OpenID), CreateTime, MsgType, then Content and MsgId (text; a tap on a menu
message adds `bizmsgmenuid`), MediaId and PicUrl (image, voice, video), or Event and
EventKey (subscribe — with `qrscene_…` through a parameter QR code —, SCAN, CLICK, VIEW).
"""

from __future__ import annotations

import hashlib
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from bot.transports.wechat_send import PLATFORM
from handlers.chat import Attachment, ChatKind, Incoming, Sender

MAX_BODY = 256 * 1024
EVENT_ID_MAX = 120  # inbound_events.event_id holds 128 characters
MEDIA = {
    "image": ("image/jpeg", "jpg"),
    "voice": ("audio/amr", "amr"),
    "video": ("video/mp4", "mp4"),
}


class Refused(Exception):
    """The callback is not WeChat's, or not for this account: nothing of it is done."""


def parse_body(raw: bytes) -> Element:
    """A WeChat XML document: UTF-8, root `<xml>`, no DTD or entities (`Refused` otherwise)."""
    if len(raw) > MAX_BODY:
        raise Refused("body too large")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("body is not UTF-8") from None
    try:
        root = SafeET.fromstring(raw, forbid_dtd=True, forbid_entities=True)
    except (DefusedXmlException, SafeET.ParseError) as exc:
        raise Refused(f"body is not acceptable XML ({type(exc).__name__})") from None
    if root.tag != "xml":
        raise Refused("the root element is not <xml>")
    return root


def text_of(root: Element, path: str) -> str:
    """The stripped text of an element ("" when absent)."""
    return (root.findtext(path) or "").strip()


def _event_id(root: Element, openid: str) -> str:
    msg_id = text_of(root, "MsgId")
    if msg_id:
        event_id = f"m:{msg_id}"
    else:  # events have no MsgId: sender, create time and event name identify them
        event_id = "e:" + ":".join([openid, text_of(root, "CreateTime"), text_of(root, "Event")])
    if len(event_id) > EVENT_ID_MAX:
        event_id = event_id[:2] + hashlib.sha256(event_id.encode()).hexdigest()
    return event_id


def to_incoming(root: Element) -> Incoming | None:
    """The platform-neutral event of a decrypted message; None for what we do not handle
    (unfollowing, locations, links, opening a menu link…)."""
    openid = text_of(root, "FromUserName")
    if not openid or len(openid) > 64:
        return None
    base: dict[str, Any] = {
        "event_id": _event_id(root, openid),
        "sender": Sender(PLATFORM, openid, "", None),  # WeChat sends neither name nor language
        "chat_id": openid,
        "chat_kind": ChatKind.DM,
    }
    msg_type = text_of(root, "MsgType")
    if msg_type == "text":
        text = root.findtext("Content") or ""
        command, args = Incoming.parse_command(text)
        return Incoming(**base, text=text, command=command, args=args if command else "")
    if msg_type == "event":
        event, key = text_of(root, "Event").lower(), text_of(root, "EventKey")
        if event in {"subscribe", "scan"}:  # a follow, or a parameter QR code scanned
            code = key.removeprefix("qrscene_") if event == "subscribe" else key
            return Incoming(**base, text=f"/start {code}".strip(), command="start", args=code)
        if event == "click" and key:
            if key.startswith("/"):
                command, args = Incoming.parse_command(key)
                return Incoming(**base, text=key, command=command, args=args)
            return Incoming(**base, payload=key)
        return None
    if msg_type in MEDIA:
        mime, ext = MEDIA[msg_type]
        media_id = text_of(root, "MediaId")
        if not media_id:
            return None
        name = f"{msg_type}-{text_of(root, 'MsgId') or media_id[:12]}.{ext}"
        return Incoming(**base, attachment=Attachment(name, mime, 0, media_id))
    return None


__all__ = ["MAX_BODY", "Refused", "parse_body", "text_of", "to_incoming"]
