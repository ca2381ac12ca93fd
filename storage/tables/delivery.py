"""What moves messages (消息收发): the outbox, inbound dedupe, platform tokens, cards, rate
slots, job runs and the WeChat channel's state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import (
    Mapped,
    mapped_column,
)

from storage.tables.base import Base
from storage.types import JSONDict, JSONList, UTCDateTime


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
    # A job held while it runs in slices (the daily round): who holds it; ``at`` is then
    # its last renewal, in real time.
    holder: Mapped[str | None] = mapped_column(String(64))


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


class OutboxWorker(Base):
    """A delivery worker's heartbeat (投递心跳): the claims of a worker whose beat is older
    than a few seconds are taken over. Wall-clock times, never the application's clock."""

    __tablename__ = "outbox_workers"

    worker_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())
