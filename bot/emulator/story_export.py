"""Story export (导出对话脚本): a session clicked together on the page becomes a story file.

The output is the `daiban simulate` format (README "Stories"): what each persona said,
pressed or sent becomes an acting step; every clock move becomes an `at:` step; every bot
message becomes an `expect` on its (regex-escaped) first line. A message a scheduled job
sent while the wall clock ran on gets an `at:` step of its own time first, so the replay's
fake clock reaches it too.

The whole demo cast is in `people`, so the replay has the roster the emulator had (an
`/assign` staffs the team from it). A one-time code (邀请码, e.g. the group code of `/bind`)
is different on every run: the bot message that first shows it captures it, `(?P<code1>…)`,
and what a persona types with it says `${code1}`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from bot.demo import Persona
from bot.emulator.transport import Entry
from handlers.invites import CODE_ALPHABET, CODE_LENGTH

_PLAIN = re.compile(r"^[A-Za-z][\w-]*$")
_YAML_WORDS = {"yes", "no", "true", "false", "on", "off", "null", "y", "n"}
_CODE_CHARS = f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}"
_CODE = re.compile(rf"(?<![A-Za-z0-9]){_CODE_CHARS}(?![A-Za-z0-9])")


def _scalar(value: Any) -> str:
    """A plain word as is; anything else as a JSON string, which YAML reads back verbatim."""
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)


def _flow(mapping: dict[str, Any]) -> str:
    """One YAML flow mapping, as the README's stories write them."""
    parts = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            parts.append(f"{key}: {_flow(value)}")
        elif isinstance(value, list):
            parts.append(f"{key}: [{', '.join(_scalar(v) for v in value)}]")
        else:
            parts.append(f"{key}: {_scalar(value)}")
    return "{" + ", ".join(parts) + "}"


def _pattern(line: str) -> str:
    # re.escape also escapes spaces (for verbose mode, which stories never use); keep
    # them plain so the expectation reads like the message.
    return "^" + re.escape(line).replace("\\ ", " ")


def _instant(at: datetime, tz: Any) -> str:
    # Whole seconds, rounded up: the replay must not stop short of the recorded moment.
    local = at.astimezone(tz)
    if local.microsecond:
        local = local.replace(microsecond=0) + timedelta(seconds=1)
    return local.isoformat()


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0].strip()


def _one_time_codes(items: list[Entry]) -> dict[str, str]:
    """Codes a bot message showed and a persona typed afterwards, with their variable names."""
    shown: set[str] = set()
    names: dict[str, str] = {}
    for entry in items:
        if entry.kind == "bot":
            shown.update(_CODE.findall(entry.text))
        elif entry.kind == "say":
            for code in _CODE.findall(entry.text):
                if code in shown and code not in names:
                    names[code] = f"code{len(names) + 1}"
    return names


def _expect_text(text: str, codes: dict[str, str], captured: set[str]) -> str:
    """The expectation for a bot message: its first line, escaped; a one-time code in the
    message is captured the first time and matched by its shape afterwards."""
    line = _first_line(text)
    pattern = _pattern(line) if line else ""
    for code, name in codes.items():
        if code not in text:
            continue
        if code in captured:
            wanted = _CODE_CHARS
        else:
            wanted = f"(?P<{name}>{_CODE_CHARS})"
            captured.add(code)
        if code in line:
            pattern = pattern.replace(code, wanted)
        else:  # further down: the text of its line up to it, then the code
            before = next(x for x in text.splitlines() if code in x).split(code, 1)[0]
            pattern += ".*" + re.escape(before.lstrip()).replace("\\ ", " ") + wanted
    return pattern


def _say_text(text: str, codes: dict[str, str]) -> str:
    def variable(found: re.Match[str]) -> str:
        code = found.group(0)
        return f"${{{codes[code]}}}" if code in codes else code

    return _CODE.sub(variable, text)


