"""What keeps the emulator local (模拟器的本地约束): a loopback Host, the page's own Origin,
a per-start token and JSON bodies; and `daiban run` placing it only where it is safe.

The emulator acts as anyone, the office included, and moves the clock: a web page the
trainer happens to have open elsewhere must not drive it. A cross-site page cannot read the
token (it is only in the page's HTML, and the Host check stops DNS rebinding), cannot set
the token header without a CORS preflight that is never granted, and its WebSocket
carries a foreign Origin.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.config import ConfigError, Settings

TOKEN_HEADER = "X-Daiban-Emulator-Token"
TOKEN_PLACEHOLDER = "__DAIBAN_EMULATOR_TOKEN__"  # in index.html, replaced per response
API_PREFIX = "/emulator/api/"
WS_PATH = "/emulator/ws"
UPLOAD_PATH = "/emulator/api/upload"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    """Whether a host name or address (a Host header, with or without port) is this machine."""
    name = host.strip().lower()
    if name.startswith("["):  # [::1]:8080
        name = name[1 : name.find("]")] if "]" in name else name[1:]
    elif name.count(":") == 1:  # 127.0.0.1:8080, localhost:8080
        name = name.split(":", 1)[0]
    name = name.rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_placement(settings: Settings) -> None:
    """Refuse to serve the emulator on a non-loopback address or beside a real messenger,
    unless DAIBAN_EMULATOR_UNSAFE says the operator means it."""
    if settings.emulator_unsafe:
        return
    if not is_loopback(settings.web_host):
        raise ConfigError(
            f"DAIBAN_WEB_HOST={settings.web_host}: the emulator acts as anyone (the office "
            "included) and is served on a loopback address only (127.0.0.1); set "
            "DAIBAN_EMULATOR=0, or DAIBAN_EMULATOR_UNSAFE=1 if you really mean it."
        )
    if settings.messenger_configured:
        raise ConfigError(
            "DAIBAN_EMULATOR: the emulator acts as anyone (the office included) and does not "
            "run beside a real messenger; unset DAIBAN_EMULATOR, or set "
            "DAIBAN_EMULATOR_UNSAFE=1 if you really mean it."
        )


def page_headers(host: str) -> dict[str, str]:
    """Headers of the page: it may load and connect only to itself and never be framed."""
    csp = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        f"connect-src 'self' ws://{host} wss://{host}; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": csp,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",  # the page carries this start's token
    }


def _refuse(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def emulator_guard(token: str, *, any_host: bool) -> Callable[..., Awaitable[web.StreamResponse]]:
    """A middleware for the emulator's paths (``/`` and ``/emulator/…``); other routes of
    the web port (health, metrics, webhooks) pass untouched."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path != "/" and not path.startswith("/emulator/"):
            return await handler(request)
        if not any_host and not is_loopback(request.host):
            return _refuse(403, "the emulator answers on a loopback address only")
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"{request.scheme}://{request.host}":
            return _refuse(403, "requests from another origin are refused")
        if path.startswith(API_PREFIX) or path == WS_PATH:
            given = request.headers.get(TOKEN_HEADER, "")
            if not given and path == WS_PATH:  # a browser cannot set a WebSocket's headers
                given = request.query.get("token", "")
            if not hmac.compare_digest(given.encode(), token.encode()):
                return _refuse(403, "missing or wrong emulator token: reload the page")
            if request.method == "POST":
                wanted = "multipart/form-data" if path == UPLOAD_PATH else "application/json"
                if request.content_type != wanted:
                    return _refuse(415, f"the body must be {wanted}")
        response = await handler(request)
        if not response.prepared:
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return guard


__all__ = [
    "TOKEN_HEADER",
    "TOKEN_PLACEHOLDER",
    "check_placement",
    "emulator_guard",
    "is_loopback",
    "page_headers",
]
