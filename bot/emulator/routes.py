"""The emulator's web surface (网页接口): the page, its assets, JSON endpoints, a WebSocket.

GET  /                              the page
GET  /emulator/static/{file}        its CSS and JavaScript
GET  /emulator/api/ui?lang=         UI texts from the gettext catalogs
GET  /emulator/api/personas         the demo cast (name, role, department, language)
GET  /emulator/api/chats?persona=   that persona's DM and groups
POST /emulator/api/groups           {"title"}: a new group chat, not bound to a project yet
GET  /emulator/api/history?chat=    the chat's messages so far
GET  /emulator/api/clock            the simulated time
POST /emulator/api/clock            {"action": "hour" | "workday" | "to", "to": "…"}
GET  /emulator/api/inspect?seq=     event and outbox row behind a message
GET  /emulator/api/conversation?persona=&chat=      form, step and data
POST /emulator/api/restart          {"persona", "chat"}: clear that conversation
POST /emulator/api/reset            reset demo
POST /emulator/api/upload           multipart: persona, chat, file
GET  /emulator/api/export?chat=     the chat (no chat: the session) as a story (YAML)
GET  /emulator/uploads/{name}       an uploaded file (always as a download)
WS   /emulator/ws?token=            {"type": "say"|"press", …} in; entries, clock, chats out

Every API call and the WebSocket carry this start's token (header or ``token=``), come from
a loopback Host and, from a browser, from the page's own Origin (bot/emulator/guard.py).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import WSMsgType, web

from bot.emulator.clock import ClockError
from bot.emulator.guard import TOKEN_PLACEHOLDER, emulator_guard, page_headers
from bot.emulator.session import EmulatorError, EmulatorSession
from bot.emulator.ui_text import ui_text

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
PAGE = (STATIC / "index.html").read_text(encoding="utf-8")
SESSION_KEY = web.AppKey("emulator_session", EmulatorSession)
TOKEN_KEY = web.AppKey("emulator_token", str)


def _session(request: web.Request) -> EmulatorSession:
    return request.app[SESSION_KEY]


def _bad(reason: str, status: int = 400) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def _arg(request: web.Request, name: str) -> str:
    value = request.query.get(name, "")
    if not value:
        raise EmulatorError(f"missing query parameter {name!r}")
    return value


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except (EmulatorError, ClockError) as exc:
        return _bad(str(exc))


async def page(request: web.Request) -> web.Response:
    html = PAGE.replace(TOKEN_PLACEHOLDER, request.app[TOKEN_KEY])
    return web.Response(
        text=html, content_type="text/html", charset="utf-8", headers=page_headers(request.host)
    )


async def ui(request: web.Request) -> web.Response:
    return web.json_response(ui_text(request.query.get("lang", "zh_CN")))


async def personas(request: web.Request) -> web.Response:
    return web.json_response(await _session(request).personas(request.query.get("lang", "zh_CN")))


async def chats(request: web.Request) -> web.Response:
    return web.json_response(await _session(request).chats(_arg(request, "persona")))


async def groups_post(request: web.Request) -> web.Response:
    body = await _json(request)
    made = await _session(request).new_group(str(body.get("title", "")))
    return web.json_response(made, status=201)


async def history(request: web.Request) -> web.Response:
    entries = await _session(request).hub.history(_arg(request, "chat"))
    return web.json_response([e.to_json() for e in entries])


async def clock_get(request: web.Request) -> web.Response:
    return web.json_response(_session(request).clock.status())


async def clock_post(request: web.Request) -> web.Response:
    body = await _json(request)
    session = _session(request)
    if session.clock.busy:
        return _bad("the clock is already moving", status=409)
    status = await session.move_clock(str(body.get("action", "")), body.get("to"))
    return web.json_response(status)


async def inspect(request: web.Request) -> web.Response:
    try:
        seq = int(_arg(request, "seq"))
    except ValueError:
        raise EmulatorError("seq must be a number") from None
    return web.json_response(await _session(request).inspect(seq))


async def conversation(request: web.Request) -> web.Response:
    state = await _session(request).conversation(_arg(request, "persona"), _arg(request, "chat"))
    return web.json_response({"conversation": state})


async def restart(request: web.Request) -> web.Response:
    body = await _json(request)
    await _session(request).restart_conversation(
        str(body.get("persona", "")), str(body.get("chat", ""))
    )
    return web.json_response({"ok": True})


async def reset(request: web.Request) -> web.Response:
    return web.json_response({"removed": await _session(request).reset()})


async def upload(request: web.Request) -> web.Response:
    form = await request.post()
    file = form.get("file")
    if not isinstance(file, web.FileField):
        raise EmulatorError("no file in the upload")
    # Some clients percent-encode a non-ASCII file name; browsers send it as UTF-8.
    filename = unquote(file.filename or "file")
    entry = await _session(request).upload(
        str(form.get("persona", "")), str(form.get("chat", "")), filename, file.file.read()
    )
    return web.json_response(entry.to_json())


async def export(request: web.Request) -> web.Response:
    chat = request.query.get("chat") or None
    text = await _session(request).export(chat)
    name = f"emulator_export_{chat or 'session'}.yaml".replace(":", "_")
    return web.Response(
        text=text,
        content_type="application/x-yaml",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def uploaded(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    folder = _session(request).uploads.resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        raise web.HTTPNotFound()
    # Whatever was uploaded (an HTML file too) is downloaded, never rendered on our origin.
    return web.FileResponse(
        path,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(path.name)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


async def websocket(request: web.Request) -> web.WebSocketResponse:
    session = _session(request)
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    session.hub.sockets.add(ws)
    await ws.send_json({"type": "clock", "clock": session.clock.status()})
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                data = json.loads(msg.data)
                kind = data.get("type")
                if kind == "say":
                    await session.act(data["persona"], data["chat"], text=str(data["text"]))
                elif kind == "press":
                    await session.act(
                        data["persona"],
                        data["chat"],
                        payload=str(data["payload"]),
                        label=str(data.get("label", "")),
                    )
                elif kind == "ping":
                    await ws.send_json({"type": "pong"})
                else:
                    raise EmulatorError(f"unknown message type {kind!r}")
            except (EmulatorError, KeyError, ValueError, TypeError) as exc:
                await ws.send_json({"type": "error", "message": str(exc)})
    finally:
        session.hub.sockets.discard(ws)
    return ws


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise EmulatorError("the body must be JSON") from None
    if not isinstance(body, dict):
        raise EmulatorError("the body must be a JSON object")
    return body


def add_routes(
    web_app: web.Application, session: EmulatorSession, token: str, *, any_host: bool = False
) -> None:
    web_app[SESSION_KEY] = session
    web_app[TOKEN_KEY] = token
    web_app.middlewares.append(emulator_guard(token, any_host=any_host))
    web_app.middlewares.append(_errors)
    r = web_app.router
    r.add_get("/", page)
    r.add_static("/emulator/static/", STATIC, append_version=False)
    r.add_get("/emulator/api/ui", ui)
    r.add_get("/emulator/api/personas", personas)
    r.add_get("/emulator/api/chats", chats)
    r.add_post("/emulator/api/groups", groups_post)
    r.add_get("/emulator/api/history", history)
    r.add_get("/emulator/api/clock", clock_get)
    r.add_post("/emulator/api/clock", clock_post)
    r.add_get("/emulator/api/inspect", inspect)
    r.add_get("/emulator/api/conversation", conversation)
    r.add_post("/emulator/api/restart", restart)
    r.add_post("/emulator/api/reset", reset)
    r.add_post("/emulator/api/upload", upload)
    r.add_get("/emulator/api/export", export)
    r.add_get("/emulator/uploads/{name}", uploaded)
    r.add_get("/emulator/ws", websocket)
