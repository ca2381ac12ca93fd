"""Bounds on what people type (输入边界): ids, dates and free text, checked before use.

The store's integer ids are 32-bit on PostgreSQL and 64-bit on SQLite; a typed or pressed id
outside the smaller range can name no row, so it is refused before it reaches SQL (where it
would raise an overflow and cost the person an apology instead of an answer). Dates outside
2000–2100 are typos for a construction project. Free text has a length cap per kind of
field, so one message cannot turn into seven.
"""

from __future__ import annotations

from datetime import date

ID_MAX = 2**31 - 1  # PostgreSQL INTEGER
DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2100, 12, 31)

# Characters per kind of free text typed after a command. Names and form answers have their
# own caps in their forms (a name: 30). Minutes fit one Telegram message (4096) with the
# notice around them, so they never go out as several.
TEXT_LIMITS: dict[str, int] = {
    "reason": 500,
    "note": 1000,
    "log": 2000,
    "minutes": 3000,
}


def row_id(raw: str) -> int | None:
    """The id written in `raw` (ASCII digits, optionally ``#``), or None when it is not one
    or lies outside every table's range."""
    text = raw.strip().removeprefix("#")
    if not text or not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= ID_MAX else None


def date_in_range(day: date) -> bool:
    """Whether `day` is plausible for a project (2000-01-01 … 2100-12-31)."""
    return DATE_MIN <= day <= DATE_MAX


__all__ = ["DATE_MAX", "DATE_MIN", "ID_MAX", "TEXT_LIMITS", "date_in_range", "row_id"]
