"""Project teams (代办组): who is on a project, in which role and department."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from storage.models import ChecklistItem, Project, ProjectMember
from storage.repos._base import Repo
from storage.repos.items import OPEN_STATES


class MemberRepo(Repo):
    """Add members idempotently; read a project's team or a person's projects."""

    async def add(
        self, project_id: int, person_id: int, role: str, department_id: int | None = None
    ) -> bool:
        """Put a person on a project's team in a role; False when they already were."""
        return await self.insert_if_new(
            ProjectMember,
            {
                "project_id": project_id,
                "person_id": person_id,
                "role": role,
                "department_id": department_id,
            },
        )

    async def drop_enterprise_contact(self, person_id: int, enterprise_id: int) -> int:
        """Take a removed contact off the teams of the enterprise's projects; how many."""
        projects = select(Project.id).where(Project.enterprise_id == enterprise_id)
        result = await self.session.execute(
            delete(ProjectMember).where(
                ProjectMember.person_id == person_id,
                ProjectMember.role == "enterprise",
                ProjectMember.project_id.in_(projects),
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def of_project(self, project_id: int) -> list[ProjectMember]:
        """The team of a project, in the order they joined."""
        result = await self.session.execute(
            select(ProjectMember)
            .where(ProjectMember.project_id == project_id)
            .order_by(ProjectMember.id)
        )
        return list(result.scalars())

    async def roles_in(self, project_id: int, person_id: int) -> list[ProjectMember]:
        """The person's memberships of one project (empty: not on the team)."""
        result = await self.session.execute(
            select(ProjectMember)
            .where(ProjectMember.project_id == project_id, ProjectMember.person_id == person_id)
            .order_by(ProjectMember.id)
        )
        return list(result.scalars())

    async def projects_of(self, person_id: int, role: str | None = None) -> list[Project]:
        """Projects the person is on the team of (optionally in one role), by id."""
        stmt = select(ProjectMember.project_id).where(ProjectMember.person_id == person_id)
        if role is not None:
            stmt = stmt.where(ProjectMember.role == role)
        result = await self.session.execute(
            select(Project).where(Project.id.in_(stmt)).order_by(Project.id)
        )
        return list(result.scalars())

    async def butler_loads(self) -> dict[int, int]:
        """Open projects per butler (项目管家的在办项目数); archived ones do not count."""
        result = await self.session.execute(
            select(Project.butler_id, func.count())
            .where(Project.butler_id.is_not(None), Project.status != "archived")
            .group_by(Project.butler_id)
        )
        return {int(row[0] or 0): int(row[1]) for row in result.all()}

    async def specialist_loads(self, person_ids: list[int]) -> dict[int, int]:
        """Open checklist items per person (在办事项数), every project; 0 for none."""
        loads = dict.fromkeys(person_ids, 0)
        if person_ids:
            result = await self.session.execute(
                select(ChecklistItem.assignee_id, func.count())
                .where(
                    ChecklistItem.assignee_id.in_(person_ids),
                    ChecklistItem.state.in_(OPEN_STATES),
                )
                .group_by(ChecklistItem.assignee_id)
            )
            loads.update({int(pid): int(n) for pid, n in result.all() if pid is not None})
        return loads

    async def swap_specialist(
        self, project_id: int, department_id: int, person_id: int, backup_ids: list[int]
    ) -> tuple[list[int], int]:
        """Make `person_id` the department's specialist on the project (with these backups)
        and give them the department's open items; the replaced specialists' ids and how
        many items moved."""
        department = (
            ProjectMember.project_id == project_id,
            ProjectMember.department_id == department_id,
        )
        result = await self.session.execute(
            select(ProjectMember.person_id).where(*department, ProjectMember.role == "specialist")
        )
        replaced = [pid for pid in result.scalars() if pid != person_id]
        await self.session.execute(
            delete(ProjectMember).where(
                *department, ProjectMember.role.in_(("specialist", "backup"))
            )
        )
        await self.add(project_id, person_id, "specialist", department_id)
        for backup_id in backup_ids:
            await self.add(project_id, backup_id, "backup", department_id)
        moved = await self.session.execute(
            update(ChecklistItem)
            .where(
                ChecklistItem.project_id == project_id,
                ChecklistItem.department_id == department_id,
                ChecklistItem.state.in_(OPEN_STATES),
            )
            .values(assignee_id=person_id)
        )
        await self.session.flush()
        return replaced, int(getattr(moved, "rowcount", 0) or 0)

    async def butlers_over(self, person_id: int) -> list[int]:
        """The butlers of the open projects whose team the person is on (not themselves)."""
        teams = select(ProjectMember.project_id).where(ProjectMember.person_id == person_id)
        result = await self.session.execute(
            select(Project.butler_id)
            .where(
                Project.id.in_(teams),
                Project.butler_id.is_not(None),
                Project.butler_id != person_id,
                Project.status != "archived",
            )
            .distinct()
            .order_by(Project.butler_id)
        )
        return [int(b) for b in result.scalars() if b is not None]


__all__ = ["MemberRepo"]
