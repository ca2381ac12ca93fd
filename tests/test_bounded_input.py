"""Bounded input (输入边界), on SQLite and PostgreSQL, through the real pipeline: control
characters are dropped at the door (a NUL in /log or /advance no longer fails on
PostgreSQL), typed markup is shown literally, long text gets a clear limit instead of seven
messages, ids and dates out of range get an answer instead of an apology."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.transports.telegram_render import split_text
from bot.transports.wecom_render import text_bodies
from handlers.chat import Incoming, Sender
from handlers.inbound_text import MAX_MESSAGE, WORD_JOINER, normalize_text
from storage.models import Event
from storage.uow import UnitOfWork
from tests.invariants.checks import all_problems
from tests.invariants.world import PLATFORM, PROJECT_NAMES, World, open_world
from tests.pg import pg_admin_url, scratch_pg_database

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest_asyncio.fixture(params=BACKENDS)
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    async with contextlib.AsyncExitStack() as stack:
        url = None
        if request.param == "postgresql":
            url = await stack.enter_async_context(
                scratch_pg_database(pg_admin_url(), "daiban_bounds")
            )
        opened = await open_world(tmp_path, database_url=url)
        await opened.speak_english()
        try:
            yield opened
        finally:
            await opened.close()


def texts(sent) -> list[str]:
    return [s.message.text for s in sent]


async def _no_crash(world: World) -> None:
    problems = await all_problems(world, PROJECT_NAMES)
    assert not problems, "\n".join(problems)


def test_the_door_drops_controls_and_neutralises_markup() -> None:
    assert normalize_text("a\x00b\x07c\x1b[31m\u202eevil\u202c\td") == "abc[31mevil d"
    assert normalize_text("第一行\n第二行") == "第一行\n第二行"
    shown = normalize_text("**紧急** [点我](http://evil.example) <b>x</b>")
    assert shown.replace(WORD_JOINER, "") == "**紧急** [点我](http://evil.example) <b>x</b>"
    assert "**" not in shown and "](" not in shown and "<b" not in shown
    # On Telegram the typed stars stay stars: no <b> comes out of them.
    html = split_text({"text": f"**Note:** {shown}"})[0]
    assert html.count("<b>") == 1 and "紧急" in html.split("</b>", 1)[1]
    # On WeCom a message with only typed stars stays plain text; with our own bold it is
    # markdown, where the typed link and stars stay inert.
    assert text_bodies(f"备注：{shown}")[0]["msgtype"] == "text"
    [body] = text_bodies(f"**备注**：{shown}")
    content = body["markdown"]["content"]
    assert body["msgtype"] == "markdown" and content.count("**") == 2 and "](" not in content


async def test_a_nul_in_log_and_advance_is_dropped_not_an_apology(world: World) -> None:
    noted = texts(await world.said("butler_a", "ga", "/log 已联系\x00供电公司 **加急**"))
    assert noted == ["Noted in the work log of PA-0001."]
    advanced = await world.said("butler_a", "ga", "/advance 现场\x00验收通过")
    assert advanced and "Sorry, something went wrong" not in texts(advanced)[0]
    async with UnitOfWork(world.app.services.db) as uow:
        rows = await uow.session.execute(select(Event).where(Event.kind == "log.note"))
        [note] = [e.data["text"] for e in rows.scalars()]
    assert note.replace(WORD_JOINER, "") == "已联系供电公司 **加急**"
    await _no_crash(world)


async def test_long_text_gets_the_limit_not_seven_messages(world: World) -> None:
    await world.said("butler_a", "ga", "/escalate power_connection 供电迟迟不来 2")
    huge = await world.said("butler_a", "ga", "/resolve " + "纪" * 48_000)
    assert texts(huge) == [
        f"This message has {48_000 + 9} characters; at most {MAX_MESSAGE} are read. Please "
        "shorten it or send it in parts. What you entered before is kept."
    ]
    long = await world.said("butler_a", "ga", "/resolve " + "纪" * 5_000)
    assert texts(long) == [
        "Meeting minutes can be at most 3000 characters; yours has 5000. Please shorten it and "
        "send it again."
    ]
    log = await world.said("butler_a", "ga", "/log " + "记" * 2_001)
    assert texts(log)[0].startswith("A work-log note can be at most 2000 characters")
    ok = await world.said("butler_a", "ga", "/resolve " + "纪" * 2_000)
    assert any("Problem" in t or "resolved" in t for t in texts(ok)), texts(ok)
    await _no_crash(world)


@pytest.mark.parametrize(
    ("who", "text", "answer"),
    [
        ("office", "/followup 99999999999999999999999 已回访", "There is no open follow-up"),
        ("office", "/followup #2147483648 已回访", "There is no open follow-up"),
        ("butler_a", "/resolve #99999999999999999999999 纪要", "No open problem found"),
        ("butler_a", "/ack #99999999999999999999999", "No open problem"),
        ("office", "/digest 0001-01-01", "Give a day between 2000-01-01 and 2100-12-31"),
        ("office", "/digest 9999-12-31", "Give a day between 2000-01-01 and 2100-12-31"),
    ],
)
async def test_numbers_and_dates_out_of_range_get_an_answer(
    world: World, who: str, text: str, answer: str
) -> None:
    chat = "ga" if text.startswith(("/resolve", "/ack")) else None
    replies = texts(await world.said(who, chat, text))
    assert replies and answer in replies[0], replies
    await _no_crash(world)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01"])
async def test_a_plan_date_out_of_range_is_refused(world: World, day: str) -> None:
    replies = texts(await world.said("butler_a", "ga", f"/plan redate power_connection {day} 改期"))
    assert replies == [
        f"The date must lie between 2000-01-01 and 2100-12-31; {day} cannot be meant."
    ]
    await _no_crash(world)


async def test_a_huge_display_name_is_cut_not_an_apology(world: World) -> None:
    """A messenger's display name becomes the person's name (a 200-character column)."""
    event = Incoming(
        event_id="huge-name",
        sender=Sender(PLATFORM, "newcomer", "名" * 10_000 + "\x00", "zh-hans"),
        chat_id="newcomer",
        text="/start",
        command="start",
    )
    await world.app.handle(event)
    await world.app.worker.drain()
    async with UnitOfWork(world.app.services.db) as uow:
        person = await uow.people.by_account(PLATFORM, "newcomer")
    assert person is not None and person.name == "名" * 100
    await _no_crash(world)


HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    ("who", "payload"),
    [
        ("office", f"asg:p:{HUGE}"),
        ("office", f"asg:b:{HUGE}:1"),
        ("office", f"asg:b:1:{HUGE}"),
        ("ent_a", f"rate:{HUGE}:team:2026Q4"),
        ("spec_power_a", f"it:{HUGE}:submit"),
        ("butler_a", f"problem:ack:{HUGE}"),
        ("ent_a", f"fin:ok:{HUGE}"),
        ("office", f"ticket:take:{HUGE}"),
        ("office", f"app:accept:{HUGE}"),
        ("ent_a", f"app:resubmit:{HUGE}"),
        ("office", f"claim:approve:{HUGE}"),
        ("office", f"contact:remove:{HUGE}"),
        ("office", f"contact:invite:{HUGE}"),
        ("office", f"st:{HUGE}:"),
        ("ent_a", f"st:{HUGE}:"),
        ("office", f"faq:1:{HUGE}"),
        ("ent_a", f"ticket:ask:{HUGE}"),
    ],
)
async def test_a_pressed_id_out_of_range_is_no_apology(
    world: World, who: str, payload: str
) -> None:
    await world.event(who, None, payload=payload)
    await _no_crash(world)
