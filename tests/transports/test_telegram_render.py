"""Rendering for Telegram and reading its updates: escaping, bold, mentions, splitting,
short callback data, and both libraries' Update objects."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import telegram
from aiogram import types as aiogram_types
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ratelimit import Rate, RateLimiter, RatePolicy, SlidingWindow, Turn
from bot.transports.telegram_render import (
    CALLBACK_LIMIT,
    PayloadBook,
    incoming_from_update,
    split_runs,
    split_text,
    visible_len,
)
from handlers.chat import ChatKind, Outgoing
from tests.fakes.fake_bot_api import parse_html


def payload(text: str, **extra) -> dict:
    return Outgoing(text).to_payload() | extra


def test_text_is_escaped_and_bold_becomes_b():
    [html] = split_text(payload("**材料** <清单> & 说明"))
    assert html == "<b>材料</b> &lt;清单&gt; &amp; 说明"
    text, entities = parse_html(html)
    assert text == "材料 <清单> & 说明" and entities[0]["type"] == "bold"


def test_mentions_link_to_the_user_id_where_named_or_open_the_message():
    named = payload(
        "请 @李娜 处理",
        mentions=[{"person_id": 1, "display_name": "李娜", "external_id": "555"}],
    )
    assert split_text(named) == ['请 <a href="tg://user?id=555">李娜</a> 处理']
    unnamed = payload(
        "请处理",
        mentions=[
            {"person_id": 1, "display_name": "李娜", "external_id": "555"},
            {"person_id": 2, "display_name": "王强", "external_id": None},
        ],
    )
    assert split_text(unnamed) == ['<a href="tg://user?id=555">李娜</a>\n请处理']


def test_long_text_splits_at_line_boundaries_within_4096():
    lines = [f"第{i}行 " + "字" * 90 for i in range(120)]  # about 11,400 characters
    parts = split_text(payload("\n".join(lines)))
    assert len(parts) == 3
    assert all(visible_len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == "\n".join(lines)  # nothing lost, cuts only between lines


def test_a_single_huge_line_is_cut_and_emoji_count_twice():
    parts = split_text(payload("😀" * 3000))  # 6000 UTF-16 units
    assert [visible_len(p) for p in parts] == [4096, 1904]


def test_long_payloads_travel_as_a_digest_and_come_back():
    book = PayloadBook()
    short = "form:profile:cancel"
    long = "form:apply:pick:" + "区住房城乡建设委员会" * 3
    assert book.data_for(short) == short
    data = book.data_for(long)
    assert len(data.encode()) <= CALLBACK_LIMIT and book.lookup(data) == long
    restarted = PayloadBook()
    assert restarted.lookup(data) is None
    sent = [payload("x", buttons=[[{"label": "a", "payload": long}]])]
    assert restarted.resolve_from(data, sent) == long


UPDATE = {
    "update_id": 77,
    "message": {
        "message_id": 5,
        "date": 1_700_000_000,
        "from": {
            "id": 9,
            "is_bot": False,
            "first_name": "张",
            "last_name": "伟",
            "language_code": "zh-hans",
        },
        "chat": {"id": -100_1, "type": "supergroup", "title": "项目群"},
        "text": "/help@daiban_bot now",
    },
}
DOCUMENT = {
    "update_id": 78,
    "message": {
        "message_id": 6,
        "date": 1_700_000_000,
        "from": {"id": 9, "is_bot": False, "first_name": "张"},
        "chat": {"id": 9, "type": "private", "first_name": "张"},
        "document": {
            "file_id": "F1",
            "file_unique_id": "U1",
            "file_name": "a.pdf",
            "mime_type": "application/pdf",
            "file_size": 3,
        },
    },
}
CALLBACK = {
    "update_id": 79,
    "callback_query": {
        "id": "q1",
        "from": {"id": 9, "is_bot": False, "first_name": "张"},
        "chat_instance": "c",
        "data": "lang:en",
        "message": {
            "message_id": 7,
            "date": 1_700_000_000,
            "chat": {"id": 9, "type": "private"},
            "text": "hi",
        },
    },
}


def parse(library: str, data: dict):
    if library == "aiogram":
        return aiogram_types.Update.model_validate(data)
    return telegram.Update.de_json(data, None)


@pytest.mark.parametrize("library", ["aiogram", "ptb"])
def test_updates_of_both_libraries_read_the_same(library):
    event = incoming_from_update(parse(library, UPDATE), "daiban_bot")
    assert event is not None
    assert (event.event_id, event.chat_id, event.chat_kind) == ("77", "-1001", ChatKind.GROUP)
    assert (event.command, event.args, event.chat_title) == ("help", "now", "项目群")
    assert (event.sender.external_id, event.sender.display_name) == ("9", "张 伟")
    assert event.sender.language_code == "zh-hans"
    assert incoming_from_update(parse(library, UPDATE), "other_bot") is None
    document = incoming_from_update(parse(library, DOCUMENT), "daiban_bot")
    assert document is not None and document.attachment is not None
    assert (document.attachment.ref, document.attachment.filename) == ("F1", "a.pdf")
    assert document.chat_kind is ChatKind.DM
    pressed = incoming_from_update(parse(library, CALLBACK), "daiban_bot")
    assert pressed is not None and (pressed.payload, pressed.chat_id) == ("lang:en", "9")


async def test_rate_limiter_never_lets_a_window_hold_more_than_its_count():
    policy = RatePolicy(overall=Rate(5, 0.2), per_chat=Rate(1, 0.1), is_group=lambda c: False)
    limiter = RateLimiter(policy)
    starts: list[float] = []
    loop = asyncio.get_running_loop()

    async def send(chat: str) -> None:
        async with limiter.slot(chat):
            starts.append(loop.time())

    await asyncio.gather(*(send(f"c{i % 8}") for i in range(30)))
    starts.sort()
    for i in range(len(starts) - 5):
        assert starts[i + 5] - starts[i] >= 0.2 - 1e-3  # any 6 sends span a full window


async def test_an_answer_takes_the_next_turn_before_a_backlog_and_limits_still_hold():
    policy = RatePolicy(overall=Rate(5, 0.2), per_chat=None, is_group=lambda c: False)
    limiter = RateLimiter(policy)
    order: list[str] = []
    starts: list[float] = []
    loop = asyncio.get_running_loop()

    async def send(chat: str) -> None:
        async with limiter.slot(chat):
            order.append(chat)
            starts.append(loop.time())

    backlog = [asyncio.create_task(send(f"round{i}")) for i in range(20)]
    await asyncio.sleep(0.05)  # the first window is full, fifteen wait their turn
    limiter.first.add("answer")
    await send("answer")
    assert order.index("answer") <= 6, order  # after the window's five and the one waiting
    limiter.first.discard("answer")
    await asyncio.gather(*backlog)
    assert [c for c in order if c != "answer"] == [f"round{i}" for i in range(20)]  # FIFO
    starts.sort()
    for i in range(len(starts) - 5):
        assert starts[i + 5] - starts[i] >= 0.2 - 1e-3


async def test_a_waiter_cancelled_as_it_gets_the_turn_passes_it_on():
    turn = Turn()
    await turn.acquire(False)
    handed = asyncio.create_task(turn.acquire(False))
    await asyncio.sleep(0)  # queued
    turn.release()  # the turn is handed to it…
    handed.cancel()  # …and it is cancelled before it runs
    with contextlib.suppress(asyncio.CancelledError):
        await handed
    await asyncio.wait_for(turn.acquire(True), 1)  # passed on, not lost


def test_a_roomy_window_forgets_old_sends_without_sweeping_on_every_send():
    """A high limit (the benchmarks set 1,000,000/s) keeps only the last window's sends;
    a window at its count still refuses one more until the oldest answer has aged out."""
    clock = [0.0]
    window = SlidingWindow(Rate(1_000_000, 1.0))
    for i in range(20_000):
        clock[0] = i * 0.001  # 1,000 sends a second, each answered at once
        assert window.wait_time(clock[0]) == 0
        window.reserve()[0] = clock[0]
    assert len(window._ends) <= 2 * 1_000 + 64
    full = SlidingWindow(Rate(3, 1.0))
    for t in (0.0, 0.1, 0.2):
        assert full.wait_time(t) == 0
        full.reserve()[0] = t
    assert full.wait_time(0.5) == pytest.approx(0.5)  # the send at 0.0 ages out at 1.0
    assert full.wait_time(1.05) == 0


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30),
            st.sampled_from(["**", "\n", "<b>", "&amp;", "*", "😀", "  ", "@王强"]),
        ),
        max_size=25,
    )
)
def test_plain_text_renders_the_same_without_building_runs(pieces):
    """`split_text` skips the runs for a mention-free text that fits; its HTML is what the
    run-based rendering (every text with a mention or over the limit) gives."""
    payload = {"text": "".join(pieces), "mentions": []}
    assert split_text(payload) == split_runs(payload)
