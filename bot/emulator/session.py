"""What the page can do (模拟器会话): act as a persona, move time, inspect, reset, export.

The route handlers in `routes.py` are thin; this is where a page action meets the core.
"""

from __future__ import annotations

import mimetypes
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.app import App
from bot.config import Settings
from bot.demo import PLATFORM, Persona, new_group, reset_demo
from bot.emulator.clock import EmulatorClock
from bot.emulator.personas import chats_of, group_of, persona_view, persona_views
from bot.emulator.story_export import export_story
from bot.emulator.transport import EmulatorHub, Entry
from handlers.chat import Attachment, ChatKind, Incoming, Sender
from storage.models import OutboxMessage
from storage.uow import UnitOfWork


class EmulatorError(ValueError):
    """A page request that cannot be done (unknown persona or chat, empty text)."""


@dataclass
class EmulatorSession:
    app: App
    settings: Settings
    hub: EmulatorHub
    clock: EmulatorClock
    cast: list[Persona]
    uploads: Path

    # -- who ------------------------------------------------------------------------
    async def personas(self, ui_lang: str) -> list[dict[str, Any]]:
        async with UnitOfWork(self.app.services.db) as uow:
            views = await persona_views(uow, self.cast)
        return [v.to_json(self.app.services.scheme, ui_lang) for v in views]

    async def chats(self, key: str) -> list[dict[str, Any]]:
        async with UnitOfWork(self.app.services.db) as uow:
            view = await persona_view(uow, self.cast, key)
            if view is None:
                raise EmulatorError(f"unknown persona {key!r}")
            groups = await chats_of(uow, view.person_id)
        return [{"id": key, "kind": "dm", "title": "", "project": None}, *groups]

    async def new_group(self, title: str) -> dict[str, Any]:
        """A new group chat nobody has bound yet; every page reloads its chat list."""
        title = " ".join(title.split())[:100]
        if not title:
            raise EmulatorError("a group needs a title")
        async with UnitOfWork(self.app.services.db) as uow:
            chat = await new_group(uow, title, now=self.clock.clock.now())
            made = {"id": chat.external_id, "kind": "group", "title": title, "project": None}
        await self.hub.broadcast({"type": "chats"})
        return made

    # -- acting -----------------------------------------------------------------------
    async def act(
        self,
        key: str,
        chat: str,
        *,
        text: str = "",
        payload: str | None = None,
        label: str = "",
        attachment: Attachment | None = None,
    ) -> Entry:
        """Send one event as persona `key` in `chat`, then deliver the replies live."""
        db = self.app.services.db
        async with UnitOfWork(db) as uow:
            view = await persona_view(uow, self.cast, key)
            if view is None:
                raise EmulatorError(f"unknown persona {key!r}")
            group = None if chat == key else await group_of(uow, chat)
            bound_to = group.project_id if group is not None else None
        if chat != key and group is None:
            raise EmulatorError(f"{key} has no chat {chat!r}")
        fields: dict[str, Any] = {}
        kind = "say"
        if payload is not None:
            fields["payload"] = payload
            kind = "press"
        elif attachment is not None:
            fields["attachment"] = attachment
            fields["text"] = text
            kind = "file"
        else:
            if not text.strip():
                raise EmulatorError("empty message")
            command, args = Incoming.parse_command(text)
            fields.update(text=text, command=command, args=args if command else "")
        event = Incoming(
            event_id=f"em-{uuid.uuid4().hex[:16]}",
            sender=Sender(PLATFORM, key, view.name, view.lang),
            chat_id=chat,
            chat_kind=ChatKind.GROUP if group is not None else ChatKind.DM,
            chat_title=(group.title or "") if group is not None else "",
            **fields,
        )
        entry = Entry(
            seq=self.hub.next_seq(),
            chat=chat,
            sender=key,
            at=self.clock.clock.now(),
            text=label if kind == "press" else text,
            attachment=None
            if attachment is None
            else {
                "filename": attachment.filename,
                "mime_type": attachment.mime_type,
                "size": attachment.size,
                "ref": attachment.ref,
            },
            kind=kind,
            name=view.name,
            lang=view.lang,
            payload=payload,
            event_id=event.event_id,
        )
        self.hub.remember_event(event)
        await self.hub.add(entry)
        await self.app.handle(event)
        await self.app.worker.drain()
        async with UnitOfWork(db) as uow:
            after = await persona_view(uow, self.cast, key)
            again = await group_of(uow, chat) if group is not None else None
            regrouped = again is not None and again.project_id != bound_to
        if after is not None and (after.lang, after.name) != (view.lang, view.name):
            await self.hub.broadcast(
                {"type": "persona", "key": key, "lang": after.lang, "name": after.name}
            )
        if regrouped:  # a group was bound: who sees it, and its project tag, changed
            await self.hub.broadcast({"type": "chats"})
        return entry

    async def upload(self, key: str, chat: str, filename: str, data: bytes) -> Entry:
        """Keep an uploaded file under the uploads folder and send it as an attachment."""
        safe = re.sub(r"[^\w.\-]+", "_", Path(filename).name, flags=re.UNICODE)[:80] or "file"
        stored = f"{uuid.uuid4().hex[:12]}-{safe}"
        self.uploads.mkdir(parents=True, exist_ok=True)
        (self.uploads / stored).write_bytes(data)
        mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        attachment = Attachment(Path(filename).name or safe, mime, len(data), f"uploads/{stored}")
        return await self.act(key, chat, attachment=attachment)

    # -- time -------------------------------------------------------------------------
    async def move_clock(self, action: str, to: str | None = None) -> dict[str, Any]:
        target = self.clock.target(action, to)
        self.hub.note_clock_move(target)
        await self.hub.broadcast({"type": "clock", "clock": self.clock.status() | {"busy": True}})
        ran = await self.clock.advance_to(target)
        status = self.clock.status() | {"jobs_run": ran}
        await self.hub.broadcast({"type": "clock", "clock": status})
        return status

    # -- inspecting -------------------------------------------------------------------
    async def inspect(self, seq: int) -> dict[str, Any]:
        """The event and the outbox row(s) behind one entry of the page."""
        entry = self.hub.find(seq)
        if entry is None:
            raise EmulatorError(f"no message #{seq} (it may have been reset)")
        rows: list[OutboxMessage] = []
        event_id = entry.event_id
        async with UnitOfWork(self.app.services.db) as uow:
            if entry.outbox_id is not None:
                row = await uow.outbox.get(entry.outbox_id)
                if row is not None:
                    rows = [row]
                    event_id = row.source_event_id
            elif entry.event_id is not None:
                # A persona's message: the replies it caused, in every chat.
                rows = await uow.outbox.for_source_event(PLATFORM, entry.event_id)
        return {
            "entry": entry.to_json(),
            "event": self.hub.events.get(event_id or "") if event_id else None,
            "event_id": event_id,
            "outbox": [_row_json(r) for r in rows],
        }

    async def conversation(self, key: str, chat: str) -> dict[str, Any] | None:
        async with UnitOfWork(self.app.services.db) as uow:
            view = await persona_view(uow, self.cast, key)
            if view is None:
                raise EmulatorError(f"unknown persona {key!r}")
            conv = await uow.conversations.load(PLATFORM, chat, view.person_id)
        if conv is None:
            return None
        return {
            "form": conv.form,
            "step": conv.step,
            "data": conv.data,
            "updated_at": conv.updated_at.isoformat(),
        }

    async def restart_conversation(self, key: str, chat: str) -> None:
        async with UnitOfWork(self.app.services.db) as uow:
            view = await persona_view(uow, self.cast, key)
            if view is None:
                raise EmulatorError(f"unknown persona {key!r}")
            await uow.conversations.clear(PLATFORM, chat, view.person_id)
            await uow.events.append(
                "demo.conversation_restarted",
                at=self.clock.clock.now(),
                actor_id=view.person_id,
                data={"chat": chat},
            )

    async def reset(self) -> dict[str, int]:
        removed = await reset_demo(self.app)
        self.hub.clear()
        await self.hub.broadcast({"type": "reset"})
        return removed

    async def export(self, chat: str | None) -> str:
        """The chat (or, with None, the whole session) as a story file."""
        chats = [chat] if chat is not None else list(self.hub.chats)
        entries = [e for c in chats for e in await self.hub.history(c)]
        groups: dict[str, str] = {}
        job_sent: set[int] = set()
        async with UnitOfWork(self.app.services.db) as uow:
            for c in {e.chat for e in entries}:
                group = await group_of(uow, c)
                if group is not None:
                    groups[c] = group.title or c
            for e in entries:
                if e.outbox_id is not None:
                    row = await uow.outbox.get(e.outbox_id)
                    if row is not None and row.source_event_id is None:
                        job_sent.add(e.outbox_id)
        try:
            return export_story(
                scheme=self.settings.scheme,
                tz=self.app.services.timezone,
                entries=entries,
                clock_moves=self.hub.clock_moves,
                cast=self.cast,
                groups=groups,
                job_sent=job_sent,
                title=f"emulator export: {chat or 'session'}",
            )
        except ValueError as exc:
            raise EmulatorError(str(exc)) from None


def _row_json(row: OutboxMessage) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "id": row.id,
        "dedupe_key": row.dedupe_key,
        "platform": row.platform,
        "chat_external_id": row.chat_external_id,
        "status": row.status,
        "attempts": row.attempts,
        "created_at": iso(row.created_at),
        "not_before": iso(row.not_before),
        "claimed_by": row.claimed_by,
        "claimed_at": iso(row.claimed_at),
        "sent_at": iso(row.sent_at),
        "last_error": row.last_error,
        "source_event_id": row.source_event_id,
    }
