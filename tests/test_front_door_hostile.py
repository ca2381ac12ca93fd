"""Hostile input into every step of the front door's forms, through the real pipeline.

200 inputs (empty, 10k characters, control characters, emoji, SQL and HTML fragments,
numbers out of range, commands) go into each step of the eligibility pre-check and the
application. Each one is refused with a message or accepted as valid; nothing crashes
(no apology), and the answers given before the step stay exactly as they were.
"""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, build_app
from bot.config import Settings
from bot.transports.memory import MemoryTransport
from domain.clock import FakeClock
from handlers.chat import Attachment, Incoming, Sender
from storage.migrate import upgrade
from storage.uow import UnitOfWork

PLATFORM = "test"
START = datetime.fromisoformat("2026-11-23T09:00:00+08:00")
APOLOGY = "something went wrong"

CURATED = [
    "",
    " ",
    "\n\n\t",
    "\x00",
    "\x1b[31mred\x1b[0m",
    "\u202eevil\u202c",
    "\ufeff\u200b",
    "a" * 10_000,
    "中" * 10_000,
    "😀" * 40,
    "👨‍👩‍👧‍👦🏗️",
    "'; DROP TABLE applications; --",
    "1 OR 1=1",
    "<script>alert(1)</script>",
    "<b>bold</b> & <i>it</i>",
    "{name}{0}%s%(x)s",
    "-1",
    "0",
    "-5亿",
    "1e309",
    "NaN",
    "inf",
    "99999999999999999999999亿元",
    "0.0000001万元",
    "１２３４５",
    "13800138000" * 3,
    "9999-99-99",
    "0000-00-00",
    "2026-02-30",
    "1900-01-01",
    "3000-01-01",
    "999",
    "1",
    "/unknown",
    "/start",
    "/help",
    "91350100M000100Y43",
    "13800138000",
    "8亿元",
    "2027-03-01",
]
ALPHABET = (
    "abcXYZ019 \t\n\r\x00\x07\x1b\x7f\u200b\u202e\ufeff中文代办亿万元年月日"
    "😀🏗️<>&'\";%{}()[]\\/-.,:。，、"
)


def hostile_inputs(count: int = 200) -> list[str]:
    """The curated cases, then random strings over a hostile alphabet (fixed seed)."""
    rng = random.Random(20261123)
    out = list(CURATED)
    while len(out) < count:
        length = rng.choice([1, 2, 5, 20, 300, 5000])
        out.append("".join(rng.choice(ALPHABET) for _ in range(length)))
    return out[:count]


class Driver:
    def __init__(self, app: App, transport: MemoryTransport) -> None:
        self.app, self.transport, self.seq = app, transport, 0

    async def send(self, text: str = "", payload: str | None = None, file: str = "") -> list[str]:
        self.seq += 1
        command, args = Incoming.parse_command(text) if text else (None, "")
        event = Incoming(
            event_id=f"h{self.seq}",
            sender=Sender(PLATFORM, "ent", "Hostile Tester", "en"),
            chat_id="ent",
            text=text,
            command=command,
            args=args if command else "",
            payload=payload,
            attachment=Attachment(file, "application/pdf", 10, f"t:{file}") if file else None,
        )
        mark = len(self.transport.delivered)
        await self.app.handle(event)
        await self.app.worker.drain()
        return [d.message.text for d in self.transport.delivered[mark:]]

    async def state(self) -> tuple[str | None, str | None, dict[str, Any]]:
        async with UnitOfWork(self.app.services.db) as uow:
            person = await uow.people.by_account(PLATFORM, "ent")
            assert person is not None
            conv = await uow.conversations.load(PLATFORM, "ent", person.id)
            if conv is None:
                return None, None, {}
            return conv.form, conv.step, dict((conv.data or {}).get("values", {}))


@pytest.fixture
async def driver(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'hostile.sqlite3'}"
    await upgrade(url)
    transport = MemoryTransport(PLATFORM)
    app = await build_app(
        Settings(database_url=url, scheme="tongzhou", tick_seconds=900),
        clock=FakeClock(START),
        transports={PLATFORM: transport},
    )
    try:
        yield Driver(app, transport)
    finally:
        await app.close()


async def _hammer(driver: Driver, form: str, step: str, inputs: list[str]) -> int:
    """Send every input into `step`; returns how many were accepted."""
    _, _, before = await driver.state()
    accepted = 0
    for text in inputs:
        replies = await driver.send(text)
        assert replies, f"no reply to {text[:30]!r} at {step}"
        assert not any(APOLOGY in r for r in replies), f"crash on {text[:30]!r} at {step}"
        current_form, current_step, values = await driver.state()
        assert current_form == form, f"{text[:30]!r} at {step} left the form"
        kept = {k: v for k, v in before.items() if k != step}
        assert {k: values.get(k) for k in kept} == kept, f"{text[:30]!r} changed earlier answers"
        if current_step != step:
            accepted += 1
            await driver.send(payload=f"form:{form}:back")
            assert (await driver.state())[1] == step
        else:
            # Refused with a message, or (a multiple choice) toggled and asked again.
            assert any(marker in r for r in replies for marker in ("⚠", "Please", "/help", "**"))
    return accepted


APPLY_STEPS = [
    ("enterprise", "Acme Build Co"),
    ("uscc", "91350100M000100Y43"),
    ("contact_name", "Zhang Wei"),
    ("mobile", "13800138000"),
    ("project_name", "Canal Tower"),
    ("investment", "12亿"),
    ("category", "2"),
    ("zone", "Canal Business District"),
    ("stage", "1"),
    ("kinds", None),
    ("start_date", "2027-03-01"),
    ("have", None),
]


async def test_every_application_step_survives_200_hostile_inputs(driver: Driver) -> None:
    inputs = hostile_inputs()
    assert len(inputs) == 200
    await driver.send("/apply")
    for step, good in APPLY_STEPS:
        assert (await driver.state())[1] == step
        accepted = await _hammer(driver, "apply", step, inputs)
        if step in {"uscc", "mobile", "investment", "start_date", "category", "stage"}:
            assert accepted < len(inputs) // 2, f"{step} accepted {accepted} hostile inputs"
        if good is not None:
            await driver.send(good)
        elif step == "kinds":
            await driver.send("3")
            await driver.send(payload="form:apply:done")
        elif step == "have":
            await driver.send(payload="form:apply:done")
    # Hostile numbers ticked some documents: each document step gets the hostile inputs
    # too (text where a file is wanted), then a file.
    assert (await driver.state())[1] == "doc1"
    await _hammer(driver, "apply", "doc1", inputs)
    while (await driver.state())[1].startswith("doc"):
        await driver.send(file="filing.pdf")
    form, step, values = await driver.state()
    assert (form, step) == ("apply", "__review__")
    assert values["uscc"] == "91350100M000100Y43" and values["mobile"] == "13800138000"
    replies = await driver.send(payload="form:apply:submit")
    assert any("A2026-0001" in r for r in replies)


async def test_every_eligibility_step_survives_200_hostile_inputs(driver: Driver) -> None:
    inputs = hostile_inputs()
    await driver.send("/check")
    for step, good in [
        ("investment_wan", "8亿元"),
        ("in_investment_library", "1"),
        ("designated_by_meeting", "2"),
    ]:
        assert (await driver.state())[1] == step
        await _hammer(driver, "eligibility", step, inputs)
        await driver.send(good)
    replies = await driver.send(payload="form:eligibility:submit")
    assert any("< 1 billion yuan" in r for r in replies)
