"""The schema (数据模型) as SQLAlchemy 2 declarative models.

All timestamps are ``UTCDateTime`` (aware UTC); calendar dates of the checklist are
plain ``Date``. Constraint names follow one convention so that Alembic batch mode on
SQLite can find them again.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, NoReturn

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    literal_column,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Mapper,
    ORMExecuteState,
    Session,
    mapped_column,
    relationship,
)

from storage.types import JSONDict, JSONList, JsonMemberText, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")
CHAT_KINDS = ("dm", "group")


class Base(DeclarativeBase):
    """Declarative base carrying the shared metadata and naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _person_fk(ondelete: str | None = None) -> ForeignKey:
    return ForeignKey("persons.id", ondelete=ondelete)


class Department(Base):
    """An approval department (审批部门), e.g. 规划自然资源局, known by a stable code."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))


class Person(Base):
    """One human being; they may reach us through several accounts (Telegram, WeCom…)."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    mobile: Mapped[str | None] = mapped_column(String(32))
    lang: Mapped[str] = mapped_column(String(16), default="zh_CN")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The company an enterprise contact acts for (their own statement, via /profile).
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprises.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PersonRole(Base):
    """A role a person holds: enterprise, butler (项目管家), specialist, backup, office, leader."""

    __tablename__ = "person_roles"
    __table_args__ = (UniqueConstraint("person_id", "role", "department_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(_person_fk("CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    backup_of_id: Mapped[int | None] = mapped_column(_person_fk("SET NULL"))

    department: Mapped[Department | None] = relationship(lazy="joined")


class Account(Base):
    """A person's identity on one messaging platform."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(_person_fk("CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when the platform says the account cannot be reached (WeCom's invaliduser /
    # 60111: left the organisation); the office is told once (migration 0008).
    unreachable_since: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Chat(Base):
    """A chat the bot is in: a DM or a group (a project's group chat when project_id is set)."""

    __tablename__ = "chats"
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        CheckConstraint("kind IN ('dm', 'group')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(8))
    title: Mapped[str | None] = mapped_column(String(200))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Enterprise(Base):
    """A company building a project (建设主体); USCC = 统一社会信用代码."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


CLAIM_STATUSES = ("pending", "approved", "refused")


class EnterpriseClaim(Base):
    """A person's statement that they act for an enterprise (联络人认领), by its credit code.

    A claim is not membership: ``Person.enterprise_id`` is set only when the office accepts
    the person's application (the enterprise's first contact) or an existing contact or the
    office approves the claim. ``stated_name`` is what the person typed; it never renames the
    enterprise.
    """

    __tablename__ = "enterprise_claims"
    __table_args__ = (
        Index("ix_enterprise_claims_enterprise_id_status", "enterprise_id", "status"),
        CheckConstraint("status IN ('pending', 'approved', 'refused')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(_person_fk("CASCADE"), index=True)
    stated_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(_person_fk("SET NULL"))


class CodeAttempt(Base):
    """A wrong invite or bind code (错误邀请码) typed from one messenger account.

    Kept in the store, not in memory, so the limit on guessing holds across restarts and
    replicas; rows older than the window are deleted as new ones arrive.
    """

    __tablename__ = "code_attempts"
    __table_args__ = (Index("ix_code_attempts_account_at", "platform", "external_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Application(Base):
    """An application for agency service (代办申请), accepted or rejected by the office."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    contact_person_id: Mapped[int] = mapped_column(_person_fk(), index=True)
    project_name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64))
    investment_wan: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    data: Mapped[dict[str, Any]] = mapped_column(JSONDict(), default=dict)
    status: Mapped[str] = mapped_column(String(32), index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(_person_fk())
    decision_reason: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)


class Project(Base):
    """An accepted project; ``snapshot`` is the scheme's checklist and ladder as promised."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))
    category: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), index=True)
    zone: Mapped[str | None] = mapped_column(String(100))
    butler_id: Mapped[int | None] = mapped_column(_person_fk(), index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    service_card_no: Mapped[str | None] = mapped_column(String(64))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONDict(), default=dict)
    # The snapshot's ladder as JSON text, kept by the database (a generated column): the
    # daily round reads every live project's ladder, and reading it out of whole
    # snapshots cost a second at 30,000 projects on PostgreSQL.
    escalation: Mapped[str | None] = mapped_column(
        Text, Computed(JsonMemberText(literal_column("snapshot"), "escalation"))
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CodeSequence(Base):
    """The last number handed out under a code prefix (编号序列), e.g. ``P2026-``: one row
    locked and incremented in the accepting transaction, so two offices accepting at the
    same moment get two numbers, and a rolled-back accept hands its number back."""

    __tablename__ = "code_sequences"

    prefix: Mapped[str] = mapped_column(String(64), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class ProjectMember(Base):
    """A member of a project's team (代办组): butler, specialists, enterprise contact."""

    __tablename__ = "project_members"
    __table_args__ = (UniqueConstraint("project_id", "person_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(_person_fk("CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))


class ChecklistItem(Base):
    """One procedure of a project's plan (手续事项), with its working-day clock."""

    __tablename__ = "checklist_items"
    __table_args__ = (
        Index("ix_checklist_items_state_due_on", "state", "due_on"),
        Index("ix_checklist_items_project_id", "project_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    stage: Mapped[str] = mapped_column(String(64))
    assignee_id: Mapped[int | None] = mapped_column(_person_fk("SET NULL"), index=True)
    limit_workdays: Mapped[int] = mapped_column(Integer)
    prerequisites: Mapped[list[str]] = mapped_column(JSONList(), default=list)
    state: Mapped[str] = mapped_column(String(32), default="not_started")
    started_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_on: Mapped[date | None] = mapped_column(Date)
    paused_workdays: Mapped[int] = mapped_column(Integer, default=0)
    done_on: Mapped[date | None] = mapped_column(Date)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    # From the plan (domain/planning.py) and the item's clock (domain/items.py).
    planned_start: Mapped[date | None] = mapped_column(Date)
    corrections: Mapped[int] = mapped_column(Integer, default=0)


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


class OutboxMessage(Base):
    """A message waiting to be delivered by the outbox worker (发件箱)."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The claim: pending rows in id order, and a chat's earlier rows (migration 0005).
        Index("ix_outbox_status_id", "status", "id"),
        Index("ix_outbox_chat_platform_status_id", "chat_external_id", "platform", "status", "id"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    platform: Mapped[str] = mapped_column(String(32))
    chat_external_id: Mapped[str] = mapped_column(String(128))
    person_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDict())
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    # The platform event (update_id, MsgId) or work-log event that caused this message.
    source_event_id: Mapped[str | None] = mapped_column(String(128))


class InboundEvent(Base):
    """A platform event already handled (Telegram update_id, WeCom MsgId)."""

    __tablename__ = "inbound_events"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WeChatContact(Base):
    """A WeChat contact's customer-service window (客服消息窗口) and what is left of its quota.

    WeChat lets an account answer a person for 48 hours after their last message, with a
    few messages per message they send; kept here so every replica and restart agrees.
    """

    __tablename__ = "wechat_contacts"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sends_left: Mapped[int] = mapped_column(Integer, default=0)


class WeChatNoticeSent(Base):
    """A template message (模板消息) already sent for one waiting outbox message: never twice."""

    __tablename__ = "wechat_notices_sent"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PlatformToken(Base):
    """A platform's access token (接口调用凭证), shared by every replica until it expires."""

    __tablename__ = "platform_tokens"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JobRun(Base):
    """A cron job's run for one slot ("ran for this slot"): scheduler dedupe and catch-up."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class DigestRecord(Base):
    """What a day's digest said (简报留存), as facts: `/digest DATE` shows the day as it
    stood then, not as the store is today."""

    __tablename__ = "digest_records"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    facts: Mapped[dict[str, Any]] = mapped_column(JSONDict(), default=dict)
    kept_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Activity(Base):
    """A government–enterprise activity (政企互动) a staff member recorded: a face-to-face
    meeting, a training, a site visit; counted in the quarterly statistics (季度统计)."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_held_on", "held_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(_person_fk("SET NULL"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    kind: Mapped[str] = mapped_column(String(32))
    held_on: Mapped[date] = mapped_column(Date)
    enterprises: Mapped[int] = mapped_column(Integer)
    participants: Mapped[int] = mapped_column(Integer)
    questions: Mapped[int] = mapped_column(Integer)
    topics: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StoredFile(Base):
    """A file the bot made to send (生成文件), e.g. a statistics table: kept in the store so
    whichever replica delivers the message can attach it."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    mime_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
class Card(Base):
    """An interactive card a transport sent (交互卡片), answered at most once (issue 16).

    ``task_id`` is the platform's card id (WeCom's TaskId); ``buttons`` the labels and
    payloads it showed; ``closed_at`` is set by the first press, with who pressed what.
    """

    __tablename__ = "cards"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    chat_external_id: Mapped[str] = mapped_column(String(128))
    buttons: Mapped[list[Any]] = mapped_column(JSONList())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pressed_by: Mapped[str | None] = mapped_column(String(128))
    pressed_payload: Mapped[str | None] = mapped_column(Text)
    response_code: Mapped[str | None] = mapped_column(String(255))


class RateSlot(Base):
    """One send counted against a platform limit (限流槽), shared by every replica."""

    __tablename__ = "rate_slots"
    __table_args__ = (Index("ix_rate_slots_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(160))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class TransportValue(Base):
    """A small value a transport keeps for all replicas (通道状态): an access token, the
    progress of a message sent in parts; gone after ``expires_at``."""

    __tablename__ = "transport_values"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(160), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


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


class Invite(Base):
    """A one-time code (邀请码): binds a person's messenger account, or a group to a project.

    kind "person": sent as `/start CODE` by the person named; kind "group": sent as
    `/bind CODE` in a group by the project's butler; kind "contact": sent as `/start CODE` by
    a new contact of an enterprise, issued by the office (`/contacts`).
    """

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[int | None] = mapped_column(_person_fk("CASCADE"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # kind "contact": the person who sends it becomes a contact of this enterprise.
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE")
    )
    created_by_id: Mapped[int | None] = mapped_column(_person_fk("SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by: Mapped[str | None] = mapped_column(String(200))  # platform:external id


class Problem(Base):
    """A difficult problem (难点问题) on a project or item, climbing the ladder (分级调度).

    States: open → acked (taken; auto-raise paused until `ack_until`) → resolved (with the
    meeting minutes, 会议纪要). `auto` tells whether the ladder raised it or a person did.
    """

    __tablename__ = "problems"
    __table_args__ = (
        Index("ix_problems_state_level", "state", "level"),
        Index("ix_problems_project_id", "project_id"),
        Index("ix_problems_item_id", "item_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("checklist_items.id", ondelete="SET NULL")
    )
    level: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="open")
    reason: Mapped[str] = mapped_column(Text)
    auto: Mapped[bool] = mapped_column(Boolean, default=True)
    opened_by_id: Mapped[int | None] = mapped_column(_person_fk("SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    owner_id: Mapped[int | None] = mapped_column(_person_fk("SET NULL"))
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ack_until: Mapped[date | None] = mapped_column(Date)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(_person_fk("SET NULL"))
    minutes: Mapped[str | None] = mapped_column(Text)


class Rating(Base):
    """One rating in a rating round (评价): five levels, 1 非常不满意 … 5 非常满意.

    subject "team": the enterprise rates the butler and team; "enterprise": the butler rates
    the enterprise's cooperation. Levels 1–2 are bad reviews that open a follow-up.
    """

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("project_id", "rater_id", "subject", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    rater_id: Mapped[int] = mapped_column(_person_fk("CASCADE"))
    subject: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(16))  # e.g. 2026Q4, 2026-11, 2026
    level: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    follow_up: Mapped[str | None] = mapped_column(String(16))  # open | done, for bad reviews
    follow_up_due: Mapped[date | None] = mapped_column(Date)


class OutboxWorker(Base):
    """A delivery worker's heartbeat (投递心跳): the claims of a worker whose beat is older
    than a few seconds are taken over. Wall-clock times, never the application's clock."""

    __tablename__ = "outbox_workers"

    worker_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())


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


__all__ = [
    "CHAT_KINDS",
    "CLAIM_STATUSES",
    "NAMING_CONVENTION",
    "OUTBOX_STATUSES",
    "TICKET_STATUSES",
    "Account",
    "Activity",
    "AppendOnlyError",
    "Application",
    "Base",
    "Card",
    "Chat",
    "ChecklistItem",
    "CodeAttempt",
    "CodeSequence",
    "Conversation",
    "Department",
    "DigestRecord",
    "Enterprise",
    "EnterpriseClaim",
    "Event",
    "InboundEvent",
    "JobRun",
    "OutboxMessage",
    "OutboxWorker",
    "Person",
    "PersonRole",
    "PlatformToken",
    "Project",
    "ProjectMember",
    "RateSlot",
    "StoredFile",
    "Ticket",
    "TransportValue",
    "WeChatContact",
    "WeChatNoticeSent",
]
