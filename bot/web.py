"""The web server (网页服务): one port for health, Telegram webhooks, the WeCom callback and
the emulator. Each frontend adds its routes before the server starts."""

from __future__ import annotations

import time

from aiohttp import web

from bot.app import App
from storage.uow import UnitOfWork

APP_KEY = web.AppKey("daiban_app", App)


async def healthz(request: web.Request) -> web.Response:
    """Database reachable and outbox lag, for load balancers and operators."""
    app = request.app[APP_KEY]
    started = time.perf_counter()
    try:
        async with UnitOfWork(app.services.db) as uow:
            pending = await uow.outbox.pending_count()
            age = await uow.outbox.oldest_pending_age(app.services.clock.now())
    except Exception as exc:  # the database is down: say so, with 503 for the balancer
        return web.json_response({"status": "down", "database": type(exc).__name__}, status=503)
    return web.json_response(
        {
            "status": "ok",
            "database_ms": round((time.perf_counter() - started) * 1000, 1),
            "outbox_pending": pending,
            "outbox_oldest_seconds": None if age is None else round(age.total_seconds(), 1),
            "scheme": app.services.scheme.id,
        }
    )


def build_web_app(app: App) -> web.Application:
    web_app = web.Application(client_max_size=20 * 1024 * 1024)
    web_app[APP_KEY] = app
    web_app.router.add_get("/healthz", healthz)
    return web_app


async def start_web(web_app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
