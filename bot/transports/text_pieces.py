"""Plain text in pieces (文本分段) for messengers that count bytes (WeCom, WeChat)."""

from __future__ import annotations

import re

from handlers.i18n import N_, gettext

NUMBER_HINT = N_("Reply with # and the number of your choice, for example #1.")
CHECKED = "☑ "


def with_options(text: str, labels: list[str], lang: str) -> str:
    """The text and its buttons as `#n` options for a messenger without buttons.

    A choice the text already numbers ("3. 施工许可", as the form engine writes them, answered
    with the bare number) is not listed a second time; only the other buttons (page turns,
    Done, Cancel) get a `#n` line, numbered by their place among the buttons.
    """
    listed = {m.group(1).strip() for m in re.finditer(r"^\d+\. (.+)$", text, re.M)}
    options = [
        f"#{n} {label}"
        for n, label in enumerate(labels, start=1)
        if label.removeprefix(CHECKED).strip() not in listed
    ]
    if not options:
        return text
    return "\n".join([text, "", *options, gettext(lang, NUMBER_HINT)])


def plain(text: str) -> str:
    """Our light markup without the bold markers, for text messages."""
    return text.replace("**", "")


def split_bytes(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` UTF-8 bytes, cut at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = ""
        while len(line.encode()) > limit:  # one very long line: cut by characters
            cut = len(line.encode()[:limit].decode("utf-8", errors="ignore"))
            pieces.append(line[:cut])
            line = line[cut:]
        current = line
    if current or not pieces:
        pieces.append(current)
    return pieces


__all__ = ["NUMBER_HINT", "plain", "split_bytes", "with_options"]
