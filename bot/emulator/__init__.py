"""The local emulator (本地模拟器): a chat client for the same core, in the browser.

`attach_emulator` registers the `emulator` transport, creates the demo cast, takes over the
app's clock (the wall clock plus an offset the page can push forward) and adds the page,
its JSON endpoints and its WebSocket to the web server. See docs/emulator.md.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from sqlalchemy import make_url

from bot.app import App
from bot.config import ROOT, Settings
from bot.demo import PLATFORM, ensure_demo_cast
from bot.emulator.clock import EmulatorClock
from bot.emulator.routes import add_routes
from bot.emulator.session import EmulatorSession
from bot.emulator.transport import EmulatorHub, EmulatorTransport

__all__ = ["PLATFORM", "attach_emulator"]


def _data_dir(settings: Settings) -> Path:
    """Where uploads and the saved clock live: beside a SQLite file (`var/` by default),
    else `var/` of the checkout."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent
    return ROOT / "var"


def data_dir(settings: Settings) -> Path:
    """The emulator's folder for this configuration (uploads, the saved clock)."""
    return _data_dir(settings)


async def attach_emulator(
    app: App,
    settings: Settings,
    web_app: web.Application,
    *,
    data_dir: Path | None = None,
) -> Callable[[], Awaitable[None]]:
    """Attach the emulator to a built app before the web server starts; returns its stop."""
    folder = data_dir or _data_dir(settings)
    # One saved clock per database: two demos on two databases keep their own time.
    db_tag = hashlib.sha256(settings.database_url.encode()).hexdigest()[:10]
    clock = EmulatorClock(app, folder / f"emulator-clock-{db_tag}.json")
    hub = EmulatorHub(app.services.db, clock.clock)
    app.transports[PLATFORM] = EmulatorTransport(hub, folder / "uploads")
    app.services.document_folders["uploads/"] = folder / "uploads"
    cast = await ensure_demo_cast(app)
    session = EmulatorSession(app, settings, hub, clock, cast, folder / "uploads")
    # One token per start, handed to the page in its HTML: only that page drives the API.
    add_routes(web_app, session, secrets.token_urlsafe(32), any_host=settings.emulator_unsafe)

    async def stop() -> None:
        await hub.close_sockets()
        app.transports.pop(PLATFORM, None)

    return stop
