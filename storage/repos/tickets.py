"""Consultation tickets (咨询工单): questions, who took them, the answer relayed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from storage.models import Ticket
from storage.repos._base import Repo


class TicketRepo(Repo):
    """Open, take (first one wins), answer and list consultation tickets."""

    async def add(
        self, asker_id: int, question: str, *, status: str, faq_entry: str | None, now: datetime
    ) -> Ticket:
        """Record a question; ``status`` is ``faq`` (answered from the FAQ) or ``open``."""
        ticket = Ticket(
            asker_id=asker_id,
            question=question,
            faq_entry=faq_entry,
            status=status,
            created_at=now,
            opened_at=now if status == "open" else None,
        )
        self.session.add(ticket)
        await self.session.flush()
        return ticket

    async def get(self, ticket_id: int, *, for_update: bool = False) -> Ticket | None:
        """The ticket, or None; ``for_update`` locks the row (PostgreSQL) until commit."""
        stmt = (
            select(Ticket).where(Ticket.id == ticket_id).execution_options(populate_existing=True)
        )
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def open(self, ticket_id: int, now: datetime) -> bool:
        """Hand a FAQ-answered question to the office; False if it already was."""
        result = await self.session.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.status == "faq")
            .values(status="open", opened_at=now)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def take(self, ticket_id: int, owner_id: int, now: datetime) -> bool:
        """Make ``owner_id`` the owner unless someone took it first (首问负责)."""
        result = await self.session.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.status == "open")
            .values(status="taken", owner_id=owner_id, taken_at=now)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def answer(self, ticket_id: int, owner_id: int, answer: str, now: datetime) -> bool:
        """Record the owner's answer and close the ticket; False if not theirs or closed."""
        result = await self.session.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.status == "taken", Ticket.owner_id == owner_id)
            .values(status="answered", answer=answer, answered_at=now)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def open_since(self, cutoff: datetime, *, limit: int = 500) -> list[Ticket]:
        """Tickets waiting for the office (``open``) since before ``cutoff``, oldest first."""
        result = await self.session.execute(
            select(Ticket)
            .where(Ticket.status == "open", Ticket.opened_at < cutoff)
            .order_by(Ticket.opened_at, Ticket.id)
            .limit(limit)
        )
        return list(result.scalars())


__all__ = ["TicketRepo"]
