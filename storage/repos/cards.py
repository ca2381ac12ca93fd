"""Interactive cards (交互卡片): recorded when sent, closed by their first press."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from storage.models import Card
from storage.repos._base import Repo


@dataclass(frozen=True)
class Press:
    """The outcome of pressing a card: `first` when this press closed it."""

    first: bool
    card: Card | None  # None: a card this store never sent (or long forgotten)


class CardRepo(Repo):
    """Cards a transport sent, so that each is answered once, whichever replica hears it."""

    async def opened(
        self,
        platform: str,
        task_id: str,
        chat_external_id: str,
        buttons: list[dict[str, Any]],
        now: datetime,
    ) -> None:
        """Record a card just sent (again after a retry: the first record stays)."""
        await self.insert_if_new(
            Card,
            {
                "platform": platform,
                "task_id": task_id,
                "chat_external_id": chat_external_id,
                "buttons": buttons,
                "created_at": now,
            },
        )

    async def press(
        self,
        platform: str,
        task_id: str,
        *,
        by: str,
        payload: str,
        response_code: str | None,
        now: datetime,
    ) -> Press:
        """Close the card for this press if it is still open (one statement, so two
        replicas hearing two presses close it once)."""
        closed = await self.session.execute(
            update(Card)
            .where(Card.platform == platform, Card.task_id == task_id, Card.closed_at.is_(None))
            .values(
                closed_at=now, pressed_by=by, pressed_payload=payload, response_code=response_code
            )
            .execution_options(synchronize_session=False)
        )
        card = await self.session.scalar(
            select(Card).where(Card.platform == platform, Card.task_id == task_id)
        )
        return Press(first=getattr(closed, "rowcount", 0) == 1, card=card)


__all__ = ["CardRepo", "Press"]
