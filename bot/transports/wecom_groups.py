"""The team's group chat on WeCom (企业微信群聊): appchat/create, appchat/update.

A `group_intent` outbox row (handlers/groups.py) asks for a group of the team's members.
`GroupMaker` creates it with a chat id derived from the intent's one-time group code, so
a retry after a crash finds the chat (appchat/get) instead of making a second one; then it
binds the chat the way the butler's `/bind CODE` in it would, through the same pipeline.
An "update" intent brings the members of a group the app made in line with the team.

WeCom's conditions (创建群聊会话): only a self-built app whose visibility is the root
department may call it; 2 to 500 members; at most 1,000 new groups a day per organisation;
the app can write only to the chats it created itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from bot.transports.base import PermanentError
from bot.transports.wecom_client import APPCHAT_PREFIX, WeComApi

CHAT_GONE = "86003"  # appchat/get: "chat not exist"

BindGroup = Callable[[str, str, str, str], Awaitable[None]]  # (chat, owner, invite, title)


def chat_id_for(invite: str) -> str:
    """The chatid of the group an intent creates: ≤ 32 characters of [0-9a-zA-Z]."""
    return "dbn" + hashlib.sha256(invite.encode()).hexdigest()[:24]


class GroupMaker:
    """Carries out group intents for the WeCom transport."""

    def __init__(self, api: WeComApi, bind: BindGroup | None) -> None:
        self.api = api
        self.bind = bind

    async def run(self, intent: dict[str, Any]) -> None:
        members = [str(m) for m in intent.get("members", [])]
        if intent.get("action") == "create":
            if self.bind is None:
                raise PermanentError("this WeCom transport cannot bind group chats")
            invite, owner = str(intent["invite"]), str(intent["owner"])
            chatid = chat_id_for(invite)
            if await self._members(chatid) is None:  # not made yet (or a retry before it was)
                await self.api.create_appchat(str(intent["name"]), owner, members, chatid)
            await self.bind(APPCHAT_PREFIX + chatid, owner, invite, str(intent["name"]))
        elif intent.get("action") == "update":
            if not str(intent["chat"]).startswith(APPCHAT_PREFIX):
                return  # a robot's group: its members are the office's to manage
            chatid = str(intent["chat"]).removeprefix(APPCHAT_PREFIX)
            current = await self._members(chatid)
            if current is None:
                raise PermanentError("the project's group chat no longer exists on WeCom")
            owner = current[0] if current else ""
            add = [m for m in members if m not in current]
            remove = [m for m in current if m not in members and m != owner]
            if add or remove:
                await self.api.update_appchat(chatid, add=add, remove=remove)
        else:
            raise PermanentError(f"unknown group intent {intent.get('action')!r}")

    async def _members(self, chatid: str) -> list[str] | None:
        """The chat's members, owner first; None when WeCom has no such chat."""
        try:
            info = await self.api.get_appchat(chatid)
        except PermanentError as exc:
            if CHAT_GONE in str(exc):
                return None
            raise
        owner = str(info.get("owner", ""))
        users = [str(u) for u in info.get("userlist", [])]
        return [owner, *[u for u in users if u != owner]] if owner else users


__all__ = ["GroupMaker", "chat_id_for"]
