"""The roster against a messenger's directory (名册同步): what changed, and applying it.

A messenger that has an organisation directory (WeCom) lists its members; `propose`
compares them with the roster's accounts on that platform:

- **new staff**: a member with no account here. When a person of the roster has the same
  mobile, the account is linked to them (`link`); otherwise they are listed (`unknown`)
  for the office to add with their role (`daiban people import`).
- **departures**: an account whose member left the directory or is disabled/resigned.
  Applied, the person is marked inactive and each open item they own passes to their
  backup (候补) — the project's butler is told which items moved, or that an item has no
  backup and needs a new owner.
- **department moves**: a specialist whose roster department no longer appears among the
  member's directory departments while another of the scheme's departments does; listed,
  not applied (a role is the office's decision).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.outbox import platform_name
from domain.scheme import Scheme
from handlers.chat import Outgoing
from handlers.groups import GROUP_INTENT, team_accounts, update_intent
from handlers.i18n import N_, gettext
from storage.db import Database
from storage.models import ChecklistItem, Person, Project
from storage.uow import UnitOfWork

ITEMS_HANDED_OVER = N_(
    "{name} has left (per the {platform} directory). Their open items of project {code} now "
    "go to {backup}: {items}."
)
ITEMS_WITHOUT_BACKUP = N_(
    "{name} has left (per the {platform} directory). Their open items of project {code} have "
    "no backup: {items}. Give them a new owner."
)


@dataclass(frozen=True)
class DirectoryEntry:
    """One member of the organisation as the directory shows them."""

    external_id: str
    name: str
    mobile: str | None
    departments: tuple[str, ...]  # department names
    active: bool = True


@dataclass
class Proposal:
    link: list[tuple[DirectoryEntry, Person]] = field(default_factory=list)
    unknown: list[DirectoryEntry] = field(default_factory=list)
    leaving: list[Person] = field(default_factory=list)
    moves: list[tuple[Person, str, str]] = field(default_factory=list)  # (person, from, to)

    @property
    def empty(self) -> bool:
        return not (self.link or self.unknown or self.leaving or self.moves)


async def propose(
    db: Database, scheme: Scheme, platform: str, entries: list[DirectoryEntry]
) -> Proposal:
    """The changes the directory suggests against the roster (nothing is written)."""
    proposal = Proposal()
    present = {e.external_id: e for e in entries if e.active}
    labels = {d.id: d.name.zh for d in scheme.departments}
    by_label = {zh: code for code, zh in labels.items()}
    async with UnitOfWork(db) as uow:
        codes = {d.id: d.code for d in await uow.departments.all()}
        for entry in present.values():
            if await uow.people.by_account(platform, entry.external_id) is not None:
                continue
            twin = await uow.people.by_mobile(entry.mobile) if entry.mobile else None
            if twin is not None:
                proposal.link.append((entry, twin))
            else:
                proposal.unknown.append(entry)
        for account, person in await uow.people.accounts_with_people(platform):
            if not person.active:
                continue
            entry = present.get(account.external_id)
            if entry is None:
                proposal.leaving.append(person)
                continue
            for role in await uow.people.roles_of(person.id):
                if role.role != "specialist" or role.department_id is None:
                    continue
                code = codes.get(role.department_id)
                now_in = [by_label[d] for d in entry.departments if d in by_label]
                if code is not None and now_in and code not in now_in:
                    proposal.moves.append((person, labels.get(code, code), labels[now_in[0]]))
    return proposal


async def apply(
    db: Database, platform: str, proposal: Proposal, now: datetime, *, groups: bool = False
) -> dict[str, int]:
    """Link the new accounts and retire the departures; counts of what was done. With
    `groups` (the messenger's transport makes groups), each leaver's project groups on
    the platform are brought in line with the team (the leaver leaves them)."""
    done = {"linked": 0, "left": 0, "items_moved": 0, "items_orphaned": 0}
    async with UnitOfWork(db) as uow:
        for entry, person in proposal.link:
            await uow.people.add_account(person.id, platform, entry.external_id, entry.name, now)
            done["linked"] += 1
        for leaver in proposal.leaving:
            person = await uow.people.get(leaver.id)
            if person is None or not person.active:
                continue
            person.active = False
            await uow.events.append(
                "person.left", at=now, data={"person_id": person.id, "platform": platform}
            )
            done["left"] += 1
            by_project: dict[int, list[ChecklistItem]] = {}
            for item in await uow.items.of_assignee(person.id):
                by_project.setdefault(item.project_id, []).append(item)
            for project_id, items in by_project.items():
                project = await uow.projects.get(project_id)
                backups = [b for b in await uow.due.backups_of(project_id, person.id) if b.active]
                backup = backups[0] if backups else None
                for item in items:
                    if backup is not None:
                        item.assignee_id = backup.id
                        done["items_moved"] += 1
                    else:
                        done["items_orphaned"] += 1
                    await uow.events.append(
                        "item.handed_over" if backup else "item.owner_left",
                        at=now,
                        actor_id=None,
                        project_id=project_id,
                        item_id=item.id,
                        data={"from": person.id, "to": backup.id if backup else None},
                    )
                if project is not None and project.butler_id is not None:
                    await _tell_butler(uow, platform, project, person, backup, items, now)
            if groups:
                await _leave_groups(uow, platform, person, now)
    return done


async def _leave_groups(uow: UnitOfWork, platform: str, person: Person, now: datetime) -> None:
    for project in await uow.members.projects_of(person.id):
        members = await team_accounts(uow, project, platform)
        for chat in await uow.chats.for_project(project.id):
            if chat.platform != platform:
                continue
            await uow.outbox.enqueue(
                platform=platform,
                chat_external_id=chat.external_id,
                payload={GROUP_INTENT: update_intent(chat.external_id, members)},
                dedupe_key=f"left:{platform}:{person.id}:{chat.id}:group",
                now=now,
                source_event_id=f"roster-sync:{person.id}",
            )


async def _tell_butler(
    uow: UnitOfWork,
    platform: str,
    project: Project,
    person: Person,
    backup: Person | None,
    items: list[ChecklistItem],
    now: datetime,
) -> None:
    butler = await uow.people.get(project.butler_id) if project.butler_id else None
    if butler is None:
        return
    account = await uow.people.dm_account(butler.id, prefer_platform=platform)
    if account is None:
        return
    codes = "、".join(item.code for item in items)
    notice = ITEMS_HANDED_OVER if backup is not None else ITEMS_WITHOUT_BACKUP
    text = gettext(butler.lang, notice).format(
        name=person.name,
        platform=platform_name(butler.lang, platform),
        code=project.code,
        backup=backup.name if backup is not None else "",
        items=codes,
    )
    await uow.outbox.enqueue(
        platform=account.platform,
        chat_external_id=account.external_id,
        payload=Outgoing(text).to_payload(),
        dedupe_key=f"left:{platform}:{person.id}:{project.id}",
        now=now,
        person_id=butler.id,
        source_event_id=f"roster-sync:{person.id}",
    )


def report(proposal: Proposal) -> list[str]:
    """The proposal as lines for the office."""
    lines = []
    lines += [
        f"link     {e.name} ({e.external_id}) → {p.name}, same mobile" for e, p in proposal.link
    ]
    lines += [
        f"new      {e.name} ({e.external_id}, {'/'.join(e.departments) or '—'}): not on the "
        "roster; add them with their role (daiban people import)"
        for e in proposal.unknown
    ]
    lines += [f"left     {p.name}: inactive, open items to their backup" for p in proposal.leaving]
    lines += [
        f"moved    {p.name}: {a} → {b} (change the role by hand)" for p, a, b in proposal.moves
    ]
    return lines or ["the roster matches the directory"]


__all__ = ["DirectoryEntry", "Proposal", "apply", "propose", "report"]
