"""The schema (数据模型) as SQLAlchemy 2 declarative models.

Every table, gathered from ``storage/tables/`` (split by subject: people, enterprises,
projects, the work log, delivery). All timestamps are ``UTCDateTime`` (aware UTC); calendar
dates of the checklist are plain ``Date``. Constraint names follow one convention so that
Alembic batch mode on SQLite can find them again.
"""

from __future__ import annotations

from storage.tables.base import (
    CHAT_KINDS,
    NAMING_CONVENTION,
    OUTBOX_STATUSES,
    Base,
)
from storage.tables.delivery import (
    Card,
    InboundEvent,
    JobRun,
    OutboxMessage,
    OutboxWorker,
    PlatformToken,
    RateSlot,
    TransportValue,
    WeChatContact,
    WeChatNoticeSent,
)
from storage.tables.enterprises import (
    CLAIM_STATUSES,
    Application,
    CodeAttempt,
    CodeSequence,
    Enterprise,
    EnterpriseClaim,
)
from storage.tables.people import (
    Account,
    Chat,
    Department,
    Invite,
    Mute,
    Person,
    PersonRole,
)
from storage.tables.projects import (
    Activity,
    ChecklistItem,
    DigestRecord,
    Problem,
    ProblemItem,
    Project,
    ProjectMember,
    Rating,
    StoredFile,
)
from storage.tables.work_log import (
    TICKET_STATUSES,
    AppendOnlyError,
    Conversation,
    Event,
    Ticket,
)

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
    "Invite",
    "JobRun",
    "Mute",
    "OutboxMessage",
    "OutboxWorker",
    "Person",
    "PersonRole",
    "PlatformToken",
    "Problem",
    "ProblemItem",
    "Project",
    "ProjectMember",
    "RateSlot",
    "Rating",
    "StoredFile",
    "Ticket",
    "TransportValue",
    "WeChatContact",
    "WeChatNoticeSent",
]
