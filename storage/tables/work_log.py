"""The work log and conversations (工作日志与会话): append-only events, open dialogues and
consultation tickets.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import (
    CheckConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import (
    Mapped,
    Mapper,
    ORMExecuteState,
    Session,
    mapped_column,
)

from storage.tables.base import Base, _person_fk
from storage.types import JSONDict, UTCDateTime


class Conversation(Base):
    """Where one person stands in a form in one chat, so they can resume next week."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("platform", "chat_external_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    chat_external_id: Mapped[str] = mapped_column(String(128))
    person_id: Mapped[int] = mapped_column(_person_fk("CASCADE"), index=True)
    form: Mapped[str | None] = mapped_column(String(64))
    step: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONDict(), default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Event(Base):
    """One line of the append-only work log (工作日志). Never updated, never deleted.

    The ids it mentions are plain columns, not foreign keys: the log outlives its subjects.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_project_id_at", "project_id", "at"),
        Index("ix_events_item_id_kind", "item_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    project_id: Mapped[int | None] = mapped_column(Integer)
    item_id: Mapped[int | None] = mapped_column(Integer)
    chat_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSONDict(), default=dict)


TICKET_STATUSES = ("faq", "open", "taken", "answered")


class Ticket(Base):
    """A consultation question (咨询工单, 首问负责): answered from the FAQ, or by a person.

    ``faq``: the knowledge base answered it; ``open``: waiting for the office; ``taken``: a
    staff member owns it (the first to take it); ``answered``: the owner's reply was relayed.
    """

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_created_at", "status", "created_at"),
        CheckConstraint("status IN ('faq', 'open', 'taken', 'answered')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asker_id: Mapped[int] = mapped_column(_person_fk("CASCADE"), index=True)
    question: Mapped[str] = mapped_column(Text)
    faq_entry: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int | None] = mapped_column(_person_fk("SET NULL"))
    answer: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or remove a work-log event."""


def _refuse_change(_mapper: Mapper[Any], _connection: Any, target: Event) -> NoReturn:
    raise AppendOnlyError(f"the work log is append-only: event {target.id} cannot change")


event.listen(Event, "before_update", _refuse_change)
event.listen(Event, "before_delete", _refuse_change)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    """Also refuse ``update(Event)`` / ``delete(Event)`` statements run through a session."""
    if (state.is_update or state.is_delete) and state.bind_mapper is Event.__mapper__:
        raise AppendOnlyError("the work log is append-only: events cannot be updated or deleted")