def export_story(
    *,
    scheme: str,
    tz: Any,
    entries: Iterable[Entry],
    clock_moves: Iterable[Entry],
    cast: list[Persona],
    groups: dict[str, str],
    job_sent: set[int],
    title: str,
) -> str:
    """The story text. `groups` maps group chat ids to titles; `job_sent` holds the outbox
    ids of messages a scheduled job (not an event) queued."""
    by_key = {p.key: p for p in cast}
    items = sorted([*entries, *clock_moves], key=lambda e: e.seq)
    first_act = next((i for i, e in enumerate(items) if e.kind in {"say", "press", "file"}), None)
    if first_act is None:
        raise ValueError("nothing to export: no one has said anything in this chat yet")
    items = items[first_act:]
    start = items[0].at
    codes = _one_time_codes(items)
    captured: set[str] = set()

    people: dict[str, dict[str, Any]] = {}
    group_keys: dict[str, str] = {}
    members: dict[str, list[str]] = {}

    def person(key: str, entry: Entry | None = None) -> str:
        if key not in people:
            persona = by_key.get(key)
            spec: dict[str, Any] = {
                "id": key,
                "name": (entry.name if entry and entry.name else None)
                or (persona.name if persona else key),
                "role": persona.role if persona else "enterprise",
            }
            if persona and persona.department:
                spec["department"] = persona.department
            lang = (entry.lang if entry and entry.lang else None) or (
                persona.lang if persona else "zh_CN"
            )
            if lang == "en":
                spec["lang"] = "en"
            people[key] = spec
        return key

    def where(chat: str) -> dict[str, str]:
        if chat not in groups:
            return {}
        if chat not in group_keys:
            group_keys[chat] = f"group{len(group_keys) + 1}"
            members[chat] = []
        return {"in": group_keys[chat]}

    steps: list[str] = []
    clock = start
    for entry in items:
        if entry.kind == "clock":
            if entry.at > clock:
                steps.append(_flow({"at": _instant(entry.at, tz)}))
                clock = entry.at
            continue
        if entry.kind in {"say", "press", "file"}:
            key = person(entry.sender, entry)
            step: dict[str, Any] = {"as": key, **where(entry.chat)}
            if entry.chat in groups and key not in members[entry.chat]:
                members[entry.chat].append(key)
            if entry.kind == "say":
                step["say"] = _say_text(entry.text, codes)
            elif entry.kind == "press":
                step["press"] = entry.text or entry.payload or ""
            else:
                step["send_file"] = (entry.attachment or {}).get("filename", "file")
            steps.append(_flow(step))
            continue
        # A bot message: expect it where it arrived.
        if entry.outbox_id in job_sent and entry.at > clock:
            steps.append(_flow({"at": _instant(entry.at, tz)}))
            clock = entry.at
        target: dict[str, Any] = (
            where(entry.chat) if entry.chat in groups else {"to": person(entry.chat)}
        )
        text = _expect_text(entry.text, codes, captured)
        if text:
            target["text"] = text
        steps.append(_flow({"expect": target}))

    # The rest of the cast: the roster of the replay is the emulator's.
    for persona in cast:
        person(persona.key)
    order = {p.key: i for i, p in enumerate(cast)}
    ordered = sorted(people.values(), key=lambda spec: order.get(spec["id"], len(order)))

    lines = [
        f"title: {json.dumps(title, ensure_ascii=False)}",
        f"scheme: {_scalar(scheme)}",
        f"start: {_instant(start, tz)}",
        "people:",
        *[f"  - {_flow(spec)}" for spec in ordered],
    ]
    if group_keys:
        lines.append("chats:")
        for chat, key in group_keys.items():
            lines.append(
                "  - "
                + _flow(
                    {"id": key, "kind": "group", "members": members[chat], "title": groups[chat]}
                )
            )
    lines.append("steps:")
    lines += [f"  - {step}" for step in steps]
    return "\n".join(lines) + "\n"
