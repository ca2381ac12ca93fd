"""The command menu (命令菜单): every command with its help line, read from the routes.

The messengers' command menus (Telegram's `setMyCommands`) and the tests read it from the
router the bootstrap built; /help reads the same declarations (handlers/router.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.router import Router


@dataclass(frozen=True)
class CommandInfo:
    name: str
    description: str  # msgid
    roles: frozenset[str] = frozenset()  # empty: everyone


def command_infos(router: Router) -> list[CommandInfo]:
    """One entry per command, in /help's order; `roles` is who may use it."""
    everyone = {name for name, _ in router.menu(frozenset())}
    audience: dict[str, frozenset[str]] = {}
    for route in router.routes():
        if route.kind == "command":
            audience[route.key] = audience.get(route.key, frozenset()) | route.audience
    helps: dict[str, str] = {}
    for route in router.routes():
        if route.kind == "command" and route.help and route.key not in helps:
            helps[route.key] = route.help
    return [
        CommandInfo(name, text, frozenset() if name in everyone else audience[name])
        for name, text in helps.items()
        if name in audience
    ]
