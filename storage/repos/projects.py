"""Projects (项目): created when the office accepts an application."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from storage.models import Application, ChecklistItem, Project
from storage.repos._base import Repo


@dataclass(frozen=True)
class Progress:
    """Where a project stands: items done of total and the next item due."""

    done: int
    total: int
    next_item: ChecklistItem | None


class ProjectRepo(Repo):
    """Create projects with yearly running numbers; read them per enterprise contact."""

    async def count_codes(self, prefix: str) -> int:
        """How many projects have a code starting with ``prefix`` (the year's count)."""
        result = await self.session.execute(
            select(func.count()).select_from(Project).where(Project.code.startswith(prefix))
        )
        return int(result.scalar_one())

    async def count_cards(self, prefix: str) -> int:
        """How many service cards (一企一卡) with ``prefix`` were issued."""
        result = await self.session.execute(
            select(func.count())
            .select_from(Project)
            .where(Project.service_card_no.startswith(prefix))
        )
        return int(result.scalar_one())

    async def card_of_enterprise(self, enterprise_id: int) -> str | None:
        """The service card an enterprise already holds (one card per enterprise)."""
        result = await self.session.execute(
            select(Project.service_card_no)
            .where(Project.enterprise_id == enterprise_id, Project.service_card_no.is_not(None))
            .order_by(Project.id)
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def add(self, **values: Any) -> Project:
        """Insert a project (code, name, category, stage, status, snapshot…)."""
        project = Project(**values)
        self.session.add(project)
        await self.session.flush()
        return project

    async def by_application(self, application_id: int) -> Project | None:
        """The project an application became, or None."""
        result = await self.session.execute(
            select(Project).where(Project.application_id == application_id)
        )
        return result.scalar_one_or_none()

    async def of_contact(self, person_id: int, enterprise_id: int | None) -> list[Project]:
        """Projects of the person's enterprise, or of applications they filed for no
        enterprise, oldest first. A project of an enterprise is shown to its contacts only:
        a claimant or a removed contact who once filed its application does not see it."""
        filed = select(Application.id).where(Application.contact_person_id == person_id)
        who: ColumnElement[bool] = and_(
            Project.application_id.in_(filed), Project.enterprise_id.is_(None)
        )
        if enterprise_id is not None:
            who = or_(who, Project.enterprise_id == enterprise_id)
        result = await self.session.execute(select(Project).where(who).order_by(Project.id))
        return list(result.scalars())

    async def progress(self, project_id: int) -> Progress:
        """Items done / total and the not-done item due first."""
        rows = await self.session.execute(
            select(ChecklistItem).where(ChecklistItem.project_id == project_id)
        )
        items = list(rows.scalars())
        done = [i for i in items if i.state == "done"]
        pending = [i for i in items if i.state != "done" and i.due_on is not None]
        pending.sort(key=lambda i: (i.due_on or date.max, i.sort, i.id))
        return Progress(len(done), len(items), pending[0] if pending else None)

    async def get(self, project_id: int) -> Project | None:
        """The project with this id, or None."""
        return await self.session.get(Project, project_id)

    async def by_code(self, code: str) -> Project | None:
        """The project with this code (P2026-0001), case-insensitive, or None."""
        result = await self.session.execute(
            select(Project).where(func.upper(Project.code) == code.strip().upper())
        )
        return result.scalar_one_or_none()

    async def listed(
        self,
        *,
        zone: str | None = None,
        stage: str | None = None,
        butler_id: int | None = None,
        include_archived: bool = True,
    ) -> list[Project]:
        """Projects, optionally of one zone, stage or butler, oldest first."""
        stmt = select(Project)
        if zone is not None:
            stmt = stmt.where(Project.zone == zone)
        if stage is not None:
            stmt = stmt.where(Project.stage == stage)
        if butler_id is not None:
            stmt = stmt.where(Project.butler_id == butler_id)
        if not include_archived:
            stmt = stmt.where(Project.status != "archived")
        result = await self.session.execute(stmt.order_by(Project.id))
        return list(result.scalars())

    async def save(self, project: Project) -> None:
        """Flush a changed project."""
        await self.session.flush()

    async def created_since(self, since: datetime) -> list[Project]:
        """Projects created at or after ``since``."""
        result = await self.session.execute(
            select(Project).where(Project.created_at >= since).order_by(Project.id)
        )
        return list(result.scalars())


__all__ = ["Progress", "ProjectRepo"]
