"""Enterprise contacts (企业联络人) through the real pipeline: made-up claim and removal
payloads are refused without deciding anything (a claimant cannot approve themselves, a
stranger cannot approve, a non-office person cannot remove, an id out of range is "no
longer exists", not an apology); and the contacts story plays on PostgreSQL too (on SQLite
it runs with every story in tests/test_stories.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import App, build_app
from bot.config import Settings
from bot.stories import run_story_file
from bot.transports.memory import MemoryTransport
from domain.clock import FakeClock
from handlers.chat import Incoming, Sender
from handlers.projects import enterprise_contact
from storage.migrate import upgrade
from storage.uow import UnitOfWork
from tests.pg import pg_admin_url, scratch_pg_database

PLATFORM = "test"
START = datetime.fromisoformat("2026-11-23T09:00:00+08:00")
USCC = "91350100M000100Y43"
STORY = Path(__file__).parent / "stories" / "trust_enterprise_contacts.yaml"
APOLOGY = "something went wrong"


@dataclass
class World:
    app: App
    transport: MemoryTransport
    claim_id: int
    ids: dict[str, int]
    seq: int = 0

    async def press(self, who: str, payload: str) -> list[str]:
        self.seq += 1
        event = Incoming(
            event_id=f"c{self.seq}",
            sender=Sender(PLATFORM, who, who, "en"),
            chat_id=who,
            payload=payload,
        )
        mark = len(self.transport.delivered)
        await self.app.handle(event)
        await self.app.worker.drain()
        return [d.message.text for d in self.transport.delivered[mark:]]

    async def state(self) -> tuple[str, list[int]]:
        async with UnitOfWork(self.app.services.db) as uow:
            claim = await uow.enterprises.get_claim(self.claim_id)
            assert claim is not None
            contacts = await uow.enterprises.contacts(claim.enterprise_id)
            return claim.status, [p.id for p in contacts]


@pytest_asyncio.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    async with contextlib.AsyncExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path / 'contacts.sqlite3'}"
        else:
            url = await stack.enter_async_context(
                scratch_pg_database(pg_admin_url(), "daiban_contacts")
            )
        await upgrade(url)
        async for built in _world(url):
            yield built


async def _world(url: str) -> AsyncIterator[World]:
    transport = MemoryTransport(PLATFORM)
    app = await build_app(
        Settings(database_url=url, scheme="tongzhou", tick_seconds=900),
        clock=FakeClock(START),
        transports={PLATFORM: transport},
    )
    now = app.services.clock.now()
    ids: dict[str, int] = {}
    async with UnitOfWork(app.services.db) as uow:
        for who, role in [
            ("contact", "enterprise"),
            ("claimant", "enterprise"),
            ("stranger", "enterprise"),
            ("butler", "butler"),
            ("office", "office"),
        ]:
            person = await uow.people.add(who, lang="en", roles=[(role, None)], now=now)
            await uow.people.add_account(person.id, PLATFORM, who, who, now=now)
            ids[who] = person.id
        enterprise = await uow.enterprises.get_or_create(name="Canal Build", uscc=USCC, now=now)
        await uow.enterprises.seat_first_contact(enterprise.id, ids["contact"], by_id=None, now=now)
        claim, _ = await uow.enterprises.claim(enterprise.id, ids["claimant"], "Canal", now)
        await uow.commit()
    try:
        yield World(app, transport, claim.id, ids)
    finally:
        await app.close()


async def test_made_up_claim_payloads_decide_nothing(world: World) -> None:
    for who in ("claimant", "stranger", "butler"):
        replies = await world.press(who, f"claim:approve:{world.claim_id}")
        assert replies == [
            "Only a contact of the enterprise or the executive group office (District Major "
            "Projects Centre) can decide this request."
        ], who
    for payload in ("claim:approve:99999999999999999999999", "claim:refuse:-1", "claim:approve:"):
        replies = await world.press("office", payload)
        assert replies == ["This request no longer exists."], payload
    assert await world.state() == ("pending", [world.ids["contact"]])

    assert (await world.press("contact", f"claim:refuse:{world.claim_id}"))[0].startswith(
        "The request of claimant to act for Canal Build was refused"
    )
    # Decided once: the office pressing later changes nothing.
    replies = await world.press("office", f"claim:approve:{world.claim_id}")
    assert replies == ["The request of claimant to act for Canal Build was already refused."]
    assert await world.state() == ("refused", [world.ids["contact"]])


async def test_only_the_office_removes_a_contact(world: World) -> None:
    contact = world.ids["contact"]
    async with UnitOfWork(world.app.services.db) as uow:
        claim = await uow.enterprises.get_claim(world.claim_id)
        assert claim is not None
        company = claim.enterprise_id
    for who in ("contact", "claimant", "butler"):
        replies = await world.press(who, f"contact:remove:{contact}:{company}")
        assert replies and replies[0].startswith("Sorry, this is only for: "), who
    assert (await world.state())[1] == [contact]
    for payload in (
        f"contact:remove:99999999999999999999999:{company}",
        f"contact:remove:{contact + 99}:{company}",
        f"contact:remove:{contact}:{company + 1}",  # an old button of another enterprise
        f"contact:remove:{contact}",
    ):
        replies = await world.press("office", payload)
        assert replies == ["This person is no longer a contact of that enterprise."], payload
    replies = await world.press("office", f"contact:remove:{contact}:{company}")
    assert replies[0] == "contact is no longer a contact of Canal Build."
    assert (await world.state())[1] == []
    assert not any(APOLOGY in d.message.text for d in world.transport.delivered)


@pytest.mark.postgres
async def test_the_contacts_story_plays_on_postgresql() -> None:
    async with scratch_pg_database(pg_admin_url(), "daiban_story") as url:
        result = await run_story_file(STORY, database_url=url)
    assert result.ok, "\n".join(str(f) for f in result.failures)


async def test_only_a_contact_speaks_for_the_enterprise_on_its_project(world: World) -> None:
    """The applicant counts as the project's enterprise contact while they act for its
    enterprise; a claimant's or a removed contact's project falls back to a contact."""
    now = world.app.services.clock.now()
    async with UnitOfWork(world.app.services.db) as uow:
        claim = await uow.enterprises.get_claim(world.claim_id)
        assert claim is not None
        by = {}
        for who in ("claimant", "contact"):
            app, _ = await uow.applications.submit(
                idempotency_key=f"k-{who}",
                contact_person_id=world.ids[who],
                enterprise_id=claim.enterprise_id,
                project_name=f"{who} project",
                category="building",
                investment_wan=Decimal(120000),
                data={},
                now=now,
            )
            by[who] = await uow.projects.add(
                code=f"P2026-{len(by) + 1:04d}",
                name=f"{who} project",
                enterprise_id=claim.enterprise_id,
                application_id=app.id,
                category="building",
                stage="project_approval",
                status="accepted",
                created_at=now,
                snapshot={},
            )
        contact_id = world.ids["contact"]
        assert (await enterprise_contact(uow, by["contact"])).id == contact_id  # type: ignore[union-attr]
        assert (await enterprise_contact(uow, by["claimant"])).id == contact_id  # type: ignore[union-attr]
        await uow.people.set_enterprise(contact_id, None)  # the office removed them
        assert await enterprise_contact(uow, by["contact"]) is None
        await uow.commit()


async def test_claims_filed_before_the_first_contact_go_to_them_once_seated(world: World) -> None:
    """Two people give a new enterprise's code; the office accepts one's application. The
    other's claim, filed when nobody could decide it, now reaches the new contact."""
    now = world.app.services.clock.now()
    async with UnitOfWork(world.app.services.db) as uow:
        for who in ("applicant", "early"):
            person = await uow.people.add(who, lang="en", roles=[("enterprise", None)], now=now)
            await uow.people.add_account(person.id, PLATFORM, who, who, now=now)
            world.ids[who] = person.id
        company = await uow.enterprises.get_or_create(name="Second Co", uscc=None, now=now)
        early, _ = await uow.enterprises.claim(company.id, world.ids["early"], "Second", now)
        await uow.enterprises.claim(company.id, world.ids["applicant"], "Second Co", now)
        app, _ = await uow.applications.submit(
            idempotency_key="k-second",
            contact_person_id=world.ids["applicant"],
            enterprise_id=company.id,
            project_name="Second plant",
            category="building",
            investment_wan=Decimal(120000),
            data={},
            now=now,
        )
        await uow.commit()
    mark = len(world.transport.delivered)
    await world.press("office", f"app:accept:{app.id}")
    notices = [
        d
        for d in world.transport.delivered[mark:]
        if d.chat_external_id == "applicant" and "early (mobile —) says they act" in d.message.text
    ]
    assert len(notices) == 1
    payloads = [b.payload for row in notices[0].message.buttons for b in row]
    assert payloads == [f"claim:approve:{early.id}", f"claim:refuse:{early.id}"]
    replies = await world.press("applicant", f"claim:approve:{early.id}")
    assert replies == [
        "early is now a contact of Second Co.",  # to the applicant, then to early:
        "You are now a contact of Second Co: /progress shows its projects and applications.",
    ]
    async with UnitOfWork(world.app.services.db) as uow:
        seated = await uow.enterprises.contacts(company.id)
    assert [p.id for p in seated] == [world.ids["applicant"], world.ids["early"]]
