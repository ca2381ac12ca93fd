"""Only the office may decide on applications or take questions."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.app import build_app
from bot.config import Settings
from bot.transports.memory import MemoryTransport
from domain.clock import FakeClock
from handlers.chat import Incoming, Sender
from storage.migrate import upgrade


async def test_an_enterprise_contact_pressing_an_office_button_is_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'office.sqlite3'}"
    await upgrade(url)
    transport = MemoryTransport("test")
    app = await build_app(
        Settings(database_url=url, scheme="sanyuan"),
        clock=FakeClock(datetime.fromisoformat("2026-11-23T09:00:00+08:00")),
        transports={"test": transport},
    )
    try:
        for n, payload in enumerate(["app:accept:1", "app:reject:1", "ticket:take:1"]):
            event = Incoming(f"e{n}", Sender("test", "x", "X", "en"), "x", payload=payload)
            await app.handle(event)
        await app.worker.drain()
        texts = [d.message.text for d in transport.delivered]
        assert len(texts) == 3
        office = "agency window (District Administrative Service Centre)"  # sanyuan's, mid-sentence
        assert all(f"only for: {office}" in t for t in texts), texts
    finally:
        await app.close()
