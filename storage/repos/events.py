"""The work log (工作日志): append-only events, read per project or overall."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from storage.models import Event
from storage.repos._base import Repo


class EventLog(Repo):
    """Append events and read them back; there is deliberately no update or delete."""

    async def append(
        self,
        kind: str,
        *,
        at: datetime,
        actor_id: int | None = None,
        project_id: int | None = None,
        item_id: int | None = None,
        chat_id: int | None = None,
        data: dict[str, Any] | None = None,
        flush: bool = True,
    ) -> Event:
        """Add one event to the log; it is flushed so ``event.id`` is known (without
        ``flush``, as a job's many lines are, it is written with the rest at commit)."""
        event = Event(
            kind=kind,
            at=at,
            actor_id=actor_id,
            project_id=project_id,
            item_id=item_id,
            chat_id=chat_id,
            data=dict(data or {}),
        )
        self.session.add(event)
        if flush:
            await self.session.flush()
        return event

    async def for_project(self, project_id: int, limit: int = 50) -> list[Event]:
        """The project's latest ``limit`` events, oldest first (newest last)."""
        result = await self.session.execute(
            select(Event)
            .where(Event.project_id == project_id)
            .order_by(Event.at.desc(), Event.id.desc())
            .limit(limit)
        )
        return list(reversed(result.scalars().all()))

    async def recent(self, limit: int = 50) -> list[Event]:
        """The latest ``limit`` events of the whole log, newest last."""
        result = await self.session.execute(select(Event).order_by(Event.id.desc()).limit(limit))
        return list(reversed(result.scalars().all()))


__all__ = ["EventLog"]
