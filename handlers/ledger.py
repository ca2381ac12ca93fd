"""The office ledger (台账): one row per project, as an office hands it over.

项目编号, 项目名称, 建设单位, 统一社会信用代码, 联系人, 电话, 总投资（万元）, 类别, 区域,
阶段, 状态, the butler and each department's specialists (by the scheme's own role names), 事项进度,
逾期事项, 未解决问题, 最新进展, 受理日期, 办结日期. Labels, never codes; dates as dates;
headers in the reader's language. Written by `daiban export ledger` and `/ledger`.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from domain.calendar import WorkCalendar
from domain.cells import safe_row
from domain.items import workdays_overdue
from domain.scheme import Scheme
from handlers.i18n import N_
from handlers.office_labels import QUIET_EVENTS, event_detail, event_name, project_status
from handlers.office_xlsx import workbook_bytes
from handlers.projects import item_state
from handlers.render import Voice, counts, item_name, stage_name
from storage.models import Problem, Project
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Column:
    key: str
    msgid: str


COLUMNS = (
    Column("code", N_("Project code")),
    Column("name", N_("Project name")),
    Column("enterprise", N_("Construction company")),
    Column("uscc", N_("Unified social credit code")),
    Column("contact", N_("Contact person")),
    Column("phone", N_("Phone")),
    Column("investment_wan", N_("Total investment (10,000 yuan)")),
    Column("category", N_("Category")),
    Column("zone", N_("Zone")),
    Column("stage", N_("Stage")),
    Column("status", N_("Status")),
    Column("butler", ""),  # the scheme's own name for the butler
    Column("specialists", N_("{specialist} of each department")),
    Column("progress", N_("Item progress")),
    Column("overdue", N_("Overdue items")),
    Column("problems", N_("Unresolved problems")),
    Column("latest", N_("Latest progress")),
    Column("accepted_on", N_("Accepted on")),
    Column("completed_on", N_("Completed on")),
)
KEYS = tuple(c.key for c in COLUMNS)


def headers(scheme: Scheme, lang: str) -> list[str]:
    """The ledger's column headers in `lang`, roles by the scheme's own names."""
    say = Voice(lang, scheme)
    specialist = say.label(scheme.roles.specialist)
    out = []
    for column in COLUMNS:
        if column.key == "butler":
            out.append(say.label(scheme.roles.butler))
        else:
            out.append(say._(column.msgid, specialist=specialist))
    return out


def _label(scheme: Scheme, say: Voice, kind: str, key: str) -> str:
    for entry in getattr(scheme, kind):
        if entry.id == key:
            return say.label(entry.label)
    return key


async def _row(
    uow: UnitOfWork,
    scheme: Scheme,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    project: Project,
    today: date,
    say: Voice,
    names: dict[tuple[str, int], str],
    problems: list[Problem],
) -> dict[str, Any]:
    async def person(person_id: int) -> str:
        if ("person", person_id) not in names:
            found = await uow.people.get(person_id)
            names["person", person_id] = found.name if found else ""
        return names["person", person_id]

    async def unit(department_id: int) -> str:
        if ("unit", department_id) not in names:
            names["unit", department_id] = await uow.departments.name(department_id, say.lang) or ""
        return names["unit", department_id]

    items = await uow.items.of_project(project.id)
    done, total = counts(items)
    app = await uow.applications.get(project.application_id) if project.application_id else None
    data = (app.data if app else None) or {}
    enterprise = await uow.enterprises.get(project.enterprise_id) if project.enterprise_id else None
    butler = await person(project.butler_id) if project.butler_id else ""
    specialists: dict[int | None, list[str]] = {}
    for member in await uow.members.of_project(project.id):
        if member.role == "specialist" and (name := await person(member.person_id)):
            specialists.setdefault(member.department_id, []).append(name)
    staffed = [
        f"{(await unit(department_id) if department_id else '') or '—'}：{'、'.join(people)}"
        for department_id, people in specialists.items()
    ]
    overdue = []
    for item in items:
        late = workdays_overdue(item_state(item), today, calendar)
        if late > 0:
            overdue.append(
                say._("{item} ({days} working days)", item=item_name(say, item), days=late)
            )
    open_problems = [f"#{p.id} {p.reason}" for p in sorted(problems, key=lambda p: p.id)]
    latest = ""
    for event in reversed(await uow.events.for_project(project.id, limit=30)):
        if event.kind in QUIET_EVENTS:
            continue
        item = next((i for i in items if i.id == event.item_id), None)
        parts = [event.at.astimezone(tz).strftime("%Y-%m-%d"), event_name(say, event.kind)]
        parts += [item_name(say, item)] if item else []
        parts += [detail] if (detail := event_detail(event)) else []
        latest = " ".join(parts)
        break
    completion = (project.snapshot or {}).get("completion") or {}
    completed_on = None
    if completion.get("at"):
        try:
            completed_on = datetime.fromisoformat(str(completion["at"])).astimezone(tz).date()
        except ValueError:
            completed_on = None
    investment = app.investment_wan if app else None
    return {
        "code": project.code,
        "name": project.name,
        "enterprise": enterprise.name if enterprise else data.get("enterprise", ""),
        "uscc": (enterprise.uscc if enterprise else None) or data.get("uscc", ""),
        "contact": data.get("contact_name", ""),
        "phone": data.get("mobile", ""),
        "investment_wan": float(investment) if isinstance(investment, Decimal) else investment,
        "category": _label(scheme, say, "categories", project.category),
        "zone": say.label(zone.label)
        if (zone := scheme.zone_of(project.zone))
        else project.zone or "",
        "stage": stage_name(say, scheme, project.stage),
        "status": project_status(say, project.status),
        "butler": butler,
        "specialists": "\n".join(staffed),
        "progress": f"{done}/{total}",
        "overdue": "\n".join(overdue),
        "problems": "\n".join(open_problems),
        "latest": latest,
        "accepted_on": project.accepted_at.astimezone(tz).date() if project.accepted_at else None,
        "completed_on": completed_on,
    }


async def ledger_rows(
    uow: UnitOfWork, scheme: Scheme, calendar: WorkCalendar, now: datetime, lang: str
) -> list[dict[str, Any]]:
    """Every project's row, keyed by column, as the store stands ``now``."""
    tz = ZoneInfo(scheme.timezone)
    today = now.astimezone(tz).date()
    say = Voice(lang, scheme)
    names: dict[tuple[str, int], str] = {}  # people and units, looked up once per ledger
    problems: dict[int, list[Problem]] = {}
    for problem in await uow.problems.unresolved():  # one query for every project
        problems.setdefault(problem.project_id, []).append(problem)
    return [
        await _row(
            uow, scheme, calendar, tz, project, today, say, names, problems.get(project.id, [])
        )
        for project in await uow.projects.listed()
    ]


def ledger_file(rows: list[dict[str, Any]], fmt: str, scheme: Scheme, lang: str) -> bytes:
    """The ledger as xlsx, csv (UTF-8 with BOM) or json bytes, headers in `lang`."""
    if fmt == "json":
        plain = [
            {k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()} for row in rows
        ]
        return json.dumps(plain, ensure_ascii=False, indent=2).encode("utf-8")
    header = headers(scheme, lang)
    table = [[row[k] if row[k] is not None else "" for k in KEYS] for row in rows]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(
            safe_row(v.isoformat() if isinstance(v, date) else v for v in row) for row in table
        )
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    title = Voice(lang)._("Ledger")
    return workbook_bytes([(title, header, [[row[k] for k in KEYS] for row in rows])])


def ledger_filename(lang: str, today: date) -> str:
    return Voice(lang)._("Ledger {date}.xlsx", date=today.isoformat())


__all__ = ["COLUMNS", "KEYS", "headers", "ledger_file", "ledger_filename", "ledger_rows"]
