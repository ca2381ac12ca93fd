"""The roster against the WeCom directory (issue 16 point 5), on both backends:
`daiban people sync wecom` lists, and with --apply applies, what the directory changed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.app import SystemClock, build_app
from bot.config import Settings
from bot.outbox import DeliveryWorker
from bot.roster_sync import apply, propose, report
from bot.transports.wecom_client import WeComApi
from bot.transports.wecom_directory import read_directory
from bot.transports.wecom_sync import add_directory_job, sync_command
from bot.transports.wecom_transport import WeComTransport
from domain.application import project_snapshot
from storage.migrate import upgrade
from storage.models import OutboxMessage
from storage.uow import UnitOfWork
from tests.fakes.fake_wecom import AES_KEY, AGENT_ID, CORP_ID, SECRET, TOKEN, FakeWeCom
from tests.pg import pg_admin_url, scratch_pg_database

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


async def _zh(_userid: str) -> str:
    return "zh_CN"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db_url(request, tmp_path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'daiban.sqlite3'}"
        await upgrade(url)
        yield url
        return
    async with scratch_pg_database(pg_admin_url(), prefix="daiban_wecom_dir") as url:
        await upgrade(url)
        yield url


@pytest.fixture
async def fake():
    server = FakeWeCom()
    server.departments = {1: "通州区", 2: "区住房城乡建设委", 3: "区发展改革委"}
    server.member("lina", "李娜", departments=(2,))  # the butler, still here
    server.member("zhaoqiang", "赵强", departments=(2,), status=5)  # resigned
    server.member("qianjun", "钱军", departments=(2,))  # his backup
    server.member("sunli", "孙丽", mobile="13800000001", departments=(3,))  # on the roster
    server.member("zhoumin", "周敏", departments=(2,))  # moved from 发展改革委
    server.member("wuhao", "吴昊", departments=(3,))  # nobody knows him yet
    await server.start()
    yield server
    await server.stop()


async def seed(app) -> int:
    scheme = app.services.scheme
    async with UnitOfWork(app.services.db) as uow:

        async def person(name, role, department=None, userid=None, mobile=None, **extra):
            found = await uow.people.add(name, mobile=mobile, roles=[(role, department)], now=NOW)
            if userid:
                await uow.people.add_account(found.id, "wecom", userid, name, now=NOW)
            return found

        butler = await person("李娜", "butler", userid="lina")
        zhao = await person("赵强", "specialist", "housing_construction", userid="zhaoqiang")
        qian = await person("钱军", "specialist", "housing_construction", userid="qianjun")
        await uow.people.add_role(qian.id, "backup", "housing_construction", backup_of_id=zhao.id)
        await person("孙丽", "specialist", "development_reform", mobile="13800000001")
        await person("周敏", "specialist", "development_reform", userid="zhoumin")
        project = await uow.projects.add(
            code="P2026-0009",
            name="运河商务区",
            category="industrial",
            stage=scheme.stages[0].id,
            status="in_progress",
            zone=None,
            accepted_at=NOW,
            snapshot=project_snapshot(scheme, "industrial"),
            created_at=NOW,
        )
        project.butler_id = butler.id
        await uow.projects.save(project)
        housing = await uow.departments.by_code("housing_construction")
        await uow.members.add(project.id, butler.id, "butler")
        await uow.members.add(project.id, zhao.id, "specialist", housing.id)
        await uow.members.add(project.id, qian.id, "backup", housing.id)
        chat = await uow.chats.get_or_create("wecom", "appchat:dbn1", "group", "运河商务区", NOW)
        chat.project_id = project.id
        item = await uow.items.add(
            project_id=project.id,
            code="construction_permit",
            name_zh="施工许可",
            name_en="Construction permit",
            department_id=housing.id,
            stage=scheme.stages[0].id,
            assignee_id=zhao.id,
            limit_workdays=10,
            state="in_review",
            sort=1,
        )
        return item.id


async def test_the_directory_proposes_then_applies_links_and_departures(db_url, fake):
    settings = Settings(
        database_url=db_url,
        wecom_corp_id=CORP_ID,
        wecom_agent_id=str(AGENT_ID),
        wecom_secret=SECRET,
        wecom_token=TOKEN,
        wecom_aes_key=AES_KEY,
        wecom_api_url=fake.url,
    )
    app = await build_app(settings)
    db = app.services.db
    item_id = await seed(app)
    fake.appchats["dbn1"] = {
        "name": "运河商务区",
        "owner": "lina",
        "userlist": ["lina", "zhaoqiang", "qianjun"],
    }
    api = WeComApi(fake.url, CORP_ID, SECRET, AGENT_ID)
    entries = await read_directory(api)
    await api.close()
    assert {e.external_id for e in entries} == set(fake.users)  # every page was read
    assert fake.calls.count("user/list_id") == 3

    proposal = await propose(db, app.services.scheme, "wecom", entries)
    assert [(e.external_id, p.name) for e, p in proposal.link] == [("sunli", "孙丽")]
    assert [e.external_id for e in proposal.unknown] == ["wuhao"]
    assert [p.name for p in proposal.leaving] == ["赵强"]
    assert [(p.name, a, b) for p, a, b in proposal.moves] == [
        ("周敏", "区发展改革委", "区住房城乡建设委")
    ]
    lines = report(proposal)
    assert any(line.startswith("new      吴昊 (wuhao") for line in lines)

    done = await apply(db, "wecom", proposal, NOW, groups=True)
    assert done == {"linked": 1, "left": 1, "items_moved": 1, "items_orphaned": 0}
    async with UnitOfWork(db) as uow:
        zhao = await uow.people.by_account("wecom", "zhaoqiang")
        qian = await uow.people.by_account("wecom", "qianjun")
        item = await uow.items.get(item_id)
        sun = await uow.people.by_account("wecom", "sunli")
        notices = list(
            (
                await uow.session.execute(
                    select(OutboxMessage.chat_external_id, OutboxMessage.payload)
                )
            ).all()
        )
    assert zhao is not None and not zhao.active
    assert item.assignee_id == qian.id
    assert sun is not None and sun.name == "孙丽"
    assert [(chat, p["text"]) for chat, p in notices if "text" in p] == [
        (
            "lina",
            "根据企业微信通讯录，赵强已离开。其在项目 P2026-0009 中未办结的事项已转交候补钱军："
            "construction_permit。",
        )
    ]
    # The leaver leaves the project's WeCom group: its members follow the team.
    api = WeComApi(fake.url, CORP_ID, SECRET, AGENT_ID)
    transport = WeComTransport(api, robot_keys={}, lang_of=_zh, default_lang="zh_CN")
    await DeliveryWorker(db, {"wecom": transport}, SystemClock()).drain()
    await api.close()
    assert fake.appchats["dbn1"]["userlist"] == ["lina", "qianjun"]
    assert [s.target for s in fake.sent] == ["lina"]  # the butler's notice
    # A second run finds nothing left to do but the unknown member and the move.
    again = await propose(db, app.services.scheme, "wecom", entries)
    assert not again.link and not again.leaving
    scheme = app.services.scheme
    assert await sync_command(settings, db, scheme, "telegram", apply_changes=True) == 2
    await db.dispose()


async def test_the_nightly_check_tells_the_office_once_per_change(db_url, fake):
    settings = Settings(database_url=db_url, wecom_directory_check=True)
    app = await build_app(settings)
    db = app.services.db
    await seed(app)
    fake.member("wangfang", "王芳")
    async with UnitOfWork(db) as uow:
        office = await uow.people.add("王芳", roles=[("office", None)], now=NOW)
        await uow.people.add_account(office.id, "wecom", "wangfang", "王芳", now=NOW)
    api = WeComApi(fake.url, CORP_ID, SECRET, AGENT_ID)
    add_directory_job(app, settings, api)
    [job] = [j for j in app.jobs if j.name == "wecom_directory"]
    await job.run(app.services, NOW)
    await job.run(app.services, NOW)  # the next night, nothing new: no second notice
    await api.close()
    async with UnitOfWork(db) as uow:
        rows = list(
            (
                await uow.session.execute(
                    select(OutboxMessage.chat_external_id, OutboxMessage.payload)
                )
            ).all()
        )
        zhao = await uow.people.by_account("wecom", "zhaoqiang")
    assert len(rows) == 1 and rows[0][0] == "wangfang"
    text = rows[0][1]["text"]
    assert "已离开：赵强" in text and "尚未在名单中：吴昊" in text and "待关联：孙丽" in text
    assert zhao is not None and zhao.active  # the check never applies anything
    await db.dispose()
