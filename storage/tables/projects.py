"""Projects and their work (项目与事项): the team, the checklist, problems on the ladder,
ratings, activities, stored files and digest records.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Computed,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    literal_column,
)
from sqlalchemy.orm import (
    Mapped,
    mapped_column,
)

from storage.tables.base import Base, _person_fk
from storage.types import JSONDict, JSONList, JsonMemberText, UTCDateTime


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


class ProblemItem(Base):
    """An item listed on a problem (问题所涉事项): a project's overdue items share one problem.

    ``reason`` is what a person wrote when they reported the item up (/escalate), None for
    an item the ladder added; the reason shown is otherwise recomputed when shown.
    """

    __tablename__ = "problem_items"
    __table_args__ = (
        UniqueConstraint("problem_id", "item_id"),
        Index("ix_problem_items_item_id", "item_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_items.id", ondelete="CASCADE"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
