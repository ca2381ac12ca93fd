"""The WeCom sending transport (企业微信发送通道).

Where a message goes is decided by its outbox chat id:

- a name in `DAIBAN_WECOM_ROBOT_KEYS` → that group's robot webhook (`cgi-bin/webhook/send`),
  @mentions through `mentioned_list` (WeCom userids);
- `appchat:<chatid>` → a group chat the app created (`cgi-bin/appchat/send`);
- anything else is a member's userid → an app message (`cgi-bin/message/send`).

Files (文件消息): an attachment whose `ref` is a file on this machine is uploaded as
temporary media (素材) and sent as a `file` message after the text — app messages and
app group chats upload with `cgi-bin/media/upload?type=file`, robots with their own
`cgi-bin/webhook/upload_media?key=…&type=file`. A media_id lives 3 days (上传临时素材), so
an upload is remembered per uploader and content hash for 2 days and reused; a send
refused with 40007 (invalid media_id) uploads again once. WeCom takes files of more than 5
bytes and at most 20 MB; any other attachment (too small or large, or a reference that
is not a local file, e.g. another platform's file id) is named in the text instead.

Buttons become a `template_card` of type `button_interaction` when WeCom can show them (a
person, at most 6 buttons, each payload at most 1024 bytes, a short text) — the pressed
button's key comes back as the callback's EventKey; otherwise the text lists numbered
options and the person replies `#2` (bot/transports/wecom.py maps it back).

Limits, from the WeCom docs: an app may send one member at most 30 messages a minute
(发送应用消息 "频率限制"), a robot at most 20 a minute (群机器人配置说明). They are kept
here without blocking: a message over the limit raises `TransientError(retry_after)`, so
the delivery worker holds that chat and keeps its order.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.transports.base import TransientError
from bot.transports.text_pieces import with_options
from bot.transports.wecom_cards import CARD_UPDATE
from bot.transports.wecom_client import APPCHAT_PREFIX, PLATFORM, MediaGone, WeComApi
from bot.transports.wecom_groups import BindGroup, GroupMaker
from bot.transports.wecom_media import FileStep, LocalFile, MediaCache, local_file
from bot.transports.wecom_render import (
    ROBOT_MARKDOWN_BYTES,
    TEXT_BYTES,
    button_card,
    card_fits,
    plain,
    split_bytes,
    text_bodies,
    text_part,
    with_attachment,
    with_names,
)
from bot.transports.wecom_state import Limit, MemoryState, SendState
from handlers.chat import Outgoing
from handlers.groups import GROUP_INTENT

WINDOW_MARGIN = 0.025
MIN_MARGIN = 0.5  # seconds


class RateBackoff:
    """Growing waits for repeated 45009/45033 on one target: 2, 4, 8 … 60 s."""

    def __init__(self) -> None:
        self._strikes: dict[str, int] = {}

    def next(self, key: str) -> float:
        strikes = self._strikes.get(key, 0) + 1
        self._strikes[key] = strikes
        return float(min(60, 2**strikes))

    def reset(self, key: str) -> None:
        self._strikes.pop(key, None)


class WeComTransport:
    """Deliver outbox payloads on WeCom: app messages, app group chats, group robots."""

    platform = PLATFORM

    def __init__(
        self,
        api: WeComApi,
        *,
        robot_keys: dict[str, str],
        lang_of: Callable[[str], Awaitable[str]],
        default_lang: str,
        member_per_minute: int = 30,
        member_per_hour: int = 1000,
        robot_per_minute: int = 20,
        state: SendState | None = None,
        minute: float = 60.0,
        bind_group: BindGroup | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.groups = GroupMaker(api, bind_group)
        self.robot_keys = robot_keys
        self.lang_of = lang_of
        self.default_lang = default_lang
        # `minute` is shorter only in tests and benchmarks, with the fake's limits alike.
        # Windows a little longer than WeCom's (2.5 %, at least half a second): a send
        # admitted as the window ends must not reach WeCom before WeCom's window has moved
        # on (network and scheduling delays between admission and arrival).
        period = minute + max(minute * WINDOW_MARGIN, MIN_MARGIN)
        self.member_limits = [(member_per_minute, period), (member_per_hour, 60 * period)]
        self.robot_limits = [(robot_per_minute, period)]
        self.state: SendState = state if state is not None else MemoryState(clock)
        self.backoff = RateBackoff()
        self.media = MediaCache(clock)

    @property
    def problems(self) -> list[str]:
        """What /healthz reports: a configuration error holding the app's messages."""
        return [f"WeCom: {self.api.problem}"] if self.api.problem else []

    async def send(self, chat_external_id: str, payload: dict[str, Any]) -> None:
        """Deliver one outbox payload, or raise TransientError / PermanentError."""
        await self.send_row(None, chat_external_id, payload)

    async def send_row(
        self, row_id: int | None, chat_external_id: str, payload: dict[str, Any]
    ) -> None:
        """Deliver outbox row `row_id`: its id names the message's progress and its card."""
        if GROUP_INTENT in payload:  # the team's group chat, made or brought up to date
            await self.groups.run(payload[GROUP_INTENT])
            return
        if CARD_UPDATE in payload:  # a pressed card shows the choice and who made it
            update = payload[CARD_UPDATE]
            await self.api.update_card(
                chat_external_id, str(update["response_code"]), str(update["replace_name"])
            )
            return
        message = Outgoing.from_payload(payload)
        buttons = [b for row in payload.get("buttons", []) for b in row]
        mentions = payload.get("mentions", [])
        file = await asyncio.to_thread(local_file, message.attachment)
        digest = hashlib.sha1(
            (chat_external_id + json.dumps(payload, sort_keys=True, ensure_ascii=False)).encode()
        ).hexdigest()
        progress = f"outbox-{row_id}" if row_id is not None else digest
        if chat_external_id in self.robot_keys:
            await self._robot(chat_external_id, message, buttons, mentions, file, progress)
        elif chat_external_id.startswith(APPCHAT_PREFIX):
            await self._appchat(chat_external_id, message, buttons, mentions, file, progress)
        else:
            # A card's task_id is the row's, so a press names the message it answers.
            task_id = f"daiban-{row_id}-{digest[:8]}" if row_id is not None else None
            await self._member(chat_external_id, message, buttons, file, progress, task_id)

    async def _deliver(
        self,
        limits: list[Limit],
        key: str,
        bodies: list[dict[str, Any]],
        post: Callable[[dict[str, Any]], Awaitable[Any]],
        *,
        file: FileStep | None = None,
        progress: str = "",
    ) -> None:
        steps: list[Callable[[], Awaitable[Any]]] = [_bound(post, body) for body in bodies]
        if file is not None:
            steps.append(lambda: self._post_file(file, post))
        several = len(steps) > 1
        done = await self.state.progress(progress) if several else 0
        if not key.startswith("robot:"):
            # The token first: a gettoken between admission and send would let the send
            # reach WeCom later than its slot says, and the window close early for WeCom.
            await self.api.access_token()
        # All parts of a message are admitted together, so a limit never cuts one in half;
        # the slots are taken in the shared store before the first part leaves.
        left = len(steps) - done  # 0 after a crash between the last part and its record
        wait = await self.state.admit(key, limits, left) if left else 0.0
        if wait > 0:
            raise TransientError("WeCom rate limit reached (kept by Daiban)", retry_after=wait)
        for index in range(done, len(steps)):
            try:
                await steps[index]()
            except TransientError as exc:
                if exc.retry_after is None:  # WeCom's own 45009/45033
                    exc.retry_after = self.backoff.next(key)
                raise
            if several and index + 1 < len(steps):
                await self.state.advance(progress, index + 1)
        if several and (done > 0 or done + 1 < len(steps)):  # progress was recorded
            await self.state.advance(progress, None)
        self.backoff.reset(key)

    async def _media_id(self, step: FileStep, *, fresh: bool = False) -> str:
        known = None if fresh else self.media.get(step.uploader, step.file)
        if known is not None:
            return known
        media_id = await step.upload(step.file.filename, step.file.data)
        self.media.put(step.uploader, step.file, media_id)
        return media_id

    async def _post_file(
        self, step: FileStep, post: Callable[[dict[str, Any]], Awaitable[Any]]
    ) -> None:
        """Upload (or reuse) the file and send it; an expired media_id is uploaded anew once."""
        body = {"msgtype": "file", "file": {"media_id": await self._media_id(step)}}
        try:
            await post(body)
        except MediaGone:
            self.media.forget(step.uploader, step.file)
            body = {"msgtype": "file", "file": {"media_id": await self._media_id(step, fresh=True)}}
            await post(body)

    def _app_file(self, file: LocalFile | None) -> FileStep | None:
        return None if file is None else FileStep(file, "app", self.api.upload_media)

    async def _member(
        self,
        userid: str,
        message: Outgoing,
        buttons: list[dict[str, str]],
        file: LocalFile | None,
        progress: str,
        task_id: str | None = None,
    ) -> None:
        if buttons and card_fits(message.text, buttons):
            card = button_card(message.text, buttons, task_id)
            task = card["template_card"]["task_id"]
            await self.state.card_sent(task, userid, buttons)  # before: a press may be quick
            bodies = [card]
        else:
            text = message.text
            if buttons:
                text = with_options(text, [b["label"] for b in buttons], await self.lang_of(userid))
            bodies = text_part(text, message, file)

        async def post(body: dict[str, Any]) -> None:
            await self.api.send_message({"touser": userid, **body})

        await self._deliver(
            self.member_limits,
            f"member:{userid}",
            bodies,
            post,
            file=self._app_file(file),
            progress=progress,
        )

    async def _appchat(
        self,
        chat: str,
        message: Outgoing,
        buttons: list[dict[str, str]],
        mentions: list[dict[str, Any]],
        file: LocalFile | None,
        progress: str,
    ) -> None:
        # appchat/send has no mentions and no card callbacks: names and numbered options.
        # Its per-chat limit is not published; the robots' 20 a minute is the careful choice.
        text = with_names(message.text, [m["display_name"] for m in mentions])
        if buttons:
            text = with_options(text, [b["label"] for b in buttons], self.default_lang)
        chatid = chat.removeprefix(APPCHAT_PREFIX)

        async def post(body: dict[str, Any]) -> None:
            await self.api.send_appchat({"chatid": chatid, **body, "safe": 0})

        await self._deliver(
            self.robot_limits,
            chat,
            text_part(text, message, file),
            post,
            file=self._app_file(file),
            progress=progress,
        )

    async def _robot(
        self,
        name: str,
        message: Outgoing,
        buttons: list[dict[str, str]],
        mentions: list[dict[str, Any]],
        file: LocalFile | None,
        progress: str,
    ) -> None:
        userids = [m["external_id"] for m in mentions if m.get("external_id")]
        unknown = [m["display_name"] for m in mentions if not m.get("external_id")]
        text = with_names(message.text, unknown)
        if buttons:
            text = with_options(text, [b["label"] for b in buttons], self.default_lang)
        if file is None:
            text = with_attachment(text, message)
        bodies: list[dict[str, Any]]
        if userids:
            # Only text messages carry mentioned_list; it goes on the last part.
            bodies = [
                {"msgtype": "text", "text": {"content": part}}
                for part in split_bytes(plain(text), TEXT_BYTES)
            ]
            bodies[-1]["text"]["mentioned_list"] = userids
        elif text.strip() or file is None:
            bodies = text_bodies(text, markdown_limit=ROBOT_MARKDOWN_BYTES)
        else:
            bodies = []
        key = self.robot_keys[name]

        async def post(body: dict[str, Any]) -> None:
            await self.api.send_robot(key, body)

        async def upload(filename: str, data: bytes) -> str:
            return await self.api.upload_robot_media(key, filename, data)

        step = None if file is None else FileStep(file, f"robot:{name}", upload)
        await self._deliver(
            self.robot_limits, f"robot:{name}", bodies, post, file=step, progress=progress
        )


