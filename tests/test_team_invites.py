"""Roster import and one-time invite codes: `/start CODE` binds an account once."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from bot.app import build_app
from bot.config import Settings
from bot.people_cli import import_roster, invite
from bot.transports.memory import MemoryTransport
from domain.clock import FakeClock
from handlers.chat import Incoming, Sender
from storage.migrate import upgrade
from storage.uow import UnitOfWork

START = datetime.fromisoformat("2026-11-23T09:00:00+08:00")

ROSTER = """姓名,手机,角色,部门,备份
赵磊,13800000001,项目管家,,
李明,13800000002,服务专员,区住房城乡建设委,
周雨,13800000003,候补,,李明
错行,12345,服务专员,区住房城乡建设委,
"""


async def test_roster_import_then_invite_codes_bind_accounts_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'people.sqlite3'}"
    await upgrade(url)
    clock = FakeClock(START)
    transport = MemoryTransport("telegram")
    app = await build_app(
        Settings(database_url=url, scheme="tongzhou"),
        clock=clock,
        transports={"telegram": transport},
    )
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    seq = 0

    async def say(who: str, text: str) -> str:
        nonlocal seq
        seq += 1
        command, args = Incoming.parse_command(text)
        before = len(transport.delivered)
        await app.handle(
            Incoming(
                f"e{seq}",
                Sender("telegram", who, who, "en"),
                who,
                text=text,
                command=command,
                args=args,
            )
        )
        await app.worker.drain()
        return "\n".join(d.message.text for d in transport.delivered[before:])

    try:
        db = app.services.db
        result = await import_roster(db, app.services.scheme, roster, clock.now())
        assert (result.created, result.updated) == (3, 0)
        assert [(e.row, e.column) for e in result.errors] == [(5, "mobile")]
        again = await import_roster(db, app.services.scheme, roster, clock.now())
        assert (again.created, again.updated) == (0, 3)  # known by mobile: not duplicated

        [(li, code)] = await invite(db, "李明", clock.now())
        assert len(code) == 8
        # The reply speaks the roster person's language (zh_CN) and names their role.
        welcome = await say("tg-li", f"/start {code}")
        assert "李明" in welcome and "服务专员" in welcome
        assert "already used" in await say("tg-other", f"/start {code}")
        # A second account of the same person, with a second code.
        [(_, second)] = await invite(db, "13800000002", clock.now())
        assert "李明" in await say("tg-li-phone", f"/start {second}")
        async with UnitOfWork(db) as uow:
            accounts = await uow.people.accounts_of(li.id)
            bound = await uow.people.by_account("telegram", "tg-li")
            [zhou] = await uow.people.with_role("backup")
            roles = await uow.people.roles_of(zhou.id)
        assert bound is not None and bound.id == li.id
        assert {a.external_id for a in accounts} == {"tg-li", "tg-li-phone"}
        assert roles[0].backup_of_id == li.id and roles[0].department is not None
        assert roles[0].department.code == "housing_construction"

        [(_, late)] = await invite(db, "赵磊", clock.now())
        clock.set(START + timedelta(days=15))
        assert "expired" in await say("tg-zhao", f"/start {late}")
        assert "not valid" in await say("tg-zhao", "/start ZZZZ2222")
        assert await invite(db, "Nobody", clock.now()) == []
    finally:
        await app.close()
