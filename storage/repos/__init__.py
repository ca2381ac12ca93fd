"""Repositories: one per aggregate, all working inside a unit of work's session."""

from storage.repos.chats import ChatRepo
from storage.repos.conversations import ConversationRepo
from storage.repos.departments import DepartmentRepo
from storage.repos.enterprises import EnterpriseRepo
from storage.repos.events import EventLog
from storage.repos.inbound import InboundRepo
from storage.repos.jobs import JobRunRepo
from storage.repos.outbox import OutboxRepo
from storage.repos.people import PeopleRepo

__all__ = [
    "ChatRepo",
    "ConversationRepo",
    "DepartmentRepo",
    "EnterpriseRepo",
    "EventLog",
    "InboundRepo",
    "JobRunRepo",
    "OutboxRepo",
    "PeopleRepo",
]
