"""Hostile input into the office's forms too: a ticket answer, a rejection's reason and a
request for materials (multiple choice and its note), through the real pipeline.

The same 200 inputs as the enterprise's forms; each is refused with a message or accepted
as valid, nothing crashes, and the conversation stays in its form.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from test_front_door_hostile import APPLY_STEPS, hostile_inputs

from bot.app import App, build_app
from bot.config import Settings
from bot.transports.memory import MemoryTransport
from domain.clock import FakeClock
from handlers.chat import Attachment, Incoming, Outgoing, Sender
from storage.migrate import upgrade
from storage.uow import UnitOfWork

PLATFORM = "test"
START = datetime.fromisoformat("2026-11-23T09:00:00+08:00")
APOLOGY = "something went wrong"


class Office:
    """Drives two people: the enterprise contact `ent` and the office member `off`."""

    def __init__(self, app: App, transport: MemoryTransport) -> None:
        self.app, self.transport, self.seq = app, transport, 0

    async def send(
        self, who: str, text: str = "", payload: str | None = None, file: str = ""
    ) -> list[Outgoing]:
        self.seq += 1
        command, args = Incoming.parse_command(text) if text else (None, "")
        event = Incoming(
            event_id=f"o{self.seq}",
            sender=Sender(PLATFORM, who, who, "en"),
            chat_id=who,
            text=text,
            command=command,
            args=args if command else "",
            payload=payload,
            attachment=Attachment(file, "application/pdf", 10, f"t:{file}") if file else None,
        )
        mark = len(self.transport.delivered)
        await self.app.handle(event)
        await self.app.worker.drain()
        return [d.message for d in self.transport.delivered[mark:] if d.chat_external_id == who]

    def button(self, who: str, prefix: str) -> str:
        """The payload of the newest button sent to `who` that starts with `prefix`."""
        for item in reversed(self.transport.delivered):
            if item.chat_external_id != who:
                continue
            for row in item.message.buttons:
                for button in row:
                    if button.payload.startswith(prefix):
                        return button.payload
        raise AssertionError(f"{who} has no button {prefix!r}")

    async def state(self, who: str) -> tuple[str | None, str | None, dict[str, Any]]:
        async with UnitOfWork(self.app.services.db) as uow:
            person = await uow.people.by_account(PLATFORM, who)
            assert person is not None
            conv = await uow.conversations.load(PLATFORM, who, person.id)
            if conv is None:
                return None, None, {}
            return conv.form, conv.step, dict((conv.data or {}).get("values", {}))

    async def hammer(self, who: str, form: str, step: str) -> int:
        """Send the 200 hostile inputs into `step`; returns how many were accepted."""
        accepted = 0
        for text in hostile_inputs():
            replies = await self.send(who, text)
            assert replies, f"no reply to {text[:30]!r} at {form}.{step}"
            assert not any(APOLOGY in r.text for r in replies), f"crash: {text[:30]!r}"
            current_form, current_step, _ = await self.state(who)
            assert current_form == form, f"{text[:30]!r} at {form}.{step} left the form"
            if current_step != step:
                accepted += 1
                await self.send(who, payload=f"form:{form}:back")
                assert (await self.state(who))[1] == step
        return accepted


@pytest.fixture
async def office(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'office.sqlite3'}"
    await upgrade(url)
    transport = MemoryTransport(PLATFORM)
    app = await build_app(
        Settings(database_url=url, scheme="tongzhou", tick_seconds=900),
        clock=FakeClock(START),
        transports={PLATFORM: transport},
    )
    async with UnitOfWork(app.services.db) as uow:
        person = await uow.people.add("Office Zhao", lang="en", roles=[("office", None)], now=START)
        await uow.people.add_account(person.id, PLATFORM, "off", "Office Zhao", now=START)
    try:
        yield Office(app, transport)
    finally:
        await app.close()


async def _submit_application(office: Office) -> None:
    await office.send("ent", "/apply")
    for step, good in APPLY_STEPS:
        assert (await office.state("ent"))[1] == step
        if good is not None:
            await office.send("ent", good)
        elif step == "kinds":
            await office.send("ent", "3")
            await office.send("ent", payload="form:apply:done")
        else:  # "have": the first document only, so the rest can be requested
            await office.send("ent", "1")
            await office.send("ent", payload="form:apply:done")
    await office.send("ent", file="filing.pdf")
    assert (await office.state("ent"))[1] == "__review__"
    await office.send("ent", payload="form:apply:submit")


async def test_ticket_answer_survives_200_hostile_inputs(office: Office) -> None:
    # No FAQ entry matches this, so it goes to the office as a ticket at once.
    await office.send("ent", "Can the moon be our construction site?")
    await office.send("off", payload=office.button("off", "ticket:take:"))
    assert (await office.state("off"))[:2] == ("ticket_answer", "answer")
    await office.hammer("off", "ticket_answer", "answer")
    await office.send("off", "Please call the office; we will look at the site with you.")
    await office.send("off", payload="form:ticket_answer:submit")
    relayed = [d.message.text for d in office.transport.delivered if d.chat_external_id == "ent"]
    assert any("we will look at the site with you" in text for text in relayed)


async def test_reject_reason_survives_200_hostile_inputs(office: Office) -> None:
    await _submit_application(office)
    await office.send("off", payload=office.button("off", "app:reject:"))
    assert (await office.state("off"))[:2] == ("reject_application", "reason")
    accepted = await office.hammer("off", "reject_application", "reason")
    assert accepted < 200  # empty, whitespace-only and over-long reasons are refused


async def test_request_materials_survives_200_hostile_inputs(office: Office) -> None:
    await _submit_application(office)
    await office.send("off", payload=office.button("off", "app:request:"))
    assert (await office.state("off"))[:2] == ("request_materials", "missing")
    await office.hammer("off", "request_materials", "missing")
    await office.send("off", "1")
    picked = (await office.state("off"))[1]
    if picked == "missing":  # a toggle: the hostile numbers may have ticked some already
        await office.send("off", payload="form:request_materials:done")
    assert (await office.state("off"))[1] == "note"
    await office.hammer("off", "request_materials", "note")
    await office.send("off", "Please bring the originals.")
    await office.send("off", payload="form:request_materials:submit")
    notices = [d.message.text for d in office.transport.delivered if d.chat_external_id == "ent"]
    assert sum("one-time notice" in text for text in notices) == 1
