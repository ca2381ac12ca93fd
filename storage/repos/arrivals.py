"""Who wrote, and where (来访识别): everything an inbound event needs, in one query.

Every event starts the same way: the sender's person and roles, the chat, and the form
state of that person in that chat. Asked one by one that is four round trips per event;
on SQLite each is a hop to the driver's thread, which made identification most of the
cost of a short answer. This repository asks once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Select, and_, bindparam, func, select

from storage.models import Account, Chat, Conversation, Person, PersonRole
from storage.repos._base import Repo


@dataclass(frozen=True, slots=True)
class KnownChat:
    """The chat of an event, as far as identification needs it."""

    id: int
    title: str | None


@dataclass(frozen=True, slots=True)
class Arrival:
    """What the store knows of a known sender; `chat` and `conversation` None when new."""

    person: Person
    roles: frozenset[str]
    chat: KnownChat | None
    conversation: Conversation | None


class ArrivalRepo(Repo):
    """Identify the sender of an event and load their chat and form state together."""

    async def find(self, platform: str, sender_id: str, chat_id: str) -> Arrival | None:
        """The sender's person (by account), roles, the chat and the form state; None for a
        sender the store has never seen (the caller registers them)."""
        stmt = _FIND.get(self.dialect)
        if stmt is None:  # built once per dialect; the values are bound at execution
            stmt = _FIND[self.dialect] = _find_statement(self.dialect)
        params = {"platform": platform, "sender": sender_id, "chat": chat_id}
        row = (await self.session.execute(stmt, params)).first()
        if row is None:
            return None
        person, role_text, chat_id, chat_title, conversation = row
        return Arrival(
            person=person,
            roles=frozenset(r for r in (role_text or "").split(",") if r),
            chat=None if chat_id is None else KnownChat(int(chat_id), chat_title),
            conversation=conversation,
        )


def _find_statement(dialect: str) -> Select[Any]:
    if dialect == "postgresql":
        joined = func.string_agg(PersonRole.role, ",")
    else:
        joined = func.group_concat(PersonRole.role, ",")
    roles = (
        select(joined).where(PersonRole.person_id == Person.id).correlate(Person).scalar_subquery()
    )
    platform: BindParameter[str] = bindparam("platform")
    chat: BindParameter[str] = bindparam("chat")
    return (
        select(Person, roles, Chat.id, Chat.title, Conversation)
        .select_from(Account)
        .join(Person, Person.id == Account.person_id)
        .outerjoin(Chat, and_(Chat.platform == platform, Chat.external_id == chat))
        .outerjoin(
            Conversation,
            and_(
                Conversation.platform == platform,
                Conversation.chat_external_id == chat,
                Conversation.person_id == Person.id,
            ),
        )
        .where(Account.platform == platform, Account.external_id == bindparam("sender"))
        .execution_options(populate_existing=True)
    )


_FIND: dict[str, Select[Any]] = {}

__all__ = ["Arrival", "ArrivalRepo"]
