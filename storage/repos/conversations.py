"""Form state per chat and person (会话状态): what step they are on and what they typed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from storage.models import Conversation
from storage.repos._base import Repo


class ConversationRepo(Repo):
    """Load, save (upsert) and clear one person's form state in one chat."""

    async def load(
        self,
        platform: str,
        chat_external_id: str,
        person_id: int,
        *,
        for_update: bool = False,
    ) -> Conversation | None:
        """The stored state, or None. ``for_update`` locks the row (PostgreSQL) until commit.

        On SQLite the whole transaction already holds the write lock (BEGIN IMMEDIATE).
        """
        stmt = (
            select(Conversation)
            .where(
                Conversation.platform == platform,
                Conversation.chat_external_id == chat_external_id,
                Conversation.person_id == person_id,
            )
            .execution_options(populate_existing=True)
        )
        if for_update:
            stmt = stmt.with_for_update()
        result = await self.session.execute(stmt)
        return result.scalar_one_or_none()

    async def save(
        self,
        platform: str,
        chat_external_id: str,
        person_id: int,
        *,
        form: str | None,
        step: str | None,
        data: dict[str, Any],
        now: datetime,
    ) -> None:
        """Insert or replace the state (one atomic upsert, safe against a racing insert)."""
        values = {"form": form, "step": step, "data": dict(data), "updated_at": now}
        stmt = self.insert(Conversation).values(
            platform=platform, chat_external_id=chat_external_id, person_id=person_id, **values
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["platform", "chat_external_id", "person_id"], set_=values
        )
        await self.session.execute(stmt)
        # Refresh a copy this session may already hold, so readers see what was saved.
        await self.load(platform, chat_external_id, person_id)

    async def untouched_since(self, cutoff: datetime, *, limit: int = 500) -> list[Conversation]:
        """Unfinished forms (``form`` set) last touched before ``cutoff``, oldest first."""
        result = await self.session.execute(
            select(Conversation)
            .where(Conversation.form.is_not(None), Conversation.updated_at < cutoff)
            .order_by(Conversation.updated_at, Conversation.id)
            .limit(limit)
        )
        return list(result.scalars())

    async def clear(self, platform: str, chat_external_id: str, person_id: int) -> None:
        """Forget the state (the form was finished or cancelled)."""
        await self.session.execute(
            delete(Conversation).where(
                Conversation.platform == platform,
                Conversation.chat_external_id == chat_external_id,
                Conversation.person_id == person_id,
            )
        )


__all__ = ["ConversationRepo"]
