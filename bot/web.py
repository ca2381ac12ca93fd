"""The web server (网页服务): one port for health, metrics, Telegram webhooks, the WeCom
callback and the emulator. Each frontend adds its routes before the server starts."""

from __future__ import annotations

import time

from aiohttp import web

from bot.app import App
from bot.metrics import CONTENT_TYPE
from storage.uow import UnitOfWork

APP_KEY = web.AppKey("daiban_app", App)


async def healthz(request: web.Request) -> web.Response:
    """Database reachable, scheduler alive, outbox lag: 200 when all is well, else 503 with
    the reasons, for load balancers and operators."""
    app = request.app[APP_KEY]
    problems: list[str] = []
    body: dict[str, object] = {"scheme": app.services.scheme.id}
    started = time.perf_counter()
    try:
        async with UnitOfWork(app.services.db) as uow:
            pending = await uow.outbox.pending_count()
            age = await uow.outbox.oldest_pending_age(app.services.clock.now())
    except Exception as exc:  # the database is down: say so, with 503 for the balancer
        body["database"] = type(exc).__name__
        problems.append(f"database unreachable ({type(exc).__name__})")
    else:
        body["database_ms"] = round((time.perf_counter() - started) * 1000, 1)
        body["outbox_pending"] = pending
        body["outbox_oldest_seconds"] = None if age is None else round(age.total_seconds(), 1)
    body["scheduler"] = scheduler_state(app)
    if app.heartbeat.stale:
        problems.append(
            f"scheduler stalled: no tick for {app.heartbeat.age():.0f} s "
            f"(limit {app.heartbeat.stale_after:.0f} s)"
        )
    for transport in app.transports.values():
        # A messenger that holds its messages (WeCom's 40091: the secret is wrong) says so.
        problems.extend(getattr(transport, "problems", ()))
    if problems:
        return web.json_response({"status": "down", "problems": problems, **body}, status=503)
    return web.json_response({"status": "ok", **body})


def scheduler_state(app: App) -> dict[str, object]:
    """The scheduler's liveness: seconds since its last tick, and the limit."""
    beat = app.heartbeat
    age = beat.age()
    state = "not started" if age is None else "stalled" if beat.stale else "ok"
    return {
        "state": state,
        "last_tick_seconds_ago": None if age is None else round(age, 1),
        "stale_after_seconds": beat.stale_after,
    }


async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics; the outbox gauges are read from the database now."""
    app = request.app[APP_KEY]
    await app.metrics.read_database(app.services.db, app.services.clock.now())
    return web.Response(
        body=app.metrics.render(app.heartbeat), headers={"Content-Type": CONTENT_TYPE}
    )


def build_web_app(app: App) -> web.Application:
    web_app = web.Application(client_max_size=20 * 1024 * 1024)
    web_app[APP_KEY] = app
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    return web_app


async def start_web(web_app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
