"""Applications for agency service (代办申请) and the office's decisions on them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from storage.models import Application
from storage.repos._base import Repo

OPEN_STATUSES = ("submitted", "materials_requested", "resubmitted")
DECIDED_STATUSES = ("accepted", "rejected")


class ApplicationRepo(Repo):
    """Submit once per idempotency key; read, lock and decide."""

    async def submit(
        self,
        *,
        idempotency_key: str,
        contact_person_id: int,
        enterprise_id: int | None,
        project_name: str,
        category: str,
        investment_wan: Decimal | None,
        data: dict[str, Any],
        now: datetime,
    ) -> tuple[Application, bool]:
        """(the application, True) when new; (the earlier one, False) for a repeated key."""
        inserted = await self.insert_if_new(
            Application,
            {
                "idempotency_key": idempotency_key,
                "contact_person_id": contact_person_id,
                "enterprise_id": enterprise_id,
                "project_name": project_name,
                "category": category,
                "investment_wan": investment_wan,
                "data": data,
                "status": "submitted",
                "submitted_at": now,
            },
        )
        result = await self.session.execute(
            select(Application)
            .where(Application.idempotency_key == idempotency_key)
            .execution_options(populate_existing=True)
        )
        return result.scalar_one(), inserted

    async def get(self, application_id: int, *, for_update: bool = False) -> Application | None:
        """The application, or None; ``for_update`` locks it (PostgreSQL) until commit."""
        stmt = (
            select(Application)
            .where(Application.id == application_id)
            .execution_options(populate_existing=True)
        )
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def of_contact(
        self, person_id: int, enterprise_id: int | None = None, *, statuses: tuple[str, ...] = ()
    ) -> list[Application]:
        """Applications the person filed or their enterprise filed, newest first."""
        who: ColumnElement[bool] = Application.contact_person_id == person_id
        if enterprise_id is not None:
            who = or_(who, Application.enterprise_id == enterprise_id)
        stmt = select(Application).where(who)
        if statuses:
            stmt = stmt.where(Application.status.in_(statuses))
        result = await self.session.execute(stmt.order_by(Application.id.desc()))
        return list(result.scalars())

    async def save(self, application: Application) -> None:
        """Write changes of a loaded application (its JSON ``data`` is replaced, not mutated)."""
        self.session.add(application)
        await self.session.flush()


__all__ = ["DECIDED_STATUSES", "OPEN_STATUSES", "ApplicationRepo"]
