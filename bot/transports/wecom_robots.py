"""Group robots' callbacks (群机器人回调), the second way into a group the office already has.

A robot added to a group and set to receive messages (API mode) calls its own URL,
`/wecom/robot/<name>`, with its own Token and EncodingAESKey, in today's JSON format:
`{"encrypt": "…"}`, encrypted as the app's callbacks are but for an empty receive id, and
inside `{"msgid", "aibotid", "chatid", "chattype", "from": {"userid"}, "msgtype",
"text": {"content"}}`. A message in the group becomes an event of the chat `<name>`, so its
replies leave through that robot's webhook (`DAIBAN_WECOM_ROBOT_KEYS`); a single chat with
the robot is the member's own chat.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.config import ConfigError, Settings
from bot.transports.host import TransportHost
from bot.transports.wecom import WeComCallback, _short
from bot.transports.wecom_client import PLATFORM
from bot.transports.wecom_crypto import MAX_BODY, BadMessage, WXBizMsgCrypt
from handlers.chat import ChatKind, Incoming, Sender

ROBOT_PATH = "/wecom/robot/{name}"
CALLBACKS_HELP = "name=TOKEN:ENCODINGAESKEY pairs separated by commas"


def parse_robot_callbacks(text: str | None) -> dict[str, tuple[str, str]]:
    """`teamA=TOKEN:AESKEY,…` → {"teamA": (token, aes key)}; ValueError names the entry."""
    robots: dict[str, tuple[str, str]] = {}
    entries = [e for e in re.split(r"[,;\n]", text or "") if e.strip()]
    for number, entry in enumerate(entries, start=1):
        name, _, secrets_ = entry.partition("=")
        token, _, aes_key = secrets_.partition(":")
        name, token, aes_key = name.strip(), token.strip(), aes_key.strip()
        if not name or not token or len(aes_key) != 43 or not re.fullmatch(r"[\w.-]+", name):
            # Never echo the entry: it holds a token and a key.
            raise ValueError(f"entry {number} is not {CALLBACKS_HELP} (a 43-character key)")
        robots[name] = (token, aes_key)
    return robots


def robot_incoming(name: str, message: Mapping[str, Any]) -> Incoming | None:
    """The platform-neutral event of a robot's decrypted message; None if not handled."""
    userid = str((message.get("from") or {}).get("userid") or "")
    msg_id = str(message.get("msgid") or "")
    if not userid or not msg_id or message.get("msgtype") != "text":
        return None
    group = message.get("chattype") == "group"
    text = str((message.get("text") or {}).get("content") or "")
    text = re.sub(r"^(\s*@\S+\s*)+", "", text)  # "@机器人 /help": the mention addresses us
    command, args = Incoming.parse_command(text)
    return Incoming(
        event_id=_short(f"r:{name}:{msg_id}"),
        sender=Sender(PLATFORM, userid, "", None),
        chat_id=name if group else userid,
        chat_kind=ChatKind.GROUP if group else ChatKind.DM,
        text=text,
        command=command,
        args=args if command else "",
    )


class RobotCallback(WeComCallback):
    """One robot's callback: verified with its own token and key, JSON inside."""

    name = ""

    def _read(self, query: Mapping[str, str], body: bytes) -> tuple[Incoming | None, Any]:
        if len(body) > MAX_BODY:
            raise BadMessage("callback body too large")
        try:
            encrypted = json.loads(body.decode("utf-8"))["encrypt"]
        except (UnicodeDecodeError, ValueError, KeyError, TypeError):
            raise BadMessage("not the robots' JSON envelope") from None
        if not isinstance(encrypted, str):
            raise BadMessage("not the robots' JSON envelope")
        self.crypt.verify(
            query.get("msg_signature", ""),
            query.get("timestamp", ""),
            query.get("nonce", ""),
            encrypted,
        )
        try:
            message = json.loads(self.crypt.decrypt(encrypted))
        except ValueError:
            raise BadMessage("the robot's message is not JSON") from None
        if not isinstance(message, dict):
            raise BadMessage("the robot's message is not a JSON object")
        return robot_incoming(self.name, message), None


def add_robot_callbacks(
    app: TransportHost, settings: Settings, webhooks: dict[str, str], web_app: web.Application
) -> list[RobotCallback]:
    """Register `/wecom/robot/<name>` for each robot of `DAIBAN_WECOM_ROBOT_CALLBACKS`."""
    secret = settings.wecom_robot_callbacks
    try:
        robots = parse_robot_callbacks(secret.get_secret_value() if secret else None)
    except ValueError as exc:
        raise ConfigError(f"DAIBAN_WECOM_ROBOT_CALLBACKS: {exc}.") from None
    added = []
    for name, (token, aes_key) in robots.items():
        if name not in webhooks:
            raise ConfigError(
                f"DAIBAN_WECOM_ROBOT_CALLBACKS: the robot {name!r} needs its webhook key in "
                "DAIBAN_WECOM_ROBOT_KEYS to answer."
            )
        try:
            crypt = WXBizMsgCrypt(token, aes_key, "")  # robots: an empty receive id
        except ValueError:
            raise ConfigError(
                f"DAIBAN_WECOM_ROBOT_CALLBACKS: the key of robot {name!r} is not an "
                "EncodingAESKey."
            ) from None
        callback = RobotCallback(app, crypt)
        callback.name = name
        path = ROBOT_PATH.format(name=name)
        web_app.router.add_get(path, callback.verify_url)
        web_app.router.add_post(path, callback.receive)
        added.append(callback)
    return added


__all__ = [
    "ROBOT_PATH",
    "RobotCallback",
    "add_robot_callbacks",
    "parse_robot_callbacks",
    "robot_incoming",
]
