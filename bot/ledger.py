"""`daiban export ledger --format xlsx|csv|json [--lang en]` (台账): one row per project;
the rows and the file are `handlers/ledger.py`'s, shared with `/ledger` in chat."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from domain.calendar import WorkCalendar
from domain.scheme import Scheme
from handlers.ledger import KEYS, ledger_file, ledger_rows
from storage.db import Database
from storage.uow import UnitOfWork

COLUMNS = KEYS


async def export_ledger(
    db: Database,
    scheme: Scheme,
    calendar: WorkCalendar,
    fmt: str,
    output: Path | None,
    now: datetime,
    lang: str = "zh_CN",
) -> Path:
    """Write the ledger file (default ``ledger-YYYY-MM-DD.FMT``) and return its path."""
    async with UnitOfWork(db) as uow:
        rows = await ledger_rows(uow, scheme, calendar, now, lang)
    target = output or Path(f"ledger-{now.date().isoformat()}.{fmt}")
    target.write_bytes(ledger_file(rows, fmt, scheme, lang))
    return target


__all__ = ["COLUMNS", "export_ledger"]
