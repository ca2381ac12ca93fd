"""Enterprises (建设主体), known by their unified social credit code (USCC) when given, their
contacts (联络人) and the claims (认领) of people who say they act for them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from storage.models import Enterprise, EnterpriseClaim, Person
from storage.repos._base import Repo


class EnterpriseRepo(Repo):
    """Find or register the companies that build projects; who may act for them."""

    async def get(self, enterprise_id: int) -> Enterprise | None:
        """The enterprise with this id, or None."""
        return await self.session.get(Enterprise, enterprise_id)

    async def by_uscc(self, uscc: str) -> Enterprise | None:
        """The enterprise with this credit code, or None."""
        result = await self.session.execute(select(Enterprise).where(Enterprise.uscc == uscc))
        return result.scalar_one_or_none()

    async def get_or_create(self, *, name: str, uscc: str | None, now: datetime) -> Enterprise:
        """The enterprise with this USCC, else by name when no USCC is given; registered on
        first sight under ``name``. A known enterprise is never renamed here: a credit code
        is public, so whoever types it must not rename the company."""
        if uscc is not None:
            enterprise = await self.by_uscc(uscc)
            if enterprise is None:
                await self.insert_if_new(
                    Enterprise, {"name": name, "uscc": uscc, "created_at": now}
                )
                enterprise = await self.by_uscc(uscc)
                assert enterprise is not None
            return enterprise
        result = await self.session.execute(
            select(Enterprise)
            .where(Enterprise.name == name, Enterprise.uscc.is_(None))
            .order_by(Enterprise.id)
            .limit(1)
        )
        found = result.scalar_one_or_none()
        if found is not None:
            return found
        enterprise = Enterprise(name=name, uscc=None, created_at=now)
        self.session.add(enterprise)
        await self.session.flush()
        return enterprise

    async def contacts(self, enterprise_id: int) -> list[Person]:
        """The people who act for the enterprise (its confirmed contacts), by id."""
        result = await self.session.execute(
            select(Person).where(Person.enterprise_id == enterprise_id).order_by(Person.id)
        )
        return list(result.scalars())

    async def claim(
        self, enterprise_id: int, person_id: int, stated_name: str, now: datetime
    ) -> tuple[EnterpriseClaim, bool]:
        """The person's open claim on the enterprise, filed now if there is none; True when
        new. A refused claim is returned as it stands (no new claim, no new notices)."""
        result = await self.session.execute(
            select(EnterpriseClaim)
            .where(
                EnterpriseClaim.enterprise_id == enterprise_id,
                EnterpriseClaim.person_id == person_id,
                EnterpriseClaim.status.in_(("pending", "refused")),
            )
            .order_by(EnterpriseClaim.id.desc())
            .limit(1)
        )
        found = result.scalar_one_or_none()
        if found is not None:
            return found, False
        claim = EnterpriseClaim(
            enterprise_id=enterprise_id,
            person_id=person_id,
            stated_name=stated_name,
            status="pending",
            created_at=now,
        )
        self.session.add(claim)
        await self.session.flush()
        return claim, True

    async def get_claim(self, claim_id: int, *, for_update: bool = False) -> EnterpriseClaim | None:
        """The claim with this id, locked for a decision when asked, or None."""
        stmt = select(EnterpriseClaim).where(EnterpriseClaim.id == claim_id)
        if for_update:
            stmt = stmt.with_for_update()
        result = await self.session.execute(stmt)
        return result.scalar_one_or_none()

    async def pending_claims(self, enterprise_id: int) -> list[EnterpriseClaim]:
        """Undecided claims on the enterprise, oldest first."""
        result = await self.session.execute(
            select(EnterpriseClaim)
            .where(
                EnterpriseClaim.enterprise_id == enterprise_id,
                EnterpriseClaim.status == "pending",
            )
            .order_by(EnterpriseClaim.id)
        )
        return list(result.scalars())

    async def decide(
        self, claim: EnterpriseClaim, *, approved: bool, by_id: int | None, now: datetime
    ) -> None:
        """Approve (the person becomes a contact) or refuse a pending claim."""
        claim.status = "approved" if approved else "refused"
        claim.decided_at, claim.decided_by_id = now, by_id
        if approved:
            person = await self.session.get(Person, claim.person_id)
            if person is not None:
                person.enterprise_id = claim.enterprise_id
        await self.session.flush()

    async def seat_first_contact(
        self, enterprise_id: int, person_id: int, *, by_id: int | None, now: datetime
    ) -> bool:
        """Make the person the enterprise's first contact when it has none (the office has
        accepted their application); True when seated. Their pending claim is approved."""
        if await self.contacts(enterprise_id):
            return False
        person = await self.session.get(Person, person_id)
        if person is None:
            return False
        for claim in await self.pending_claims(enterprise_id):
            if claim.person_id == person_id:
                await self.decide(claim, approved=True, by_id=by_id, now=now)
        person.enterprise_id = enterprise_id
        await self.session.flush()
        return True

    async def latest_claim(self, person_id: int) -> EnterpriseClaim | None:
        """The person's most recent claim on any enterprise, or None."""
        result = await self.session.execute(
            select(EnterpriseClaim)
            .where(EnterpriseClaim.person_id == person_id)
            .order_by(EnterpriseClaim.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def forget_claims_of(self, person_ids: list[int]) -> int:
        """Delete every claim these people filed (the emulator's reset); how many went."""
        if not person_ids:
            return 0
        result = await self.session.execute(
            delete(EnterpriseClaim).where(EnterpriseClaim.person_id.in_(person_ids))
        )
        return int(getattr(result, "rowcount", 0) or 0)



__all__ = ["EnterpriseRepo"]
