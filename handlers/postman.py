"""The postman (投递员): the one way a message enters the outbox.

Every message Daiban sends is written by a postman inside the unit of work of what caused
it (DESIGN decision 1): an inbound event (`Postman.for_event`, which a flow reaches as
`ctx.post`) or a job (`Postman(uow, at, "nudge")`, one per round). The postman builds the
dedupe keys — ``<cause>:<suffix>``, or ``<cause>:<n>`` numbered in order for an event's
replies — and resolves mentions to account ids on the target platform, here and nowhere
else.

A daily round writes thousands of notices in one unit of work, most of them to the same
few dozen people (leaders, the office, each project's butler). A job's postman therefore
looks up where each person is reached, who holds a role, a project's team and group chats
once and remembers them: what a round changes (problems, work-log lines, messages) is
never what it remembers (accounts, roles, teams). An event's postman remembers nothing,
since a flow may change exactly those (a person binds an account, a butler assigns a
team) before it posts.

A person who cannot receive a DM (never activated, or every account refused by its
platform: `domain.reach`) is not skipped silently: the message goes to their first
reachable backup (候补), headed with whom it was for, and the butlers of their projects
(the office, for someone on no team) are told once per person and state.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from domain.reach import Reach
from handlers.chat import Outgoing
from handlers.i18n import N_
from handlers.render import Voice
from storage.models import Account, Chat, Person, Project
from storage.uow import UnitOfWork

UNREACHED_CAUSE = "unreached"  # keys of the "cannot be reached" notices, across causes
WHY = {Reach.PENDING: N_("not activated"), Reach.UNREACHABLE: N_("unreachable")}


@dataclass
class Postman:
    """Writes messages into the outbox, keyed by their cause (``cause:suffix``)."""

    uow: UnitOfWork
    now: datetime
    cause: str
    source_event_id: str | None = None  # the inbound event behind the messages, if any
    prefer_platform: str | None = None  # where to DM someone with accounts on several
    remember: bool = True
    _numbered: int = 0
    _accounts: dict[tuple[int, str | None], Account | None] = field(default_factory=dict)
    _people: dict[int, Person | None] = field(default_factory=dict)
    _roles: dict[str, list[Person]] = field(default_factory=dict)
    _members: dict[tuple[int, str], list[int]] = field(default_factory=dict)
    _groups: dict[int, list[Chat]] = field(default_factory=dict)
    _projects: dict[int, Project] = field(default_factory=dict)
    _backups: dict[tuple[int, int], list[Person]] = field(default_factory=dict)
    _stand_ins: dict[int, tuple[Reach, list[Person]]] = field(default_factory=dict)
    _to_tell: dict[int, tuple[str, list[int]]] = field(default_factory=dict)
    _told: set[str] = field(default_factory=set)

    @classmethod
    def for_event(
        cls, uow: UnitOfWork, now: datetime, platform: str, event_id: str | int
    ) -> Postman:
        """The postman of one inbound event: keys ``in:<platform>:<event>:…``, each row
        naming the event, DMs on the event's platform where the person has an account."""
        return cls(
            uow,
            now,
            f"in:{platform}:{event_id}",
            source_event_id=str(event_id),
            prefer_platform=platform,
            remember=False,
        )

    def key(self, suffix: str | None = None) -> str:
        """The dedupe key of a message (the only place one is built); without a suffix,
        the next number of this cause."""
        if suffix is None:
            self._numbered += 1
            suffix = str(self._numbered)
        return f"{self.cause}:{suffix}"

    # -- sending ---------------------------------------------------------------------
    async def to_person(
        self, person_id: int, message: Outgoing | str, suffix: str | None = None
    ) -> bool:
        """DM a person; one who cannot be reached gets it through their backup (the butler
        told once). False when nobody got it or this key was used before."""
        account = await self.account(person_id, self.prefer_platform)
        if account is None:
            return await self._to_stand_in(person_id, message, suffix)
        return await self.to_chat(
            account.platform, account.external_id, message, suffix, person_id=person_id
        )

    async def _to_stand_in(
        self, person_id: int, message: Outgoing | str, suffix: str | None
    ) -> bool:
        """The message for an unreached person, to their first reachable backup."""
        person = await self.person(person_id)
        if person is None:
            return False
        reach, backups = await self._stand_in(person_id)
        sent, via = False, None
        for backup in backups:
            account = await self.account(backup.id, self.prefer_platform)
            if account is None:
                continue
            say = Voice(backup.lang)
            out = Outgoing(message) if isinstance(message, str) else message
            head = say._(
                "For {name}, who cannot receive messages yet ({why}); you are their backup:",
                name=person.name,
                why=say._(WHY[reach]),
            )
            out = replace(out, text=f"{head}\n\n{out.text}")
            sent = await self.to_chat(
                account.platform,
                account.external_id,
                out,
                None if suffix is None else f"{suffix}:via{backup.id}",
                person_id=backup.id,
            )
            via = backup
            break
        await self._tell_unreached(person, reach, via)
        return sent

    async def _stand_in(self, person_id: int) -> tuple[Reach, list[Person]]:
        """Why the person cannot be reached, and their backups, looked up once."""
        if not self.remember or person_id not in self._stand_ins:
            reach = (await self.uow.people.reach([person_id]))[person_id]
            backups = await self.uow.people.backups_of(person_id)
            self._stand_ins[person_id] = (reach, backups)
        return self._stand_ins[person_id]

    async def _tell_unreached(self, person: Person, reach: Reach, via: Person | None) -> None:
        """Tell the butlers of the person's projects (else the office), once per person
        and state, that messages do not reach them and where they go instead."""
        if not self.remember or person.id not in self._to_tell:
            state = str(reach)
            if reach is Reach.UNREACHABLE:
                since = await self.uow.people.refused_since(person.id)
                state += f":{since.astimezone(UTC).date().isoformat()}" if since else ""
            told = await self.uow.members.butlers_over(person.id)
            if not told:
                told = [p.id for p in await self.with_role("office") if p.id != person.id]
            self._to_tell[person.id] = (state, told)
        state, told = self._to_tell[person.id]
        notices = Postman(self.uow, self.now, UNREACHED_CAUSE, self.source_event_id)
        for recipient_id in told:
            key = f"u{person.id}:{state}:to{recipient_id}"
            if key in self._told:
                continue
            self._told.add(key)
            recipient = await self.person(recipient_id)
            account = await self.account(recipient_id, self.prefer_platform)
            if recipient is None or account is None:
                continue
            say = Voice(recipient.lang)
            why = say._(WHY[reach])
            if via is not None:
                text = say._(
                    "{name} cannot receive messages from me ({why}); until they can, what I "
                    "send them goes to their backup {backup}. The office can send them a new "
                    "code with /people.",
                    name=person.name,
                    why=why,
                    backup=via.name,
                )
            else:
                text = say._(
                    "{name} cannot receive messages from me ({why}) and has no reachable "
                    "backup: what I send them reaches nobody. The office can send them a new "
                    "code with /people.",
                    name=person.name,
                    why=why,
                )
            await notices.to_chat(
                account.platform, account.external_id, text, key, person_id=recipient_id
            )

    async def to_chat(
        self,
        platform: str,
        chat_external_id: str,
        message: Outgoing | str,
        suffix: str | None = None,
        person_id: int | None = None,
    ) -> bool:
        """Post into a chat; False when this key was used before.

        Without a suffix the message is numbered, so its key is new by construction: it
        is kept and written with the transaction's other rows (one INSERT for a polling
        batch's replies), in the order it was posted.
        """
        out = Outgoing(message) if isinstance(message, str) else message
        payload = await self._payload(platform, out)
        if suffix is None:
            self.uow.outbox.enqueue_later(
                platform=platform,
                chat_external_id=chat_external_id,
                payload=payload,
                dedupe_key=self.key(),
                now=self.now,
                person_id=person_id,
                source_event_id=self.source_event_id,
            )
            return True
        return await self.uow.outbox.enqueue(
            platform=platform,
            chat_external_id=chat_external_id,
            payload=payload,
            dedupe_key=self.key(suffix),
            now=self.now,
            person_id=person_id,
            source_event_id=self.source_event_id,
        )

    def instruct(
        self,
        platform: str,
        chat_external_id: str,
        intent: dict[str, Any],
        suffix: str,
        person_id: int | None = None,
    ) -> None:
        """Queue an instruction for the transport (not a message: e.g. "create this group
        chat"), in the chat's lane after what this cause posted before it."""
        self.uow.outbox.enqueue_later(
            platform=platform,
            chat_external_id=chat_external_id,
            payload=intent,
            dedupe_key=self.key(suffix),
            now=self.now,
            person_id=person_id,
            source_event_id=self.source_event_id,
        )

    async def to_project_groups(self, project_id: int, message: Outgoing | str, suffix: str) -> int:
        """Post into every group chat bound to the project; how many were new."""
        sent = 0
        for chat in await self.group_chats(project_id):
            sent += await self.to_chat(
                chat.platform, chat.external_id, message, f"{suffix}:g{chat.id}"
            )
        return sent

    async def _payload(self, platform: str, out: Outgoing) -> dict[str, Any]:
        """The outbox payload, each mention's account on ``platform`` filled in (the one
        place mentions are resolved; none there: the transport writes the name)."""
        payload = out.to_payload()
        for mention, raw in zip(out.mentions, payload["mentions"], strict=True):
            account = await self.account(mention.person_id, prefer_platform=platform)
            raw["external_id"] = (
                account.external_id if account and account.platform == platform else None
            )
        return payload

    # -- the address book (remembered for a job, read afresh for an event) ------------
    async def account(self, person_id: int, prefer_platform: str | None = None) -> Account | None:
        """Where to DM a person (`PeopleRepo.dm_account`), looked up once (if remembering)."""
        key = (person_id, prefer_platform)
        if not self.remember or key not in self._accounts:
            self._accounts[key] = await self.uow.people.dm_account(person_id, prefer_platform)
        return self._accounts[key]

    async def person(self, person_id: int) -> Person | None:
        """The person with this id, looked up once."""
        if not self.remember or person_id not in self._people:
            self._people[person_id] = await self.uow.people.get(person_id)
        return self._people[person_id]

    async def with_role(self, role: str) -> list[Person]:
        """Everyone active holding ``role``, looked up once."""
        if not self.remember or role not in self._roles:
            self._roles[role] = await self.uow.people.with_role(role)
        return self._roles[role]

    async def member_ids(self, project_id: int, role: str) -> list[int]:
        """The project's team members holding ``role``, looked up once."""
        key = (project_id, role)
        if not self.remember or key not in self._members:
            members = await self.uow.due.members(project_id, (role,))
            self._members[key] = [m.person_id for m in members]
        return self._members[key]

    async def group_chats(self, project_id: int) -> list[Chat]:
        """The project's bound group chats, looked up once."""
        if not self.remember or project_id not in self._groups:
            self._groups[project_id] = await self.uow.due.group_chats(project_id)
        return self._groups[project_id]

    async def backups(self, project_id: int, person_id: int) -> list[Person]:
        """A specialist's active backups on a project (`DueRepo.backups_of`), looked up once."""
        key = (project_id, person_id)
        if not self.remember or key not in self._backups:
            self._backups[key] = await self.uow.due.backups_of(project_id, person_id)
        return self._backups[key]

    async def learn(
        self,
        *,
        groups: list[int] | None = None,
        projects: list[int] | None = None,
        backups: list[tuple[int, int]] | None = None,
        people: list[int] | None = None,
    ) -> None:
        """Look up at once (a job's slice) what the next messages will ask one by one:
        projects' group chats, projects, ``(project, specialist)`` pairs' backups, people
        and where each is reached."""
        if not self.remember:
            return
        due = self.uow.due
        wanted = [p for p in dict.fromkeys(groups or []) if p not in self._groups]
        self._groups.update(await due.group_chats_of(wanted))
        wanted = [p for p in dict.fromkeys(projects or []) if p not in self._projects]
        self._projects.update(await due.projects(wanted))
        pairs = [p for p in dict.fromkeys(backups or []) if p not in self._backups]
        found = await due.backups_many(pairs)
        self._backups.update(found)
        for stand_ins in found.values():
            self._people.update({b.id: b for b in stand_ins})
        wanted = [p for p in dict.fromkeys(people or []) if p not in self._people]
        self._people.update({p: None for p in wanted})
        self._people.update(await self.uow.people.many(wanted))
        wanted = [p for p in dict.fromkeys(people or []) if (p, None) not in self._accounts]
        found_accounts = await self.uow.people.dm_accounts(wanted)
        self._accounts.update({(p, None): found_accounts.get(p) for p in wanted})

    def within(self, uow: UnitOfWork) -> Postman:
        """This postman in another unit of work (a job's next slice), remembering what it
        looked up."""
        return replace(self, uow=uow)

    async def project(self, project_id: int) -> Project:
        """The project (with its snapshot), loaded once."""
        if not self.remember or project_id not in self._projects:
            self._projects[project_id] = (await self.uow.due.projects([project_id]))[project_id]
        return self._projects[project_id]


__all__ = ["Postman"]
