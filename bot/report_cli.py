"""`daiban report weekly|monthly|quarterly --period … [--format md|xlsx]` (报表导出).

The report is `handlers/period_report.py`'s, as of the period's end. Markdown goes to
stdout unless ``--output`` is given; XLSX needs a file (default
``report-KIND-PERIOD.xlsx``) with one sheet per section, header row first.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from handlers.context import Services
from handlers.period_report import Report, build_report, report_xlsx, to_markdown
from storage.uow import UnitOfWork


async def make_report(
    services: Services, kind: str, period: str, lang: str, now: datetime
) -> Report:
    """Build the report from the store as it stands ``now``."""
    today = now.astimezone(services.timezone).date()
    async with UnitOfWork(services.db) as uow:
        return await build_report(uow, services, kind, period, lang, today)


def write_xlsx(report: Report, path: Path) -> Path:
    """One sheet per section: header row, then the rows as numbers and text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(report_xlsx(report))
    return path


async def report_command(
    services: Services,
    kind: str,
    period: str,
    fmt: str,
    output: Path | None,
    lang: str,
    now: datetime,
) -> str:
    """Run `daiban report`; returns the Markdown (md without --output) or a 'wrote' line."""
    report = await make_report(services, kind, period, lang, now)
    if fmt == "xlsx":
        target = output or Path(f"report-{kind}-{period}.xlsx")
        path = await asyncio.to_thread(write_xlsx, report, target)
        return f"wrote {path}"
    text = to_markdown(report)
    if output is None:
        return text
    await asyncio.to_thread(output.write_text, text + "\n", encoding="utf-8")
    return f"wrote {output}"


__all__ = ["make_report", "report_command", "write_xlsx"]
