"""The staff on WeCom, end to end on the fake (issue 16, "Done when"), on both backends.

The office assigns a team → the butler creates the WeCom group from the bot (the button on
the notice) → the handbook arrives in the group → a specialist presses a card button
twice → one action, and the card shows who pressed it. Everything runs through the real
callback (encrypted, signed), the handlers, the outbox and the WeCom transport.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from aiohttp import web

from bot.app import build_app
from bot.config import Settings
from bot.transports.wecom import CALLBACK_PATH
from bot.transports.wecom_start import start_wecom
from domain.application import project_snapshot
from handlers.projects import checklist_departments
from storage.migrate import upgrade
from storage.uow import UnitOfWork
from tests.fakes.fake_wecom import (
    AES_KEY,
    AGENT_ID,
    CORP_ID,
    SECRET,
    TOKEN,
    FakeWeCom,
    Sent,
    WeComSide,
    text_xml,
)
from tests.pg import pg_admin_url, scratch_pg_database

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # a Monday, 09:30 in Beijing


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db_url(request, tmp_path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'daiban.sqlite3'}"
        await upgrade(url)
        yield url
        return
    async with scratch_pg_database(pg_admin_url(), prefix="daiban_wecom_story") as url:
        await upgrade(url)
        yield url


@pytest.fixture
async def world(db_url, tmp_path):
    fake = FakeWeCom()
    await fake.start()
    settings = Settings(
        database_url=db_url,
        scheme="tongzhou",
        wecom_corp_id=CORP_ID,
        wecom_agent_id=str(AGENT_ID),
        wecom_secret=SECRET,
        wecom_token=TOKEN,
        wecom_aes_key=AES_KEY,
        wecom_api_url=fake.url,
    )
    app = await build_app(settings)
    web_app = web.Application()
    stop = await start_wecom(app, settings, web_app)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    side = WeComSide(f"http://127.0.0.1:{port}{CALLBACK_PATH}")
    project = await seed(app)
    yield SimpleNamespace(app=app, fake=fake, side=side, project=project)
    await stop()
    await runner.cleanup()
    await app.services.db.dispose()
    await fake.stop()


async def seed(app):
    """An office clerk, a butler, a specialist for each checklist department of an
    accepted project (all WeCom members), and the enterprise contact (not a member)."""
    scheme = app.services.scheme
    async with UnitOfWork(app.services.db) as uow:

        async def person(userid: str, name: str, role: str, department: str | None = None):
            found = await uow.people.add(name, roles=[(role, department)], now=NOW)
            await uow.people.add_account(found.id, "wecom", userid, name, now=NOW)
            return found

        await person("wangfang", "王芳", "office")
        await person("lina", "李娜", "butler")
        contact = await uow.people.add("张伟", roles=[("enterprise", None)], now=NOW)
        project = await uow.projects.add(
            code="P2026-0007",
            name="张家湾车辆段",
            category="industrial",
            stage=scheme.stages[0].id,
            status="accepted",
            zone=None,
            accepted_at=NOW,
            snapshot=project_snapshot(scheme, "industrial"),
            created_at=NOW,
        )
        await uow.members.add(project.id, contact.id, "enterprise")
        for n, department in enumerate(checklist_departments(project)):
            await person(f"spec{n}", f"专员{n}", "specialist", department)
        return project.code


class Staff:
    """WeCom's side for one member: send text, press the buttons of what they received."""

    def __init__(self, world: SimpleNamespace, userid: str) -> None:
        self.world, self.userid = world, userid
        self.seq = 0

    @property
    def received(self) -> list[Sent]:
        return self.world.fake.to(self.userid)

    async def say(self, text: str) -> None:
        self.seq += 1
        xml = text_xml(self.userid, text, f"{self.userid}-{self.seq}")
        assert await self.world.side.post(xml) == (200, "success")
        await self.world.app.worker.drain()

    def last_card(self) -> dict:
        cards = [s.body for s in self.received if s.body.get("msgtype") == "template_card"]
        assert cards, [s.content for s in self.received]
        return cards[-1]["template_card"]

    async def choose(self, label: str, at: int) -> None:
        """Choose `label` on the last message with options: a card press, or `#n`."""
        last = self.received[-1]
        if last.body.get("msgtype") == "template_card":
            await self.press(last.body["template_card"], label, at)
            return
        found = re.search(rf"#(\d+) {label}", last.content)
        assert found, last.content
        await self.say(f"#{found.group(1)}")
        for _ in range(2):  # the group intent runs, then what its binding wrote
            await self.world.app.worker.drain()

    async def press(self, card: dict, label: str, at: int) -> None:
        """Press the button whose text matches `label` on `card` (a fresh press each time)."""
        keys = [b["key"] for b in card["button_list"] if re.search(label, b["text"])]
        assert keys, [b["text"] for b in card["button_list"]]
        xml = self.world.fake.press(self.userid, card["task_id"], keys[0], create_time=at)
        assert await self.world.side.post(xml) == (200, "success")
        for _ in range(2):  # the group intent runs, then what its binding wrote
            await self.world.app.worker.drain()


async def test_office_assigns_butler_makes_the_group_specialist_presses_twice(world):
    fake, code = world.fake, world.project
    office, butler, specialist = Staff(world, "wangfang"), Staff(world, "lina"), None

    # The office assigns the team: the butler buttons come as a card; one press.
    await office.say(f"/assign {code}")
    await office.choose("李娜", at=1_800_000_001)
    assert any("李娜" in s.content for s in office.received[1:])

    # The butler's notice offers to make the group; one choice makes it on WeCom …
    await butler.choose("建立代办组群聊", at=1_800_000_002)
    assert len(fake.appchats) == 1
    chatid, chat = next(iter(fake.appchats.items()))
    assert chat["owner"] == "lina"
    assert chat["name"].startswith(code)
    members = set(chat["userlist"])
    assert {"lina", "spec0"} <= members and "wangfang" not in members
    # … bound to the project, with the greeting and the handbook posted in it.
    in_group = [s.content for s in fake.to(chatid)]
    assert any("一项目一册" in text and code in text for text in in_group), in_group
    assert any("@李娜" in text for text in in_group)
    async with UnitOfWork(world.app.services.db) as uow:
        project = await uow.projects.by_code(code)
        chats = await uow.chats.for_project(project.id)
        items = await uow.items.of_project(project.id)
    assert [c.external_id for c in chats] == [f"appchat:{chatid}"]

    # A specialist opens an item's card and presses its first button twice.
    item = next(i for i in items if i.assignee_id is not None)
    async with UnitOfWork(world.app.services.db) as uow:
        account = await uow.people.dm_account(item.assignee_id, prefer_platform="wecom")
    specialist = Staff(world, account.external_id)
    await specialist.say(f"/item {code} {item.code}")
    card = specialist.last_card()
    label = card["button_list"][0]["text"]
    await specialist.press(card, re.escape(label), at=1_800_000_010)
    await specialist.press(card, re.escape(label), at=1_800_000_011)

    async with UnitOfWork(world.app.services.db) as uow:
        moved = await uow.items.get(item.id)
        events = [e for e in await uow.events.for_project(project.id) if e.item_id == item.id]
    assert moved.state != item.state
    assert len(events) == 1, [e.kind for e in events]  # one action for two presses
    updates = [u for u in fake.card_updates if u["task_id"] == card["task_id"]]
    name = f"专员{account.external_id.removeprefix('spec')}"
    assert [u["button"]["replace_name"] for u in updates] == [f"{label} · {name}"]
    assert "没有重复执行" in specialist.received[-1].content
    assert fake.violations == 0
