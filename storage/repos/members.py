"""Project teams (代办组): who is on a project, in which role and department."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from storage.models import Project, ProjectMember
from storage.repos._base import Repo


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


__all__ = ["MemberRepo"]