def _bound(
    post: Callable[[dict[str, Any]], Awaitable[Any]], body: dict[str, Any]
) -> Callable[[], Awaitable[Any]]:
    return lambda: post(body)


ROBOT_KEYS_HELP = "name=key pairs separated by commas, for example groupA=KEY1,groupB=KEY2"


def parse_robot_keys(text: str | None) -> dict[str, str]:
    """`groupA=key1,groupB=key2` → {"groupA": "key1", …}; ValueError names the bad part."""
    keys: dict[str, str] = {}
    entries = [e for e in re.split(r"[,;\n]", text or "") if e.strip()]
    for number, entry in enumerate(entries, start=1):
        name, sep, key = entry.partition("=")
        name, key = name.strip(), key.strip()
        if not sep or not name or not key:
            # Never echo the entry: it may hold a key.
            raise ValueError(f"entry {number} is not name=key ({ROBOT_KEYS_HELP})")
        if name in keys:
            raise ValueError(f"the group {name!r} appears twice")
        if name.startswith(APPCHAT_PREFIX):
            raise ValueError(f"a robot group name cannot start with {APPCHAT_PREFIX!r}")
        keys[name] = key
    return keys


__all__ = [
    "RateBackoff",
    "WeComTransport",
    "parse_robot_keys",
]
