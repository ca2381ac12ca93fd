"""Chats the bot is in (DMs and groups)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, select

from storage.models import (
    Chat,
    Conversation,
    InboundEvent,
    OutboxMessage,
    Project,
    ProjectMember,
)
from storage.repos._base import Repo


class ChatRepo(Repo):
    """Find or register chats by their platform id."""

    async def get(self, platform: str, external_id: str) -> Chat | None:
        """The chat, or None if the bot has never seen it."""
        result = await self.session.execute(
            select(Chat).where(Chat.platform == platform, Chat.external_id == external_id)
        )
        return result.scalar_one_or_none()

    async def get_or_create(
        self, platform: str, external_id: str, kind: str, title: str | None, now: datetime
    ) -> Chat:
        """The chat, registered on first sight; a changed title is kept up to date."""
        chat = await self.get(platform, external_id)
        if chat is None:
            await self.insert_if_new(
                Chat,
                {
                    "platform": platform,
                    "external_id": external_id,
                    "kind": kind,
                    "title": title,
                    "created_at": now,
                },
            )
            chat = await self.get(platform, external_id)
            assert chat is not None
        elif title and chat.title != title:
            chat.title = title
            await self.session.flush()
        return chat

    async def register(
        self, platform: str, external_id: str, kind: str, title: str | None, now: datetime
    ) -> None:
        """`get_or_create` in one statement, for the inbound path that needs no object back:
        the chat is registered on first sight, and a changed title is kept up to date.
        (On SQLite each statement is a hop to the driver's thread; a first contact made
        three of them here.)"""
        stmt = _REGISTER.get(self.dialect)
        if stmt is None:  # built once per dialect; the values are bound at execution
            insert = self.insert(Chat)
            stmt = _REGISTER[self.dialect] = insert.on_conflict_do_update(
                index_elements=[Chat.platform, Chat.external_id],
                set_={"title": insert.excluded.title},
                where=and_(
                    insert.excluded.title.is_not(None),
                    Chat.title.is_distinct_from(insert.excluded.title),
                ),
            )
        values = {
            "platform": platform,
            "external_id": external_id,
            "kind": kind,
            "title": title,
            "created_at": now,
        }
        await self.session.execute(stmt, values)

    async def by_id(self, chat_id: int) -> Chat | None:
        """The chat with this row id, or None."""
        return await self.session.get(Chat, chat_id)

    async def for_project(self, project_id: int) -> list[Chat]:
        """The group chats linked to a project."""
        result = await self.session.execute(
            select(Chat).where(Chat.project_id == project_id).order_by(Chat.id)
        )
        return list(result.scalars())

    async def external_ids(self, platform: str, kind: str) -> list[str]:
        """The platform ids of the platform's chats of this kind (``dm`` or ``group``)."""
        result = await self.session.execute(
            select(Chat.external_id).where(Chat.platform == platform, Chat.kind == kind)
        )
        return list(result.scalars())

    async def groups_seen_by(
        self, platform: str, person_id: int
    ) -> list[tuple[Chat, str | None]]:
        """The platform's group chats that are bound to no project or to one of the
        person's projects, each with its project's code (None while unbound), by id."""
        member = exists().where(
            ProjectMember.project_id == Chat.project_id, ProjectMember.person_id == person_id
        )
        result = await self.session.execute(
            select(Chat, Project.code)
            .outerjoin(Project, Project.id == Chat.project_id)
            .where(Chat.platform == platform, Chat.kind == "group")
            .where(Chat.project_id.is_(None) | member)
            .order_by(Chat.id)
        )
        return [(chat, code) for chat, code in result.all()]

    async def forget_platform(self, platform: str) -> dict[str, int]:
        """Delete the platform's conversations, outbox rows, inbound dedupe rows and DM
        chats; how many rows went, by table. Groups stay: one may belong to a project."""
        removed: dict[str, int] = {}
        for name, model in (
            ("conversations", Conversation),
            ("outbox", OutboxMessage),
            ("inbound_events", InboundEvent),
        ):
            result = await self.session.execute(delete(model).where(model.platform == platform))
            removed[name] = int(getattr(result, "rowcount", 0) or 0)
        result = await self.session.execute(
            delete(Chat).where(Chat.platform == platform, Chat.kind == "dm")
        )
        removed["chats"] = int(getattr(result, "rowcount", 0) or 0)
        return removed


_REGISTER: dict[str, Any] = {}


__all__ = ["ChatRepo"]
