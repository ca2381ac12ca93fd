"""Chats the bot is in (DMs and groups)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from storage.models import Chat
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

    async def by_id(self, chat_id: int) -> Chat | None:
        """The chat with this row id, or None."""
        return await self.session.get(Chat, chat_id)

    async def for_project(self, project_id: int) -> list[Chat]:
        """The group chats linked to a project."""
        result = await self.session.execute(
            select(Chat).where(Chat.project_id == project_id).order_by(Chat.id)
        )
        return list(result.scalars())


__all__ = ["ChatRepo"]
