"""Limits on guessing codes (猜码限制): 5 wrong invite or bind codes per account per 10
minutes; the 6th attempt is told to wait, even with a right code, across a restart, on
SQLite and PostgreSQL. Codes still compare case-insensitively."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.config import Settings
from bot.people_cli import import_roster, invite
from bot.transports.memory import MemoryTransport
from domain.clock import FakeClock
from handlers.chat import ChatKind, Incoming, Sender
from storage.migrate import upgrade
from tests.pg import pg_admin_url, scratch_pg_database

START = datetime.fromisoformat("2026-11-23T09:00:00+08:00")
ROSTER = "姓名,手机,角色,部门,备份\n赵磊,13800000001,项目管家,,\n李明,13800000002,项目管家,,\n"
WRONG = "That code is not valid"
WAIT = "Too many wrong codes from this account. Please wait {} minutes"


@contextlib.asynccontextmanager
async def database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'codes.sqlite3'}"
        await upgrade(url)
        yield url
        return
    async with scratch_pg_database(pg_admin_url(), "daiban_codes") as url:
        await upgrade(url)
        yield url


class Phone:
    """People typing into one app; `restart` builds a new app on the same store."""

    def __init__(self, url: str, clock: FakeClock) -> None:
        self.url, self.clock, self.seq = url, clock, 0
        self.app: App | None = None
        self.transport = MemoryTransport("telegram")

    async def start(self) -> App:
        self.app = await build_app(
            Settings(database_url=self.url, scheme="tongzhou"),
            clock=self.clock,
            transports={"telegram": self.transport},
        )
        return self.app

    async def say(self, who: str, text: str, group: str | None = None) -> str:
        assert self.app is not None
        self.seq += 1
        command, args = Incoming.parse_command(text)
        before = len(self.transport.delivered)
        await self.app.handle(
            Incoming(
                f"e{self.seq}",
                Sender("telegram", who, who, "en"),
                group or who,
                text=text,
                command=command,
                args=args,
                chat_kind=ChatKind.GROUP if group else ChatKind.DM,
            )
        )
        await self.app.worker.drain()
        return "\n".join(d.message.text for d in self.transport.delivered[before:])


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def test_the_sixth_wrong_code_waits_across_a_restart(backend: str, tmp_path: Path) -> None:
    clock = FakeClock(START)
    async with database(backend, tmp_path) as url:
        phone = Phone(url, clock)
        app = await phone.start()
        try:
            roster = tmp_path / "roster.csv"
            roster.write_text(ROSTER, encoding="utf-8")
            await import_roster(app.services.db, app.services.scheme, roster, clock.now())
            [(_, zhao_code)] = await invite(app.services.db, "赵磊", clock.now())
            [(_, li_code)] = await invite(app.services.db, "李明", clock.now())
            for guess in ("AAAAAAAA", "BBBBBBBB", "CCCCCCCC", "DDDDDDDD"):
                assert WRONG in await phone.say("tg-guess", f"/start {guess}")
                clock.advance(timedelta(minutes=1))
            assert WRONG in await phone.say("tg-guess", "/start EEEEEEEE")  # the 5th, at +4 min
            # The 6th: told to wait until the first guess is 10 minutes old, right code or not.
            assert WAIT.format(6) in await phone.say("tg-guess", f"/start {zhao_code}")
            # Another account is not held up, and codes still ignore case.
            assert "赵磊" in await phone.say("tg-zhao", f"/start {zhao_code.lower()}")
        finally:
            await app.close()

        app = await phone.start()  # the count is in the store, not in the process
        try:
            assert WAIT.format(6) in await phone.say("tg-guess", f"/start {li_code}")
            clock.advance(timedelta(minutes=6))  # the first guess is now 10 minutes old
            assert "李明" in await phone.say("tg-guess", f"/start {li_code.lower()}")
        finally:
            await app.close()


async def test_wrong_bind_codes_count_too(tmp_path: Path) -> None:
    clock = FakeClock(START)
    async with database("sqlite", tmp_path) as url:
        phone = Phone(url, clock)
        app = await phone.start()
        try:
            roster = tmp_path / "roster.csv"
            roster.write_text(ROSTER, encoding="utf-8")
            await import_roster(app.services.db, app.services.scheme, roster, clock.now())
            [(_, code)] = await invite(app.services.db, "赵磊", clock.now())
            assert "赵磊" in await phone.say("tg-zhao", f"/start {code}")
            for guess in ("AAAAAAAA", "BBBBBBBB", "CCCCCCCC", "DDDDDDDD", "EEEEEEEE"):
                assert "邀请码无效" in await phone.say("tg-zhao", f"/bind {guess}", group="g1")
            # 赵磊 reads Chinese, the roster's language.
            waiting = await phone.say("tg-zhao", "/bind FFFFFFFF", group="g1")
            assert "此账号输错代码次数过多。请等待 10 分钟后再试" in waiting
        finally:
            await app.close()
