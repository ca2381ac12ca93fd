"""Who wrote, and where (来访识别): everything an inbound event needs, in one query.

Every event starts the same way: the sender's person and roles, the chat, and the form
state of that person in that chat. Asked one by one that is four round trips per event;
on SQLite each is a hop to the driver's thread, which made identification most of the
cost of a short answer. This repository asks once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import BindParameter, Select, and_, bindparam, func, inspect, select
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from storage.models import Account, Base, Chat, Conversation, Person, PersonRole
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
        sender the store has never seen (the caller registers them).

        The row comes back as plain columns, which costs about a third less than loading
        ORM entities. The person is then the session's own object (the one it holds
        already, or this row attached as persistent), so a handler's changes to it are
        flushed as usual; the form state is a detached snapshot, as handlers only read
        it and save forms through `ConversationRepo`.
        """
        stmt = _FIND.get(self.dialect)
        if stmt is None:  # built once per dialect; the values are bound at execution
            stmt = _FIND[self.dialect] = _find_statement(self.dialect)
        params = {"platform": platform, "sender": sender_id, "chat": chat_id}
        row = (await self.session.execute(stmt, params)).first()
        if row is None:
            return None
        values = row._mapping
        chat = None
        if values["chat_id"] is not None:
            chat = KnownChat(values["chat_id"], values["chat_title"])
        conversation = None
        if values["c_id"] is not None:
            conversation = Conversation(**{key: values[f"c_{key}"] for key in _COLUMNS["c"]})
        return Arrival(
            person=self._attached_person(values),
            roles=frozenset(r for r in (values["roles"] or "").split(",") if r),
            chat=chat,
            conversation=conversation,
        )

    def _attached_person(self, values: Any) -> Person:
        session = self.session.sync_session
        key = identity_key(Person, values["p_id"])
        held = session.identity_map.get(key)
        if held is not None:
            return cast(Person, held)
        person = Person(**{key: values[f"p_{key}"] for key in _COLUMNS["p"]})
        make_transient_to_detached(person)  # it is this row, not a new person
        session.add(person)
        return person


def _columns(model: type[Base]) -> dict[str, str]:
    """Attribute key -> column name of each mapped column."""
    return {attr.key: attr.columns[0].name for attr in inspect(model).column_attrs}


_COLUMNS = {"p": _columns(Person), "c": _columns(Conversation)}


def _find_statement(dialect: str) -> Select[Any]:
    # Table columns, not ORM attributes: the row is read as plain columns (see `find`).
    person, role, account = Person.__table__.c, PersonRole.__table__.c, Account.__table__.c
    chat_, form = Chat.__table__.c, Conversation.__table__.c
    if dialect == "postgresql":
        joined = func.string_agg(role.role, ",")
    else:
        joined = func.group_concat(role.role, ",")
    roles = select(joined).where(role.person_id == person.id).scalar_subquery()
    platform: BindParameter[str] = bindparam("platform")
    chat: BindParameter[str] = bindparam("chat")
    return (
        select(
            *[person[name].label(f"p_{key}") for key, name in _COLUMNS["p"].items()],
            roles.label("roles"),
            chat_.id.label("chat_id"),
            chat_.title.label("chat_title"),
            *[form[name].label(f"c_{key}") for key, name in _COLUMNS["c"].items()],
        )
        .select_from(
            Account.__table__.join(Person.__table__, person.id == account.person_id)
            .outerjoin(Chat.__table__, and_(chat_.platform == platform, chat_.external_id == chat))
            .outerjoin(
                Conversation.__table__,
                and_(
                    form.platform == platform,
                    form.chat_external_id == chat,
                    form.person_id == person.id,
                ),
            )
        )
        .where(account.platform == platform, account.external_id == bindparam("sender"))
    )


_FIND: dict[str, Select[Any]] = {}

__all__ = ["Arrival", "ArrivalRepo"]
