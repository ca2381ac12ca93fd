"""The emulator's WeChat persona view (微信视图): a demo chat as a WeChat contact would see it.

`/emulator/wechat?chat=zhang` shows what the bot sent that persona's chat, rendered by the
WeChat transport's own rules (bot/transports/wechat_render.py): plain texts split where
WeChat would split them, buttons as a menu message (the choices a contact taps) or, past
ten choices, as numbered options answered `#2`, files named. Read-only, and refreshed
every two seconds beside the emulator's page; it is registered only with the emulator.
"""

from __future__ import annotations

import html
from typing import Any

from aiohttp import web

from bot.demo import PLATFORM
from bot.transports.host import TransportHost
from bot.transports.wechat_render import bodies
from storage.uow import UnitOfWork

PATH = "/emulator/wechat"
SHOWN = 40
STYLE = (
    "body{font-family:sans-serif;background:#ededed;max-width:520px;margin:0 auto;padding:1em}"
    ".b{background:#fff;border-radius:6px;padding:.6em .8em;margin:.5em 0;white-space:pre-wrap}"
    ".m a{display:block;color:#576b95;margin-top:.3em}.t{color:#888;font-size:.8em}"
)


def _bubble(body: dict[str, Any]) -> str:
    kind = body["msgtype"]
    if kind == "msgmenu":
        menu = body["msgmenu"]
        choices = "".join(f"<a>{html.escape(c['content'])}</a>" for c in menu["list"])
        tail = html.escape(menu.get("tail_content", ""))
        return f'<div class="b m">{html.escape(menu["head_content"])}{choices}{tail}</div>'
    if kind == "text":
        return f'<div class="b">{html.escape(body["text"]["content"])}</div>'
    return f'<div class="b">[{html.escape(kind)}]</div>'


def add_wechat_view(host: TransportHost, web_app: web.Application) -> None:
    """Register the view's page on the emulator's web server."""

    async def page(request: web.Request) -> web.Response:
        chat = request.query.get("chat", "")
        async with UnitOfWork(host.services.db) as uow:
            person = await uow.people.by_account(PLATFORM, chat) if chat else None
            rows = await uow.outbox.recent_for_chat(PLATFORM, chat, limit=SHOWN) if chat else []
        lang = person.lang if person is not None else host.settings.default_lang
        parts = []
        for row in rows:
            when = row.created_at.astimezone(host.services.timezone).strftime("%m-%d %H:%M")
            parts.append(f'<div class="t">{when}</div>')
            parts += [_bubble(body) for body in bodies(row.payload, lang, None)]
        title = html.escape(person.name if person is not None else chat)
        text = (
            f"<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=2>"
            f"<title>WeChat · {title}</title><style>{STYLE}</style>"
            f"<h3>{title}</h3>{''.join(parts)}"
        )
        return web.Response(text=text, content_type="text/html")

    web_app.router.add_get(PATH, page)


__all__ = ["PATH", "add_wechat_view"]
