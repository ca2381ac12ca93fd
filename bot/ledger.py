"""`daiban export ledger --format xlsx|csv|json` (台账): one row per project."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from domain.calendar import WorkCalendar
from domain.cells import safe_row
from domain.items import workdays_overdue
from handlers.projects import item_state
from handlers.render import counts
from storage.db import Database
from storage.uow import UnitOfWork

COLUMNS = (
    "code",
    "name",
    "category",
    "zone",
    "stage",
    "status",
    "butler",
    "done",
    "total",
    "progress",
    "overdue",
    "accepted_on",
    "planned_end",
    "completed_on",
)


async def ledger_rows(db: Database, calendar: WorkCalendar, today: date) -> list[dict[str, Any]]:
    """The ledger: every project with stage, butler, progress, overdue count and dates."""
    rows: list[dict[str, Any]] = []
    async with UnitOfWork(db) as uow:
        for project in await uow.projects.listed():
            items = await uow.items.of_project(project.id)
            done, total = counts(items)
            butler = await uow.people.get(project.butler_id) if project.butler_id else None
            completion = (project.snapshot or {}).get("completion") or {}
            dues = [i.due_on for i in items if i.due_on and i.state != "not_applicable"]
            rows.append(
                {
                    "code": project.code,
                    "name": project.name,
                    "category": project.category,
                    "zone": project.zone or "",
                    "stage": project.stage,
                    "status": project.status,
                    "butler": butler.name if butler else "",
                    "done": done,
                    "total": total,
                    "progress": f"{done}/{total}",
                    "overdue": sum(
                        1 for i in items if workdays_overdue(item_state(i), today, calendar) > 0
                    ),
                    "accepted_on": project.accepted_at.date().isoformat()
                    if project.accepted_at
                    else "",
                    "planned_end": max(dues).isoformat() if dues else "",
                    "completed_on": str(completion.get("at", ""))[:10],
                }
            )
    return rows


def render(rows: list[dict[str, Any]], fmt: str) -> bytes:
    """The ledger in `fmt` (xlsx, csv or json) as bytes."""
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2).encode("utf-8")
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(safe_row(row[c] for c in COLUMNS) for row in rows)
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "台账"
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(safe_row(row[c] for c in COLUMNS))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def export_ledger(
    db: Database, calendar: WorkCalendar, fmt: str, output: Path | None, now: datetime
) -> Path:
    """Write the ledger file (default ``ledger-YYYY-MM-DD.FMT``) and return its path."""
    rows = await ledger_rows(db, calendar, now.date())
    target = output or Path(f"ledger-{now.date().isoformat()}.{fmt}")
    target.write_bytes(render(rows, fmt))
    return target
