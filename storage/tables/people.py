"""People and how they are reached (人员与账号): departments, persons, roles, accounts,
chats and one-time invite codes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import (
    Mapped,
    mapped_column,
    relationship,
)

from storage.tables.base import Base, _person_fk
from storage.types import UTCDateTime


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
class Mute(Base):
    """A person's quiet period (免打扰): no morning message before `until`, except for a
    problem at the leader's rung. One row per person; `/mute off` deletes it."""

    __tablename__ = "mutes"

    person_id: Mapped[int] = mapped_column(_person_fk("CASCADE"), primary_key=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())
