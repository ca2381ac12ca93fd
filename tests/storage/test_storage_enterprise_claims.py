"""Enterprise contacts and claims (联络人认领) in the store, on SQLite and PostgreSQL: a claim
is not membership, never renames, is filed once; the first contact is seated only while the
enterprise has none; removal takes a contact off the enterprise's project teams."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from storage.db import Database
from storage.models import Person
from storage.uow import UnitOfWork

USCC = "91350100M000100Y43"


async def test_a_claim_is_filed_once_and_is_not_membership(
    db: Database, make_person: Callable[..., Awaitable[Person]], now: datetime
) -> None:
    first, second = await make_person("张伟"), await make_person("李强")
    async with UnitOfWork(db) as uow:
        enterprise = await uow.enterprises.get_or_create(
            name="北京运河建设有限公司", uscc=USCC, now=now
        )
        assert await uow.enterprises.seat_first_contact(
            enterprise.id, first.id, by_id=None, now=now
        )
        again = await uow.enterprises.get_or_create(name="运河建设集团（新）", uscc=USCC, now=now)
        claim, new = await uow.enterprises.claim(
            enterprise.id, second.id, "运河建设集团（新）", now
        )
        same, new_again = await uow.enterprises.claim(enterprise.id, second.id, "别的名字", now)
        await uow.commit()
    assert again.id == enterprise.id and new and not new_again and same.id == claim.id
    async with UnitOfWork(db) as uow:
        stored = await uow.enterprises.get(enterprise.id)
        assert stored is not None and stored.name == "北京运河建设有限公司"
        assert [p.id for p in await uow.enterprises.contacts(enterprise.id)] == [first.id]
        assert [c.id for c in await uow.enterprises.pending_claims(enterprise.id)] == [claim.id]
        # A second applicant is not seated while the enterprise has a contact.
        assert not await uow.enterprises.seat_first_contact(
            enterprise.id, second.id, by_id=None, now=now
        )
        latest = await uow.enterprises.latest_claim(second.id)
        assert latest is not None and latest.stated_name == "运河建设集团（新）"


async def test_approve_refuse_and_a_refused_claim_stays_refused(
    db: Database, make_person: Callable[..., Awaitable[Person]], now: datetime
) -> None:
    contact, friend, stranger = [await make_person(n) for n in ("张伟", "李强", "赵六")]
    async with UnitOfWork(db) as uow:
        enterprise = await uow.enterprises.get_or_create(name="甲公司", uscc=USCC, now=now)
        await uow.enterprises.seat_first_contact(enterprise.id, contact.id, by_id=None, now=now)
        yes, _ = await uow.enterprises.claim(enterprise.id, friend.id, "甲公司", now)
        no, _ = await uow.enterprises.claim(enterprise.id, stranger.id, "甲公司", now)
        locked = await uow.enterprises.get_claim(yes.id, for_update=True)
        assert locked is not None
        await uow.enterprises.decide(locked, approved=True, by_id=contact.id, now=now)
        await uow.enterprises.decide(no, approved=False, by_id=contact.id, now=now)
        await uow.commit()
    async with UnitOfWork(db) as uow:
        ids = [p.id for p in await uow.enterprises.contacts(enterprise.id)]
        assert ids == [contact.id, friend.id]
        assert await uow.enterprises.pending_claims(enterprise.id) == []
        refused, new = await uow.enterprises.claim(enterprise.id, stranger.id, "甲公司", now)
        assert not new and refused.status == "refused" and refused.decided_by_id == contact.id


async def test_removing_a_contact_drops_their_enterprise_team_seats(
    db: Database, make_person: Callable[..., Awaitable[Person]], now: datetime
) -> None:
    contact = await make_person("张伟")
    async with UnitOfWork(db) as uow:
        enterprise = await uow.enterprises.get_or_create(name="甲公司", uscc=USCC, now=now)
        await uow.enterprises.seat_first_contact(enterprise.id, contact.id, by_id=None, now=now)
        ours = await uow.projects.add(
            code="P2026-0001",
            name="甲项目",
            enterprise_id=enterprise.id,
            category="building",
            stage="project_approval",
            status="accepted",
            created_at=now,
            snapshot={},
        )
        other = await uow.projects.add(
            code="P2026-0002",
            name="乙项目",
            enterprise_id=None,
            category="building",
            stage="project_approval",
            status="accepted",
            created_at=now,
            snapshot={},
        )
        await uow.members.add(ours.id, contact.id, "enterprise")
        await uow.members.add(other.id, contact.id, "enterprise")
        await uow.commit()
    async with UnitOfWork(db) as uow:
        await uow.people.set_enterprise(contact.id, None)
        assert await uow.members.drop_enterprise_contact(contact.id, enterprise.id) == 1
        await uow.commit()
    async with UnitOfWork(db) as uow:
        assert await uow.enterprises.contacts(enterprise.id) == []
        assert [p.code for p in await uow.members.projects_of(contact.id)] == ["P2026-0002"]
