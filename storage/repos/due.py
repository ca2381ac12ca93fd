"""The due scan (到期扫描): indexed questions the scheduler asks the store.

"What is due now?" is one range query on ``checklist_items (state, due_on)`` (DESIGN
decision 2); the rows come back as plain tuples because the tick may read many of them.
The digest and the periodic reports read their figures here too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from storage.models import (
    Application,
    Chat,
    ChecklistItem,
    Event,
    Person,
    PersonRole,
    Project,
    ProjectMember,
)
from storage.repos._base import Repo

RUNNING_STATES = ("not_started", "submitted", "in_review")
"""Open states whose clock runs (补正 ``correction_needed`` stops it)."""

CLOSED_PROJECT_STATUSES = ("closed", "archived", "completed", "cancelled")
"""Project statuses that are no longer nudged or escalated."""

NUDGE_EVENT = "item.nudged"


@dataclass(frozen=True, slots=True)
class DueItem:
    """An open, running item due by the horizon: what a nudge or a rung needs to know."""

    item_id: int
    project_id: int
    code: str
    name_zh: str
    name_en: str
    department_id: int | None
    assignee_id: int | None
    due_on: date
    state: str = "not_started"


class DueRepo(Repo):
    """Read-only scans for nudges, the ladder, the digest and the reports."""

    async def running_due_by(self, horizon: date) -> list[DueItem]:
        """Open, unpaused items of live projects due on or before ``horizon``, by due date."""
        live = select(Project.id).where(Project.status.not_in(CLOSED_PROJECT_STATUSES))
        stmt = (
            select(
                ChecklistItem.id,
                ChecklistItem.project_id,
                ChecklistItem.code,
                ChecklistItem.name_zh,
                ChecklistItem.name_en,
                ChecklistItem.department_id,
                ChecklistItem.assignee_id,
                ChecklistItem.due_on,
                ChecklistItem.state,
            )
            .where(
                ChecklistItem.state.in_(RUNNING_STATES),
                ChecklistItem.due_on <= horizon,
                ChecklistItem.paused_on.is_(None),
                ChecklistItem.project_id.in_(live),
            )
            .order_by(ChecklistItem.due_on, ChecklistItem.id)
        )
        # Core, not the ORM: tens of thousands of plain tuples, no entities to load.
        rows = await (await self.session.connection()).execute(stmt)
        # due_on is never NULL here (the WHERE compares it), whatever the column allows.
        return [DueItem(*row) for row in rows]  # type: ignore[arg-type]

    async def nudge_counts(self, item_ids: list[int]) -> dict[int, int]:
        """How many nudge rounds each item has had (from the work log)."""
        if not item_ids:
            return {}
        rows = await self.session.execute(
            select(Event.item_id, func.count())
            .where(Event.kind == NUDGE_EVENT, self.one_of(Event.item_id, item_ids))
            .group_by(Event.item_id)
        )
        return {int(item): int(n) for item, n in rows if item is not None}

    async def nudged_since(self, item_ids: list[int], since: datetime) -> set[int]:
        """The items among these whose nudge is in the work log at or after ``since``."""
        if not item_ids:
            return set()
        rows = await self.session.execute(
            select(Event.item_id)
            .where(
                self.one_of(Event.item_id, item_ids),
                Event.kind == NUDGE_EVENT,
                Event.at >= since,
            )
            .distinct()
        )
        return {int(i) for i in rows.scalars() if i is not None}

    async def item_events(self, project_id: int, item_id: int, limit: int = 3) -> list[Event]:
        """The item's latest work-log lines other than nudges, newest last."""
        rows = await self.session.execute(
            select(Event)
            .where(
                Event.project_id == project_id,
                Event.item_id == item_id,
                Event.kind != NUDGE_EVENT,
            )
            .order_by(Event.at.desc(), Event.id.desc())
            .limit(limit)
        )
        return list(reversed(rows.scalars().all()))

    async def last_actions_by(self, pairs: list[tuple[int, int]]) -> dict[int, datetime]:
        """For (item id, person id) pairs: when that person last logged anything on it."""
        wanted = set(pairs)
        found: dict[int, datetime] = {}
        rows = await self.session.execute(
            select(Event.item_id, Event.actor_id, func.max(Event.at))
            .where(
                self.one_of(Event.item_id, {item for item, _ in wanted}),
                Event.actor_id.is_not(None),
                Event.kind != NUDGE_EVENT,
            )
            .group_by(Event.item_id, Event.actor_id)
        )
        for item_id, actor_id, at in rows:
            if item_id is not None and at is not None and (item_id, actor_id) in wanted:
                found[item_id] = at
        return found

    async def first_nudges(self, item_ids: list[int]) -> dict[int, datetime]:
        """When each item was first nudged."""
        rows = await self.session.execute(
            select(Event.item_id, func.min(Event.at))
            .where(Event.kind == NUDGE_EVENT, self.one_of(Event.item_id, item_ids))
            .group_by(Event.item_id)
        )
        return {int(item): at for item, at in rows if item is not None}

    async def backups_of(self, project_id: int, person_id: int) -> list[Person]:
        """A specialist's backups (候补): by role ``backup_of``, or the project's backup
        members of the same department."""
        dept = select(ProjectMember.department_id).where(
            ProjectMember.project_id == project_id,
            ProjectMember.person_id == person_id,
            ProjectMember.department_id.is_not(None),
        )
        by_role = select(PersonRole.person_id).where(
            PersonRole.role == "backup", PersonRole.backup_of_id == person_id
        )
        by_team = select(ProjectMember.person_id).where(
            ProjectMember.project_id == project_id,
            ProjectMember.role == "backup",
            ProjectMember.department_id.in_(dept),
        )
        rows = await self.session.execute(
            select(Person)
            .where(
                Person.id != person_id,
                Person.active.is_(True),
                Person.id.in_(by_role.union(by_team)),
            )
            .order_by(Person.id)
        )
        return list(rows.scalars())

    async def backups_many(
        self, pairs: list[tuple[int, int]]
    ) -> dict[tuple[int, int], list[Person]]:
        """`backups_of` for many ``(project, specialist)`` pairs in three queries."""
        if not pairs:
            return {}
        specialists = sorted({person for _, person in pairs})
        projects = sorted({project for project, _ in pairs})
        by_role: dict[int, set[int]] = {}
        role_rows = await self.session.execute(
            select(PersonRole.backup_of_id, PersonRole.person_id).where(
                PersonRole.role == "backup", self.one_of(PersonRole.backup_of_id, specialists)
            )
        )
        for of, person in role_rows:
            if of is not None:
                by_role.setdefault(int(of), set()).add(int(person))
        depts: dict[tuple[int, int], set[int]] = {}
        team: dict[tuple[int, int], set[int]] = {}  # (project, department) → backups
        member_rows = await self.session.execute(
            select(
                ProjectMember.project_id,
                ProjectMember.person_id,
                ProjectMember.role,
                ProjectMember.department_id,
            ).where(
                self.one_of(ProjectMember.project_id, projects),
                ProjectMember.department_id.is_not(None),
            )
        )
        for project, person, role, dept in member_rows:
            if dept is None:  # excluded by the query; the column allows it
                continue
            depts.setdefault((project, person), set()).add(dept)
            if role == "backup":
                team.setdefault((project, dept), set()).add(person)
        wanted: dict[tuple[int, int], set[int]] = {}
        for project, person in pairs:
            ids = set(by_role.get(person, ()))
            for dept in depts.get((project, person), ()):
                ids |= team.get((project, dept), set())
            ids.discard(person)
            wanted[(project, person)] = ids
        every = sorted(set().union(*wanted.values()))
        people: dict[int, Person] = {}
        if every:
            found = await self.session.execute(
                select(Person).where(self.one_of(Person.id, every), Person.active.is_(True))
            )
            people = {p.id: p for p in found.scalars()}
        return {
            pair: [people[i] for i in sorted(ids) if i in people] for pair, ids in wanted.items()
        }

    async def group_chats_of(self, project_ids: list[int]) -> dict[int, list[Chat]]:
        """`group_chats` of many projects in one query."""
        out: dict[int, list[Chat]] = {p: [] for p in project_ids}
        if not project_ids:
            return out
        rows = await self.session.execute(
            select(Chat)
            .where(self.one_of(Chat.project_id, project_ids), Chat.kind == "group")
            .order_by(Chat.id)
        )
        for chat in rows.scalars():
            out[chat.project_id].append(chat)  # type: ignore[index]
        return out

    async def group_chats(self, project_id: int) -> list[Chat]:
        """The project's group chats (bound with /bind)."""
        rows = await self.session.execute(
            select(Chat)
            .where(Chat.project_id == project_id, Chat.kind == "group")
            .order_by(Chat.id)
        )
        return list(rows.scalars())

    async def members(self, project_id: int, roles: tuple[str, ...]) -> list[ProjectMember]:
        """The project's team members holding one of ``roles``."""
        rows = await self.session.execute(
            select(ProjectMember)
            .where(ProjectMember.project_id == project_id, ProjectMember.role.in_(roles))
            .order_by(ProjectMember.id)
        )
        return list(rows.scalars())

    async def done_between(self, first: date, last: date) -> list[ChecklistItem]:
        """Items completed (办结) on a day in [first, last]."""
        rows = await self.session.execute(
            select(ChecklistItem)
            .where(
                ChecklistItem.state == "done",
                ChecklistItem.done_on >= first,
                ChecklistItem.done_on <= last,
            )
            .order_by(ChecklistItem.done_on, ChecklistItem.id)
        )
        return list(rows.scalars())

    async def projects_by_stage(self) -> dict[str, int]:
        """Live projects counted per stage."""
        rows = await self.session.execute(
            select(Project.stage, func.count())
            .where(Project.status.not_in(CLOSED_PROJECT_STATUSES))
            .group_by(Project.stage)
        )
        return {str(stage): int(n) for stage, n in rows}

    async def live_projects(self) -> list[Project]:
        """Every live project, by id."""
        rows = await self.session.execute(
            select(Project)
            .where(Project.status.not_in(CLOSED_PROJECT_STATUSES))
            .order_by(Project.id)
        )
        return list(rows.scalars())

    async def ladders(self, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """Each project's snapshotted ``escalation`` list, without decoding whole snapshots."""
        if not ids:
            return {}
        # The ladder as JSON text (a generated column), decoded once per distinct text:
        # most projects share the scheme's ladder. Equal ladders come back as the same list
        # object, which callers may use as a cache key.
        decoded: dict[str, list[dict[str, Any]]] = {}
        out: dict[int, list[dict[str, Any]]] = {}
        connection = await self.session.connection()
        rows = await connection.execute(
            select(Project.id, Project.escalation).where(self.one_of(Project.id, ids))
        )
        for pid, raw in rows:
            text = raw or "[]"
            if text not in decoded:
                decoded[text] = json.loads(text)
            out[pid] = decoded[text]
        return out

    async def projects(self, ids: list[int]) -> dict[int, Project]:
        """Projects by id."""
        if not ids:
            return {}
        rows = await self.session.execute(select(Project).where(self.one_of(Project.id, ids)))
        return {p.id: p for p in rows.scalars()}

    async def project_labels(self, ids: list[int]) -> dict[int, tuple[str, str]]:
        """(code, name) of projects by id, without loading their snapshots."""
        rows = await self.session.execute(
            select(Project.id, Project.code, Project.name).where(self.one_of(Project.id, ids))
        )
        return {pid: (code, name) for pid, code, name in rows}

    async def butlers(self, ids: list[int]) -> dict[int, int | None]:
        """The butler (项目管家) of each project by id, without loading snapshots."""
        if not ids:
            return {}
        rows = await self.session.execute(
            select(Project.id, Project.butler_id).where(self.one_of(Project.id, ids))
        )
        return {pid: butler for pid, butler in rows}

    async def person_names(self, ids: list[int]) -> dict[int, str]:
        """Names of persons by id."""
        rows = await self.session.execute(
            select(Person.id, Person.name).where(self.one_of(Person.id, ids))
        )
        return {pid: name for pid, name in rows}

    async def applications_between(self, since: datetime, until: datetime) -> list[Application]:
        """Applications submitted in [since, until)."""
        rows = await self.session.execute(
            select(Application)
            .where(Application.submitted_at >= since, Application.submitted_at < until)
            .order_by(Application.id)
        )
        return list(rows.scalars())

    async def accepted_between(self, since: datetime, until: datetime) -> list[Project]:
        """Projects accepted in [since, until)."""
        rows = await self.session.execute(
            select(Project)
            .where(Project.accepted_at >= since, Project.accepted_at < until)
            .order_by(Project.id)
        )
        return list(rows.scalars())

    async def items_of(self, project_ids: list[int]) -> list[ChecklistItem]:
        """All items of these projects, by project and order."""
        if not project_ids:
            return []
        rows = await self.session.execute(
            select(ChecklistItem)
            .where(self.one_of(ChecklistItem.project_id, project_ids))
            .order_by(ChecklistItem.project_id, ChecklistItem.sort, ChecklistItem.id)
        )
        return list(rows.scalars())


__all__ = [
    "CLOSED_PROJECT_STATUSES",
    "NUDGE_EVENT",
    "RUNNING_STATES",
    "DueItem",
    "DueRepo",
]
