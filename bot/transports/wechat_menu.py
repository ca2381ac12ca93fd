"""The 服务号's custom menu (自定义菜单): 咨询 · 办事 · 我的项目, from the scheme, in Chinese.

Set on start and only when it differs from what the account shows (`menu/get`), so a
restart or a second replica changes nothing. WeChat's limits: 3 top-level buttons of at
most 16 bytes, 5 sub-buttons each of at most 60 bytes, keys of at most 128 bytes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.transports.base import PermanentError, TransientError
from bot.transports.wechat_api import WeChatApi
from domain.scheme import Scheme
from handlers.i18n import N_, gettext

log = logging.getLogger(__name__)

MENU_LANG = "zh_CN"  # one menu for every follower: the office's language
TOP_BYTES, SUB_BYTES, SUB_MAX = 16, 60, 5
RETRY = (5.0, 30.0, 120.0, 600.0)


def _cut(text: str, limit: int) -> str:
    return text.encode()[:limit].decode("utf-8", errors="ignore")


def menu_from_scheme(scheme: Scheme) -> list[dict[str, Any]]:
    """咨询 (ask a question) · 办事 (service kinds, self-check, apply) · 我的项目 (/progress)."""

    def say(msgid: str) -> str:
        return gettext(MENU_LANG, msgid)

    def click(name: str, key: str, limit: int) -> dict[str, Any]:
        return {"type": "click", "name": _cut(name, limit), "key": key}

    kinds = [click(kind.label.zh, f"kind:{kind.id}", SUB_BYTES) for kind in scheme.service_kinds]
    services = [
        *kinds[: SUB_MAX - 2],
        click(say(N_("Check eligibility")), "menu:check", SUB_BYTES),
        click(say(N_("Apply")), "menu:apply", SUB_BYTES),
    ]
    return [
        click(say(N_("Consult")), "menu:consult", TOP_BYTES),
        {"name": _cut(say(N_("Services")), TOP_BYTES), "sub_button": services},
        click(say(N_("My projects")), "/progress", TOP_BYTES),
    ]


def _shape(buttons: list[dict[str, Any]]) -> list[Any]:
    """What makes two menus the same (menu/get adds empty `sub_button` lists and more)."""
    return [
        (b.get("name"), b.get("type"), b.get("key"), _shape(b.get("sub_button") or []))
        for b in buttons
    ]


async def set_menu(api: WeChatApi, scheme: Scheme) -> bool:
    """Set the menu unless the account already shows it; whether it was (re)set."""
    wanted = menu_from_scheme(scheme)
    current = await api.current_menu()
    if current is not None and _shape(current) == _shape(wanted):
        return False
    await api.create_menu(wanted)
    log.info("WeChat: the account's menu was set from the scheme")
    return True


async def keep_menu(api: WeChatApi, scheme: Scheme) -> None:
    """`set_menu` in the background, retried while WeChat cannot be reached."""
    for delay in (*RETRY, None):
        try:
            await set_menu(api, scheme)
            return
        except TransientError as exc:
            if delay is None:
                log.error("WeChat: the menu could not be set: %s", exc)
                return
            log.warning("WeChat: menu not set yet (%s); retrying in %.0f s", exc, delay)
            await asyncio.sleep(delay)
        except PermanentError as exc:
            log.error("WeChat: the menu was refused: %s", exc)
            return


__all__ = ["keep_menu", "menu_from_scheme", "set_menu"]
