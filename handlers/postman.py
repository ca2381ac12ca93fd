"""The postman (投递员): messages into the outbox with stable dedupe keys, for reminders,
notices and reports, and the address book they need.

A daily round writes thousands of notices in one unit of work, most of them to the same
few dozen people (leaders, the office, each project's butler). Where each person is
reached, who holds a role, a project's team and group chats are therefore looked up once
per postman and remembered: a postman lives for one unit of work, and what it remembers
is not what that work changes (it writes problems, work-log lines and messages, never
accounts, roles or teams).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from handlers.chat import Outgoing
from storage.models import Account, Chat, Person, Project
from storage.uow import UnitOfWork


@dataclass
class Postman:
    """Writes messages into the outbox with stable dedupe keys (``prefix:suffix``)."""

    uow: UnitOfWork
    now: datetime
    prefix: str
    _accounts: dict[tuple[int, str | None], Account | None] = field(default_factory=dict)
    _people: dict[int, Person | None] = field(default_factory=dict)
    _roles: dict[str, list[Person]] = field(default_factory=dict)
    _members: dict[tuple[int, str], list[int]] = field(default_factory=dict)
    _groups: dict[int, list[Chat]] = field(default_factory=dict)
    _projects: dict[int, Project] = field(default_factory=dict)

    # -- sending ---------------------------------------------------------------------
    async def to_person(self, person_id: int, out: Outgoing, suffix: str) -> bool:
        """DM a person; False when they have no account or this key was used before."""
        account = await self.account(person_id)
        if account is None:
            return False
        return await self.to_chat(
            account.platform, account.external_id, out, suffix, person_id=person_id
        )

    async def to_chat(
        self,
        platform: str,
        chat_external_id: str,
        out: Outgoing,
        suffix: str,
        person_id: int | None = None,
    ) -> bool:
        """Post into a chat; False when this key was used before."""
        return await self.uow.outbox.enqueue(
            platform=platform,
            chat_external_id=chat_external_id,
            payload=await self._payload(platform, out),
            dedupe_key=f"{self.prefix}:{suffix}",
            now=self.now,
            person_id=person_id,
        )

    async def to_project_groups(self, project_id: int, out: Outgoing, suffix: str) -> int:
        """Post into every group chat bound to the project; how many were new."""
        sent = 0
        for chat in await self.group_chats(project_id):
            sent += await self.to_chat(chat.platform, chat.external_id, out, f"{suffix}:g{chat.id}")
        return sent

    async def _payload(self, platform: str, out: Outgoing) -> dict[str, Any]:
        """The outbox payload, each mention's account on ``platform`` filled in."""
        payload = out.to_payload()
        for mention, raw in zip(out.mentions, payload["mentions"], strict=True):
            account = await self.account(mention.person_id, prefer_platform=platform)
            raw["external_id"] = (
                account.external_id if account and account.platform == platform else None
            )
        return payload

    # -- the address book ------------------------------------------------------------
    async def account(self, person_id: int, prefer_platform: str | None = None) -> Account | None:
        """Where to DM a person (`PeopleRepo.dm_account`), looked up once."""
        key = (person_id, prefer_platform)
        if key not in self._accounts:
            self._accounts[key] = await self.uow.people.dm_account(person_id, prefer_platform)
        return self._accounts[key]

    async def person(self, person_id: int) -> Person | None:
        """The person with this id, looked up once."""
        if person_id not in self._people:
            self._people[person_id] = await self.uow.people.get(person_id)
        return self._people[person_id]

    async def with_role(self, role: str) -> list[Person]:
        """Everyone active holding ``role``, looked up once."""
        if role not in self._roles:
            self._roles[role] = await self.uow.people.with_role(role)
        return self._roles[role]

    async def member_ids(self, project_id: int, role: str) -> list[int]:
        """The project's team members holding ``role``, looked up once."""
        key = (project_id, role)
        if key not in self._members:
            members = await self.uow.due.members(project_id, (role,))
            self._members[key] = [m.person_id for m in members]
        return self._members[key]

    async def group_chats(self, project_id: int) -> list[Chat]:
        """The project's bound group chats, looked up once."""
        if project_id not in self._groups:
            self._groups[project_id] = await self.uow.due.group_chats(project_id)
        return self._groups[project_id]

    async def project(self, project_id: int) -> Project:
        """The project (with its snapshot), loaded once."""
        if project_id not in self._projects:
            self._projects[project_id] = (await self.uow.due.projects([project_id]))[project_id]
        return self._projects[project_id]


__all__ = ["Postman"]
