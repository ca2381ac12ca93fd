"""The invariants of a running Daiban (不变量), checked against the store and what was sent.

Who may receive what about a project (the rule `recipient_problems` checks):

- A message that names project P (its name) goes only to a group chat bound to P, or to a
  person on P's team (butler, specialist, backup, enterprise contact, the assignee of one
  of its items), or to the office and leaders, who see every project (DOMAIN "People": the
  office runs dispatch, leaders receive digests and escalations).
- The morning message (outbox key ``nudge:DAY:…``, reminders/morning.py) goes once a day
  to P's bound groups (``nudge:DAY:pP:gCHAT``), and by DM (``nudge:DAY:uPERSON``) only to
  someone with something of theirs: an item's assignee, a backup, a butler, the office,
  and a leader while a problem stands at a rung that names leaders (the ladder's news).
- A ladder notice (key ``ladder:…``) about a problem of P at level L goes to P's groups and,
  by DM, only to the people of rung L's ``notify_roles`` for P (reminders/ladder.py,
  handlers/problem_notices.py `audience`): P's butler, the office, leaders, P's
  enterprise members for ``enterprise``; for ``specialist`` the assignees of the items the
  problem lists (never another department's) and their backups; P's butler and the office
  as well when an item it lists has no specialist.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from sqlalchemy import select

from domain.items import Status
from domain.scheme import Scheme
from handlers.i18n import gettext
from handlers.problems import ladder_of
from storage.models import (
    Account,
    Chat,
    ChecklistItem,
    OutboxMessage,
    PersonRole,
    Problem,
    ProblemItem,
    Project,
    ProjectMember,
)
from tests.invariants.world import PLATFORM, World

PROJECT_STATUSES = {"accepted", "in_progress", "completing", "archived"}
PROBLEM_STATES = {"open", "acked", "resolved"}
APOLOGY = (
    "Sorry, something went wrong on our side. What you entered before is kept; please try again."
)
_NUDGE = re.compile(r"^nudge:(\d{4}-\d\d-\d\d):(?:p(\d+):g(\d+)|u(\d+))$")
_LADDER = re.compile(r"^ladder:(\d{4}-\d\d-\d\d):p(\d+):L(\d+):([gu])(\d+)$")


class Facts:
    """A snapshot of the store, read in one session."""

    def __init__(self, rows: dict[str, list[Any]], scheme: Scheme) -> None:
        self.scheme = scheme
        self.items: list[ChecklistItem] = rows["items"]
        self.problems: list[Problem] = rows["problems"]
        self.problem_items: list[ProblemItem] = rows["problem_items"]
        self.projects: dict[int, Project] = {p.id: p for p in rows["projects"]}
        self.outbox: list[OutboxMessage] = rows["outbox"]
        self.members: list[ProjectMember] = rows["members"]
        self.roles: list[PersonRole] = rows["roles"]
        self.chats: dict[int, Chat] = {c.id: c for c in rows["chats"]}
        self.accounts: list[Account] = rows["accounts"]
        self.item_by_id = {i.id: i for i in self.items}
        self.problem_by_id = {p.id: p for p in self.problems}
        self.person_of_chat = {
            a.external_id: a.person_id for a in self.accounts if a.platform == PLATFORM
        }
        self.chat_by_external = {c.external_id: c for c in self.chats.values()}

    def has_role(self, person_id: int, role: str) -> bool:
        return any(r.person_id == person_id and r.role == role for r in self.roles)

    def on_team(self, person_id: int, project_id: int) -> bool:
        project = self.projects[project_id]
        return (
            project.butler_id == person_id
            or any(m.project_id == project_id and m.person_id == person_id for m in self.members)
            or any(i.project_id == project_id and i.assignee_id == person_id for i in self.items)
        )

    def may_hear_about(self, chat_external_id: str, project_id: int) -> bool:
        chat = self.chat_by_external.get(chat_external_id)
        if chat is not None and chat.kind == "group":
            return chat.project_id == project_id
        person = self.person_of_chat.get(chat_external_id)
        if person is None:
            return False
        return (
            self.on_team(person, project_id)
            or self.has_role(person, "office")
            or self.has_role(person, "leader")
        )


async def read_facts(world: World) -> Facts:
    models = {
        "items": ChecklistItem,
        "problems": Problem,
        "problem_items": ProblemItem,
        "projects": Project,
        "outbox": OutboxMessage,
        "members": ProjectMember,
        "roles": PersonRole,
        "chats": Chat,
        "accounts": Account,
    }
    async with world.app.services.db.sessionmaker() as session:
        rows = {
            key: list((await session.execute(select(model))).scalars())
            for key, model in models.items()
        }
    return Facts(rows, world.app.services.scheme)


def error_problems(world: World) -> list[str]:
    """No exception escaped a handler or a job: no ERROR log line, no apology sent."""
    found = [f"logged: {line}" for line in world.errors.lines()]
    apologies = {gettext(lang, APOLOGY) for lang in ("zh_CN", "en")}
    found += [f"apology sent to {s.chat}" for s in world.sent if s.message.text in apologies]
    return found


def state_problems(facts: Facts) -> list[str]:
    """Every item, problem and project is in one of its legal states, with a coherent clock."""
    legal = {s.value for s in Status}
    found: list[str] = []
    for item in facts.items:
        where = f"item {item.id} {item.code} ({item.state})"
        if item.state not in legal:
            found.append(f"{where}: not a legal state")
        if (item.state == Status.CORRECTION_NEEDED) != (item.paused_on is not None):
            found.append(f"{where}: paused_on={item.paused_on} does not match the state")
        if item.state == Status.DONE and item.done_on is None:
            found.append(f"{where}: done without done_on")
        if item.state not in (Status.DONE, Status.NOT_APPLICABLE) and item.done_on is not None:
            found.append(f"{where}: open with done_on={item.done_on}")
    for problem in facts.problems:
        project = facts.projects[problem.project_id]
        if problem.state not in PROBLEM_STATES:
            found.append(f"problem {problem.id}: illegal state {problem.state}")
        if problem.level not in ladder_of(project, facts.scheme).levels:
            found.append(f"problem {problem.id}: level {problem.level} is not on the ladder")
    for project in facts.projects.values():
        if project.status not in PROJECT_STATUSES:
            found.append(f"project {project.code}: illegal status {project.status}")
    return found


def recipient_problems(world: World, facts: Facts, names: dict[str, str]) -> list[str]:
    """Nobody outside a project hears about it (the rule is in the module docstring)."""
    found: list[str] = []
    by_code = {p.code: p.id for p in facts.projects.values()}
    for sent in world.sent:
        for code, name in names.items():
            pid = by_code[code]
            if name in sent.message.text and not facts.may_hear_about(sent.chat, pid):
                found.append(f"{sent.chat} was told about {code}: {sent.message.text[:160]!r}")
    for row in facts.outbox:
        if (m := _NUDGE.match(row.dedupe_key)) is not None:
            if not _nudge_target_ok(facts, m):
                found.append(f"nudge {row.dedupe_key} to {row.chat_external_id} is off the team")
        elif (m := _LADDER.match(row.dedupe_key)) is not None:
            problem = facts.problem_by_id[int(m.group(2))]
            level = int(m.group(3))
            if not _ladder_target_ok(facts, problem, level, m.group(4), int(m.group(5))):
                found.append(
                    f"ladder notice {row.dedupe_key} to {row.chat_external_id} is not on rung "
                    f"{level}'s list"
                )
    return found


def _nudge_target_ok(facts: Facts, key: re.Match[str]) -> bool:
    if key.group(2) is not None:  # a project group: bound to that project
        return facts.chats[int(key.group(3))].project_id == int(key.group(2))
    ident = int(key.group(4))
    return (
        any(item.assignee_id == ident for item in facts.items)
        or any(p.butler_id == ident for p in facts.projects.values())
        or any(m.person_id == ident and m.role == "backup" for m in facts.members)
        or any(r.person_id == ident and r.role in {"backup", "office"} for r in facts.roles)
        or (
            any(r.person_id == ident and r.role == "leader" for r in facts.roles)
            and any(
                "leader"
                in ladder_of(facts.projects[p.project_id], facts.scheme)
                .rung_at(p.level)
                .notify_roles
                for p in facts.problems
            )
        )
    )


def _ladder_target_ok(facts: Facts, problem: Problem, level: int, kind: str, ident: int) -> bool:
    if kind == "g":
        return facts.chats[ident].project_id == problem.project_id
    project = facts.projects[problem.project_id]
    rung = ladder_of(project, facts.scheme).rung_at(level)
    listed = {link.item_id for link in facts.problem_items if link.problem_id == problem.id}
    items = [facts.item_by_id[i] for i in listed if i in facts.item_by_id]
    assignees = {i.assignee_id for i in items if i.assignee_id is not None}
    roles = set(rung.notify_roles)
    if any(i.assignee_id is None for i in items):
        roles |= {"butler", "office"}
    if "butler" in roles and project.butler_id == ident:
        return True
    if any(role in roles and facts.has_role(ident, role) for role in ("office", "leader")):
        return True
    if "enterprise" in roles and any(
        m.project_id == project.id and m.person_id == ident and m.role == "enterprise"
        for m in facts.members
    ):
        return True
    if "specialist" in roles and ident in assignees:
        return True
    if roles & {"specialist", "backup"}:
        return any(_nudge_target_ok(facts, i, "u", ident) for i in items if i.assignee_id)
    return False


def duplicate_problems(world: World, facts: Facts) -> list[str]:
    """No morning message twice: one per (chat, day); one ladder notice per (chat, problem,
    level); every outbox row delivered once."""
    found: list[str] = []
    nudges: Counter[tuple[str, str]] = Counter()
    notices: Counter[tuple[str, str, str]] = Counter()
    for row in facts.outbox:
        if (m := _NUDGE.match(row.dedupe_key)) is not None:
            nudges[(row.chat_external_id, m.group(1))] += 1
        elif (m := _LADDER.match(row.dedupe_key)) is not None:
            notices[(row.chat_external_id, m.group(2), m.group(3))] += 1
    found += [f"nudged {k} {n} times" for k, n in nudges.items() if n > 1]
    found += [f"ladder notice {k} sent {n} times" for k, n in notices.items() if n > 1]
    keys = Counter(row.dedupe_key for row in facts.outbox)
    found += [f"outbox key {k} used {n} times" for k, n in keys.items() if n > 1]
    tz = world.app.services.timezone
    delivered = Counter(
        (s.chat, s.message.text, s.at.astimezone(tz).date().isoformat()) for s in world.sent
    )
    for row in facts.outbox:
        if _NUDGE.match(row.dedupe_key) is None:
            continue
        day = row.created_at.astimezone(tz).date().isoformat()
        copies = delivered[(row.chat_external_id, row.payload["text"], day)]
        if row.status == "sent" and copies != 1:
            found.append(f"nudge {row.dedupe_key} delivered {copies} times")
    unsent = [r.dedupe_key for r in facts.outbox if r.status != "sent"]
    found += [f"outbox row {k} was not delivered" for k in unsent]
    if len(world.sent) != len(facts.outbox):
        found.append(f"{len(world.sent)} messages delivered for {len(facts.outbox)} outbox rows")
    return found


async def all_problems(world: World, names: dict[str, str]) -> list[str]:
    facts = await read_facts(world)
    return (
        error_problems(world)
        + state_problems(facts)
        + recipient_problems(world, facts, names)
        + duplicate_problems(world, facts)
    )
