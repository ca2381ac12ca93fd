"""Nobody silently unreachable (issue 21 point 1): reachability, the postman's stand-in,
revoked codes, `daiban people invite` for several people, choosing a specialist."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import App, build_app
from bot.config import Settings
from bot.people_cli import invite_command, invite_many
from bot.transports.memory import MemoryTransport
from domain.application import project_snapshot
from domain.clock import FakeClock
from domain.reach import Reach, reach_of
from handlers.chat import Incoming, Outgoing, Sender
from handlers.invites import issue_person_code
from handlers.postman import Postman
from handlers.projects import assign_team
from handlers.staffing import choose_specialist, department_choices
from storage.migrate import upgrade
from storage.models import Person
from storage.repos.invites import REVOKED
from storage.uow import UnitOfWork
from tests.pg import pg_admin_url, scratch_pg_database

START = datetime.fromisoformat("2026-11-23T09:00:00+08:00")
TG = "telegram"


def test_reach_of_accounts() -> None:
    assert reach_of([]) is Reach.PENDING
    assert reach_of([True, True]) is Reach.UNREACHABLE
    assert reach_of([True, False]) is Reach.REACHABLE


@dataclass
class Office:
    app: App
    transport: MemoryTransport
    clock: FakeClock
    people: dict[str, Person]

    def sent_to(self, external_id: str) -> list[str]:
        return [
            d.message.text for d in self.transport.delivered if d.chat_external_id == external_id
        ]

    async def say(self, who: str, text: str) -> str:
        command, args = Incoming.parse_command(text)
        before = len(self.transport.delivered)
        event = Incoming(
            f"e{len(self.transport.delivered)}-{who}-{text}",
            Sender(TG, who, who, "zh"),
            who,
            text=text,
            command=command,
            args=args,
        )
        await self.app.handle(event)
        await self.app.worker.drain()
        return "\n".join(d.message.text for d in self.transport.delivered[before:])


@pytest_asyncio.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def office(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Office]:
    """Tongzhou: an office, a butler, specialists 李明 (activated) and 刘洋 (never), 周宇 the
    backup of 刘洋, and 赵强 whose only account WeCom refused; on both backends."""
    async with contextlib.AsyncExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path / 'reach.sqlite3'}"
        else:
            url = await stack.enter_async_context(
                scratch_pg_database(pg_admin_url(), "daiban_reach")
            )
        await upgrade(url)
        async for built in _office(url):
            yield built


async def _office(url: str) -> AsyncIterator[Office]:
    clock = FakeClock(START)
    transport = MemoryTransport(TG)
    app = await build_app(
        Settings(database_url=url, scheme="tongzhou"), clock=clock, transports={TG: transport}
    )
    now = clock.now()
    people: dict[str, Person] = {}
    async with UnitOfWork(app.services.db) as uow:
        for known in app.services.scheme.departments:
            await uow.departments.ensure(known.id, known.name.zh, known.name.en)
        roster = {
            "wang": ("王芳", [("office", None)]),
            "zhao": ("赵磊", [("butler", None)]),
            "li": ("李明", [("specialist", "housing_construction")]),
            "liu": ("刘洋", [("specialist", "housing_construction")]),
            "zhou": ("周宇", [("backup", "housing_construction")]),
            "qiang": ("赵强", [("specialist", "power_supply")]),
        }
        for key, (name, roles) in roster.items():
            people[key] = await uow.people.add(name, roles=roles, now=now)
            if key not in ("liu", "qiang"):
                await uow.people.add_account(people[key].id, TG, key, name, now)
        await uow.people.add_role(
            people["zhou"].id, "backup", "housing_construction", backup_of_id=people["liu"].id
        )
        await uow.people.add_account(people["qiang"].id, TG, "qiang", "赵强", now)
        await uow.people.mark_unreachable(TG, "qiang", now)
    try:
        yield Office(app, transport, clock, people)
    finally:
        await app.close()


async def _project(office: Office, butler: str, specialists: dict[str, str]) -> int:
    app, now = office.app, office.clock.now()
    async with UnitOfWork(app.services.db) as uow:
        project = await uow.projects.add(
            code="P2026-0001",
            name="通州物流中心",
            category="building",
            stage="project_approval",
            status="accepted",
            zone=None,
            accepted_at=now,
            snapshot=project_snapshot(app.services.scheme, "building"),
            created_at=now,
        )
        chosen = {dept: office.people[key].id for dept, key in specialists.items()}
        await assign_team(
            uow, project, office.people[butler].id, now=now, actor_id=None, specialists=chosen
        )
        return project.id


async def test_reach_and_dm_account_skip_refused_accounts(office: Office) -> None:
    p = office.people
    async with UnitOfWork(office.app.services.db) as uow:
        reach = await uow.people.reach([p["li"].id, p["liu"].id, p["qiang"].id])
        assert reach == {
            p["li"].id: Reach.REACHABLE,
            p["liu"].id: Reach.PENDING,
            p["qiang"].id: Reach.UNREACHABLE,
        }
        assert await uow.people.dm_account(p["qiang"].id, TG) is None
        unreached = [(who.name, why) for who, why, _ in await uow.people.unreached_staff()]
        assert unreached == [("刘洋", Reach.PENDING), ("赵强", Reach.UNREACHABLE)]


async def test_an_undeliverable_dm_goes_to_the_backup_and_the_butler_is_told_once(
    office: Office,
) -> None:
    p = office.people
    await _project(office, "zhao", {"housing_construction": "liu", "power_supply": "qiang"})
    db = office.app.services.db
    for day in (1, 2):
        async with UnitOfWork(db) as uow:
            post = Postman(uow, office.clock.now(), f"nudge:{day}")
            assert await post.to_person(p["liu"].id, Outgoing(f"事项逾期 {day}"), "x")
            assert not await post.to_person(p["qiang"].id, Outgoing(f"事项逾期 {day}"), "y")
            await post.to_person(p["liu"].id, Outgoing("同一轮的第二条"))
        await office.app.worker.drain()
    to_backup = office.sent_to("zhou")
    assert len(to_backup) == 4
    assert to_backup[0].startswith("转给您：刘洋暂时收不到消息（未激活），您是其候补人员。")
    assert to_backup[0].endswith("事项逾期 1")
    told = office.sent_to("zhao")
    assert len(told) == 2, told  # once for 刘洋, once for 赵强, over two rounds
    assert "刘洋收不到我发的消息（未激活）" in told[0] and "周宇" in told[0]
    assert "赵强收不到我发的消息（无法联系），且没有可联系的候补人员" in told[1]
    assert office.sent_to("wang") == []  # the butler is told, not the office


async def test_someone_on_no_team_is_reported_to_the_office(office: Office) -> None:
    async with UnitOfWork(office.app.services.db) as uow:
        await Postman(uow, office.clock.now(), "digest").to_person(office.people["liu"].id, "摘要")
    await office.app.worker.drain()
    [notice] = office.sent_to("wang")
    assert notice.startswith("刘洋收不到我发的消息（未激活）")


async def test_a_new_code_revokes_the_old_one_and_activation_clears_a_refusal(
    office: Office,
) -> None:
    db, qiang = office.app.services.db, office.people["qiang"]
    async with UnitOfWork(db) as uow:
        first = await issue_person_code(uow, qiang, now=office.clock.now())
        second = await issue_person_code(uow, qiang, now=office.clock.now())
    async with UnitOfWork(db) as uow:
        old = await uow.invites.by_code(first)
        assert old is not None and old.used_by == REVOKED and old.used_at is None
    assert "该邀请码已被新码取代" in await office.say("qiang", f"/start {first}")
    assert "欢迎您，赵强" in await office.say("qiang", f"/start {second}")
    async with UnitOfWork(db) as uow:
        assert (await uow.people.reach([qiang.id]))[qiang.id] is Reach.REACHABLE
        # A used code is never "revoked" afterwards by a newer one.
        await issue_person_code(uow, qiang, now=office.clock.now())
        used = await uow.invites.by_code(second)
        assert used is not None and used.used_by == f"{TG}:qiang"


async def test_invite_several_names_or_everyone_pending(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    db, now = office.app.services.db, office.clock.now()
    codes, unknown = await invite_many(db, ["李明", "赵强", "无此人"], now)
    assert [p.name for p, _ in codes] == ["李明", "赵强"] and unknown == ["无此人"]
    codes, unknown = await invite_many(db, [], now + timedelta(minutes=1), pending=True)
    assert [p.name for p, _ in codes] == ["刘洋"] and unknown == []
    assert await invite_command(db, ["刘洋", "赵强"], pending=False) == 0
    out = capsys.readouterr().out
    assert out.count("send the bot  /start ") == 2
    assert await invite_command(db, ["无此人"], pending=True) == 1
    assert "nobody named '无此人'" in capsys.readouterr().err


async def test_people_lists_who_cannot_be_reached_with_code_buttons(office: Office) -> None:
    listing = await office.say("wang", "/people")
    assert "**尚无法联系的人员（2人）**" in listing
    assert "· 刘洋 — 服务专员 · 区住房城乡建设委 — 尚未发过邀请码" in listing
    assert (
        "无法联系（其聊天平台拒收消息）：\n· 赵强 — 服务专员 · 供电企业 — 自 2026-11-23 起"
        in listing
    )
    buttons = [b.payload for row in office.transport.delivered[-1].message.buttons for b in row]
    assert buttons == [f"ppl:i:{office.people['liu'].id}", f"ppl:i:{office.people['qiang'].id}"]
    assert "此功能仅限：执行组办公室（区重大项目中心）" in await office.say("li", "/people")


async def test_assignment_prefers_the_reachable_and_choosing_moves_open_items(
    office: Office,
) -> None:
    p, db, now = office.people, office.app.services.db, office.clock.now()
    project_id = await _project(office, "zhao", {})
    async with UnitOfWork(db) as uow:
        project = await uow.projects.get(project_id)
        assert project is not None
        team = await uow.members.of_project(project_id)
        housing = [m.person_id for m in team if m.role == "specialist" and m.department_id]
        # 刘洋 has no load either, but cannot be reached: 李明 is pre-selected.
        assert p["li"].id in housing and p["liu"].id not in housing
        department = await uow.departments.by_code("housing_construction")
        assert department is not None
        for n, state in enumerate(("not_started", "submitted", "done")):
            await uow.items.add(
                project_id=project_id,
                code=f"x{n}",
                name_zh=f"事项{n}",
                name_en=f"item {n}",
                department_id=department.id,
                stage="construction_permit",
                assignee_id=p["li"].id,
                limit_workdays=5,
                prerequisites=[],
                state=state,
                planned_start=date(2026, 11, 23),
                due_on=date(2026, 11, 30),
                due_provisional=False,
                sort=n,
            )
        [choice] = [
            c for c in await department_choices(uow, project) if c.code == "housing_construction"
        ]
        assert [(c.person.name, c.current, c.reach) for c in choice.candidates] == [
            ("李明", True, Reach.REACHABLE),
            ("刘洋", False, Reach.PENDING),
        ]
        swap = await choose_specialist(
            uow, project, department.id, p["liu"].id, now=now, actor_id=None
        )
        assert swap is not None and swap.moved == 2 and [r.name for r in swap.replaced] == ["李明"]
        assert swap.reach is Reach.PENDING and swap.backups == 1
        owners = {i.code: i.assignee_id for i in await uow.items.of_project(project_id)}
        assert owners == {"x0": p["liu"].id, "x1": p["liu"].id, "x2": p["li"].id}
        roles = {(m.person_id, m.role) for m in await uow.members.of_project(project_id)}
        assert (p["liu"].id, "specialist") in roles and (p["zhou"].id, "backup") in roles
        assert (p["li"].id, "specialist") not in roles
        # A forged choice: not a specialist of that department.
        assert (
            await choose_specialist(
                uow, project, department.id, p["qiang"].id, now=now, actor_id=None
            )
            is None
        )


def test_the_invite_command_takes_several_names_or_pending(tmp_path: Path) -> None:
    """`daiban people invite 赵磊 李明` and `--pending`, through the real command line."""
    import asyncio
    import os
    import subprocess
    import sys

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"

    async def seed() -> None:
        await upgrade(url)
        app = await build_app(Settings(database_url=url, scheme="tongzhou"), clock=FakeClock(START))
        try:
            async with UnitOfWork(app.services.db) as uow:
                for name, mobile in (("赵磊", "13800000001"), ("李明", "13800000002")):
                    await uow.people.add(name, mobile=mobile, roles=[("butler", None)], now=START)
                done = await uow.people.add("王芳", roles=[("office", None)], now=START)
                await uow.people.add_account(done.id, TG, "wang", "王芳", START)
        finally:
            await app.close()

    asyncio.run(seed())
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAIBAN_")}
    env["DAIBAN_DATABASE_URL"] = url

    def daiban(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "people", *args],
            cwd=Path(__file__).resolve().parents[1],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    several = daiban("invite", "赵磊", "13800000002")
    assert several.returncode == 0, several.stderr
    assert [line.split(" ")[0] for line in several.stdout.splitlines()] == ["赵磊", "李明"]
    pending = daiban("invite", "--pending")
    assert pending.returncode == 0 and pending.stdout.count("/start ") == 2  # not 王芳
    nobody = daiban("invite", "无此人")
    assert nobody.returncode == 1 and "nobody named '无此人'" in nobody.stderr
    bare = daiban("import")
    assert (
        bare.returncode == 2 and bare.stderr.strip() == "daiban: people import needs a roster file"
    )
