"""The command list (命令): one table for /help and for the messengers' command menus."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.i18n import N_


@dataclass(frozen=True)
class CommandInfo:
    name: str
    description: str  # msgid
    roles: frozenset[str] = frozenset()  # empty: everyone


_TEAM = frozenset({"butler", "specialist", "backup", "office"})
_BUTLER = frozenset({"butler"})
_OFFICE = frozenset({"office"})

COMMANDS: list[CommandInfo] = [
    CommandInfo("start", N_("Welcome and the service menu")),
    CommandInfo("help", N_("What you can do here")),
    CommandInfo("lang", N_("Switch language (中文 / English)")),
    CommandInfo("profile", N_("Your contact details")),
    CommandInfo("check", N_("Check whether your project qualifies for the service")),
    CommandInfo("apply", N_("Apply for the agency service, or send requested documents")),
    CommandInfo("progress", N_("Your projects and applications: where they stand")),
    CommandInfo("status", N_("Where projects and items stand")),
    CommandInfo("item", N_("An item's card, or move it: /item CODE ACTION"), _TEAM),
    CommandInfo("log", N_("Add a note to the project's work log"), _TEAM),
    CommandInfo("assign", N_("Assign a butler and team to an accepted project"), _OFFICE),
    CommandInfo("bind", N_("Bind the project's group chat (one-time code)"), _BUTLER),
    CommandInfo("plan", N_("The project handbook; add, drop or re-date items"), _BUTLER),
    CommandInfo("advance", N_("Move the project to its next stage"), _BUTLER),
    CommandInfo("complete", N_("Start completion (办结) for the enterprise to confirm"), _BUTLER),
    CommandInfo("archive", N_("The project's file (一事一档)"), _OFFICE),
    CommandInfo("resume", N_("Continue an unfinished form")),
    CommandInfo("cancel", N_("Cancel the form you are filling in")),
    CommandInfo(
        "escalate",
        N_("Raise a problem on the dispatch ladder: /escalate [item] REASON [level]"),
        frozenset({"butler", "office"}),
    ),
    CommandInfo(
        "ack",
        N_("Take a problem (pauses automatic raising)"),
        frozenset({"butler", "office", "leader"}),
    ),
    CommandInfo(
        "resolve",
        N_("Close a problem with the meeting minutes: /resolve MINUTES"),
        frozenset({"butler", "office", "leader"}),
    ),
    CommandInfo(
        "digest", N_("The daily digest: /digest [YYYY-MM-DD]"), frozenset({"leader", "office"})
    ),
    CommandInfo("followup", N_("Close a bad review's follow-up: /followup ID NOTE"), _OFFICE),
    CommandInfo("waiting", N_("People with messages waiting until they write again"), _OFFICE),
]


def visible_commands(roles: frozenset[str]) -> list[CommandInfo]:
    return [c for c in COMMANDS if not c.roles or c.roles & roles]
