"""Enterprises and their applications (企业与申请): claims, code attempts, applications
and the running numbers their codes are drawn from.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import (
    Mapped,
    mapped_column,
)

from storage.tables.base import Base, _person_fk
from storage.types import JSONDict, UTCDateTime


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


class CodeSequence(Base):
    """The last number handed out under a code prefix (编号序列), e.g. ``P2026-``: one row
    locked and incremented in the accepting transaction, so two offices accepting at the
    same moment get two numbers, and a rolled-back accept hands its number back."""

    __tablename__ = "code_sequences"

    prefix: Mapped[str] = mapped_column(String(64), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
