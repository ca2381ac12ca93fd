"""The emulator transport (模拟器通道): outbox payloads pushed live to the open pages.

Every message the bot sends to an `emulator` chat, and every message a persona sends from
the page, becomes an `Entry` in a per-chat ring (the page's history, the inspector's and
the story export's material) and is pushed over every open WebSocket; each page shows the
entries of the chat it is looking at and marks the others as unread.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.demo import PLATFORM
from domain.clock import Clock
from handlers.chat import Incoming
from storage.db import Database
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

RING = 500  # entries kept per chat; older ones drop off the page and the export
EVENTS = 2000  # incoming events kept for the inspector


@dataclass
class Entry:
    """One line of a chat as the page shows it: from a persona, from the bot, or a clock move."""

    seq: int
    chat: str
    sender: str  # a persona key, "bot", or "clock"
    at: datetime  # simulated time
    text: str = ""
    buttons: list[list[dict[str, str]]] = field(default_factory=list)
    mentions: list[dict[str, Any]] = field(default_factory=list)
    attachment: dict[str, Any] | None = None
    kind: str = "bot"  # say | press | file | bot
    name: str = ""  # the sender's display name at the time
    lang: str = ""  # the sender's language at the time (for the story export)
    payload: str | None = None  # a pressed button's payload
    event_id: str | None = None  # the Incoming behind a persona's entry
    outbox_id: int | None = None  # the outbox row behind a bot entry

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["at"] = self.at.isoformat()
        return data


def incoming_json(event: Incoming) -> dict[str, Any]:
    """The platform-neutral event as plain JSON (for the inspector)."""
    data = dataclasses.asdict(event)
    data["chat_kind"] = event.chat_kind.value
    return data


class EmulatorHub:
    """The emulator's memory and its open pages: rings per chat, events, sockets."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.chats: dict[str, deque[Entry]] = {}
        self.clock_moves: list[Entry] = []
        self.events: dict[str, dict[str, Any]] = {}
        self.sockets: set[web.WebSocketResponse] = set()
        self._seq = 0
        self._loaded: set[str] = set()

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def ring(self, chat: str) -> deque[Entry]:
        return self.chats.setdefault(chat, deque(maxlen=RING))

    def find(self, seq: int) -> Entry | None:
        for ring in self.chats.values():
            for entry in ring:
                if entry.seq == seq:
                    return entry
        return None

    def remember_event(self, event: Incoming) -> None:
        self.events[event.event_id] = incoming_json(event)
        while len(self.events) > EVENTS:
            self.events.pop(next(iter(self.events)))

    async def add(self, entry: Entry) -> None:
        """Keep the entry and push it to every open page."""
        self.ring(entry.chat).append(entry)
        await self.broadcast({"type": "entry", "entry": entry.to_json()})

    def note_clock_move(self, at: datetime) -> None:
        self.clock_moves.append(Entry(self.next_seq(), "", "clock", at, kind="clock"))

    async def history(self, chat: str) -> list[Entry]:
        """The chat's entries; after a restart, the bot's side is read back from the outbox."""
        if chat not in self._loaded:
            self._loaded.add(chat)
            if not self.ring(chat):
                async with UnitOfWork(self.db) as uow:
                    rows = await uow.outbox.recent_for_chat(
                        PLATFORM, chat, limit=50, statuses=["sent"]
                    )
                for row in rows:
                    entry = _bot_entry(self.next_seq(), chat, row.created_at, row.id, row.payload)
                    self.ring(chat).append(entry)
        return list(self.ring(chat))

    def clear(self) -> None:
        """Forget everything (reset demo); the sequence keeps counting so pages never mix."""
        self.chats.clear()
        self.clock_moves.clear()
        self.events.clear()
        self._loaded.clear()

    async def broadcast(self, message: dict[str, Any]) -> None:
        for ws in list(self.sockets):
            if ws.closed:
                self.sockets.discard(ws)
                continue
            try:
                await ws.send_json(message)
            except (ConnectionError, RuntimeError):  # a page closing mid-send
                self.sockets.discard(ws)

    async def close_sockets(self) -> None:
        for ws in list(self.sockets):
            with contextlib.suppress(Exception):
                await ws.close()
        self.sockets.clear()


def _bot_entry(
    seq: int, chat: str, at: datetime, outbox_id: int | None, payload: dict[str, Any]
) -> Entry:
    return Entry(
        seq=seq,
        chat=chat,
        sender="bot",
        at=at,
        text=str(payload.get("text", "")),
        buttons=[list(row) for row in payload.get("buttons", [])],
        mentions=list(payload.get("mentions", [])),
        attachment=payload.get("attachment"),
        kind="bot",
        outbox_id=outbox_id,
    )


class EmulatorTransport:
    """Delivers outbox rows of platform `emulator` to the hub (and so to the pages)."""

    platform = PLATFORM

    def __init__(self, hub: EmulatorHub, uploads: Path | None = None) -> None:
        self.hub = hub
        self.uploads = uploads  # where a file the bot sends is kept for the page to download
        self._lock = asyncio.Lock()
        self._assigned: deque[int] = deque(maxlen=200)

    async def send(self, chat_external_id: str, payload: dict[str, Any]) -> None:
        # The worker hands over the payload only; the row being sent is the oldest one of
        # this chat in state "sending" with this payload, which the inspector wants to show.
        async with self._lock:
            outbox_id = None
            at = self.hub.clock.now()
            async with UnitOfWork(self.hub.db) as uow:
                rows = await uow.outbox.recent_for_chat(
                    PLATFORM, chat_external_id, limit=100, statuses=["sending"]
                )
            for row in rows:
                same = _without_file(row.payload) == _without_file(payload)
                if same and row.id not in self._assigned:
                    outbox_id = row.id
                    # A job's message is shown at the time the job queued it.
                    at = min(at, row.created_at)
                    self._assigned.append(row.id)
                    break
            seq = self.hub.next_seq()
            payload = await self._keep_file(seq, payload)
            entry = _bot_entry(seq, chat_external_id, at, outbox_id, payload)
            await self.hub.add(entry)

    async def _keep_file(self, seq: int, payload: dict[str, Any]) -> dict[str, Any]:
        """A file the bot sends (the worker wrote it to a temporary path) copied into the
        uploads folder, so the page offers it as a download (``uploads/…``)."""
        attachment = payload.get("attachment") or {}
        source = Path(str(attachment.get("ref") or ""))
        if self.uploads is None or not source.is_absolute():
            return payload
        if not await asyncio.to_thread(source.is_file):
            return payload
        name = f"bot{seq}-{Path(str(attachment.get('filename') or source.name)).name}"
        data = await asyncio.to_thread(source.read_bytes)
        await asyncio.to_thread(self.uploads.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread((self.uploads / name).write_bytes, data)
        return {**payload, "attachment": {**attachment, "ref": f"uploads/{name}"}}


def _without_file(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload without its attachment's ref, which the worker rewrites to a local path."""
    attachment = payload.get("attachment")
    if not attachment:
        return payload
    return {**payload, "attachment": {**attachment, "ref": None}}
