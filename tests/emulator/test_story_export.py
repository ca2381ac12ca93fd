"""One-time codes in an exported story: captured where the bot shows them, reused after."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import yaml

from bot.demo import Persona
from bot.emulator.story_export import export_story
from bot.emulator.transport import Entry

AT = datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
CAST = [
    Persona("butler", "李娜", "butler", "housing_construction"),
    Persona("office", "赵敏", "office"),
]


def entry(seq: int, chat: str, sender: str, text: str, kind: str) -> Entry:
    return Entry(seq=seq, chat=chat, sender=sender, at=AT, text=text, kind=kind, name="李娜")


def steps_of(entries: list[Entry]) -> dict:
    text = export_story(
        scheme="tongzhou",
        tz=ZoneInfo("Asia/Shanghai"),
        entries=entries,
        clock_moves=[],
        cast=CAST,
        groups={"group-1": "项目群"},
        job_sent=set(),
        title="t",
    )
    return yaml.safe_load(text)


def test_a_code_shown_below_the_first_line_is_captured_and_typed_as_a_variable():
    story = steps_of(
        [
            entry(1, "butler", "butler", "/bind P2026-0001", "say"),
            entry(2, "butler", "bot", "Your code\nSend there: /bind K7MZQ2HX\nOnce.", "bot"),
            entry(3, "group-1", "butler", "/bind K7MZQ2HX", "say"),
            entry(4, "group-1", "bot", "Code K7MZQ2HX is already used", "bot"),
        ]
    )
    steps = story["steps"]
    capture = steps[1]["expect"]["text"]
    found = re.search(capture, "Your code\nSend there: /bind ABCD2345\nOnce.", re.DOTALL)
    assert found is not None and found.group("code1") == "ABCD2345"
    assert steps[2] == {"as": "butler", "in": "group1", "say": "/bind ${code1}"}
    # Shown again later: matched by its shape, whatever the replay's code is.
    assert re.search(steps[3]["expect"]["text"], "Code ABCD2345 is already used")
    # The whole cast is the replay's roster, in cast order.
    assert [p["id"] for p in story["people"]] == ["butler", "office"]


def test_a_code_nobody_types_stays_literal():
    story = steps_of(
        [
            entry(1, "butler", "butler", "/bind P2026-0001", "say"),
            entry(2, "butler", "bot", "Group code: K7MZQ2HX", "bot"),
        ]
    )
    assert story["steps"][1]["expect"]["text"] == "^Group code: K7MZQ2HX"
