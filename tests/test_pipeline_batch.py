"""A polling batch in one transaction: same answers as one by one, and a failing handler
costs only its own event an apology."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest_asyncio
from sqlalchemy import func, select

from bot.app import App, build_app
from bot.config import Settings
from bot.transports.memory import MemoryTransport
from domain.clock import FakeClock
from handlers.chat import Incoming, Sender
from handlers.context import Ctx
from storage.migrate import upgrade
from storage.models import Chat, InboundEvent, Person
from storage.uow import UnitOfWork

APOLOGY = "Sorry, something went wrong on our side"


@pytest_asyncio.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[App, MemoryTransport]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'batch.sqlite3'}"
    await upgrade(url)
    transport = MemoryTransport("test")
    built = await build_app(
        Settings(database_url=url, scheme="tongzhou"),
        clock=FakeClock(datetime.fromisoformat("2026-11-23T09:00:00+08:00")),
        transports={"test": transport},
    )

    @built.services.router.command("boom")
    async def boom(ctx: Ctx) -> None:
        await ctx.reply("half an answer that must never go out")
        raise RuntimeError("a handler bug")

    try:
        yield built, transport
    finally:
        await built.close()


def said(event_id: str, user: str, text: str) -> Incoming:
    command, args = Incoming.parse_command(text)
    return Incoming(
        event_id, Sender("test", user, f"用户{user}", "en"), user, text=text, command=command,
        args=args,
    )


async def count(app: App, model: type) -> int:
    async with UnitOfWork(app.services.db) as uow:
        return int((await uow.session.execute(select(func.count()).select_from(model))).scalar())


async def test_a_batch_answers_like_one_by_one_and_ignores_a_redelivery(app) -> None:
    bot, transport = app
    batch = [said("1", "u1", "/help"), said("2", "u2", "/help"), said("3", "u1", "/lang")]
    await bot.handle_batch([*batch, said("1", "u1", "/help")])  # "1" again: a redelivery
    await bot.worker.drain()
    assert [d.chat_external_id for d in transport.delivered] == ["u1", "u2", "u1"]
    assert "/lang" in transport.delivered[0].message.text, "the /help answer lists commands"
    assert transport.delivered[2].message.buttons, "the /lang answer offers the languages"
    assert await count(bot, InboundEvent) == 3
    assert await count(bot, Person) == 2  # u1 registered once, though it wrote twice
    assert await count(bot, Chat) == 2
    inbound = bot.metrics.inbound
    assert inbound.labels("test", "handled")._value.get() == 3
    assert inbound.labels("test", "duplicate")._value.get() == 1


async def test_a_failing_handler_costs_only_its_own_event_an_apology(app) -> None:
    bot, transport = app
    await bot.handle_batch(
        [said("10", "u1", "/help"), said("11", "u2", "/boom"), said("12", "u3", "/help")]
    )
    await bot.worker.drain()
    by_chat = {d.chat_external_id: d.message.text for d in transport.delivered}
    assert sorted(by_chat) == ["u1", "u2", "u3"], "every event answered exactly once"
    assert len(transport.delivered) == 3
    assert by_chat["u2"].startswith(APOLOGY)
    assert not by_chat["u1"].startswith(APOLOGY) and not by_chat["u3"].startswith(APOLOGY)
    assert all("half an answer" not in d.message.text for d in transport.delivered)
    # All three are recorded: a redelivery of any of them is ignored.
    await bot.handle_batch([said("10", "u1", "/help"), said("11", "u2", "/boom")])
    await bot.worker.drain()
    assert len(transport.delivered) == 3
