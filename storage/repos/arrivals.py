"""Who wrote, and where (来访识别): everything an inbound event needs, in one query.

Every event starts the same way: the sender's person and roles, the chat, and the form
state of that person in that chat. Asked one by one that is four round trips per event;
on SQLite each is a hop to the driver's thread, which made identification most of the
cost of a short answer. This repository asks once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select

from storage.models import Account, Chat, Conversation, Person, PersonRole
from storage.repos._base import Repo


@dataclass(frozen=True, slots=True)
class Arrival:
    """What the store knows of a known sender; `chat` and `conversation` None when new."""

    person: Person
    roles: frozenset[str]
    chat: Chat | None
    conversation: Conversation | None


class ArrivalRepo(Repo):
    """Identify the sender of an event and load their chat and form state together."""

    async def find(self, platform: str, sender_id: str, chat_id: str) -> Arrival | None:
        """The sender's person (by account), roles, the chat and the form state; None for a
        sender the store has never seen (the caller registers them)."""
        if self.dialect == "postgresql":
            joined = func.string_agg(PersonRole.role, ",")
        else:
            joined = func.group_concat(PersonRole.role, ",")
        roles = (
            select(joined)
            .where(PersonRole.person_id == Person.id)
            .correlate(Person)
            .scalar_subquery()
        )
        stmt = (
            select(Person, roles, Chat, Conversation)
            .select_from(Account)
            .join(Person, Person.id == Account.person_id)
            .outerjoin(Chat, and_(Chat.platform == platform, Chat.external_id == chat_id))
            .outerjoin(
                Conversation,
                and_(
                    Conversation.platform == platform,
                    Conversation.chat_external_id == chat_id,
                    Conversation.person_id == Person.id,
                ),
            )
            .where(Account.platform == platform, Account.external_id == sender_id)
            .execution_options(populate_existing=True)
        )
        row = (await self.session.execute(stmt)).first()
        if row is None:
            return None
        person, role_text, chat, conversation = row
        return Arrival(
            person=person,
            roles=frozenset(r for r in (role_text or "").split(",") if r),
            chat=chat,
            conversation=conversation,
        )


__all__ = ["Arrival", "ArrivalRepo"]
