"""The command list (命令): one table for /help and for the messengers' command menus."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.i18n import N_


@dataclass(frozen=True)
class CommandInfo:
    name: str
    description: str  # msgid
    roles: frozenset[str] = frozenset()  # empty: everyone


COMMANDS: list[CommandInfo] = [
    CommandInfo("start", N_("Welcome and the service menu")),
    CommandInfo("help", N_("What you can do here")),
    CommandInfo("lang", N_("Switch language (中文 / English)")),
    CommandInfo("profile", N_("Your contact details")),
    CommandInfo("check", N_("Check whether your project qualifies for the service")),
    CommandInfo("apply", N_("Apply for the agency service, or send requested documents")),
    CommandInfo("progress", N_("Your projects and applications: where they stand")),
    CommandInfo("resume", N_("Continue an unfinished form")),
    CommandInfo("cancel", N_("Cancel the form you are filling in")),
]


def visible_commands(roles: frozenset[str]) -> list[CommandInfo]:
    return [c for c in COMMANDS if not c.roles or c.roles & roles]
