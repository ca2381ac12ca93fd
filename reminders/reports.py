"""Periodic reports (定期报表): the office's weekly dispatch list (每周调度清单), the monthly
report per zone/street (月度报送, Jinniu: on the 25th) and the quarterly report with the
rating round's results (季度统计).

A report is data (titled sections of rows); `to_markdown` renders it for a chat or a
terminal, `bot/report_cli.py` writes the same rows to XLSX. The cron jobs send the weekly
list on the scheme's weekday and the monthly report on its day; when that day is not a
working day they go out on the next working day. A period whose day passed while the bot
was down goes out late, marked so (`reminders/slots.py`). Each slot is claimed in
`job_runs` with the period as key, in the same transaction as the messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from handlers.chat import Outgoing
from handlers.context import Services
from handlers.i18n import N_, gettext, translate
from handlers.postman import Postman
from handlers.problems import department_name
from handlers.rating import LEVEL_MSGIDS
from reminders.slots import Slot, due_slots, in_service_before, late_note
from storage.models import ChecklistItem, Project
from storage.repos.due import CLOSED_PROJECT_STATUSES
from storage.uow import UnitOfWork

WEEKLY_JOB = "weekly-dispatch"
MONTHLY_JOB = "monthly-report"
NO_ZONE = "—"

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


class PeriodError(ValueError):
    """A period that is not 2026-W48, 2026-11 or 2026Q4 (or not of the report's kind)."""


@dataclass(frozen=True)
class Section:
    """One table of a report: a title, column headers and rows."""

    title: str
    header: list[str]
    rows: list[list[str | int]]


@dataclass(frozen=True)
class Report:
    """A whole report (报表) in one language."""

    kind: str  # weekly | monthly | quarterly
    period: str
    title: str
    sections: list[Section] = field(default_factory=list)


def period_bounds(kind: str, period: str) -> tuple[date, date]:
    """First and last day of a period: ``2026-W48`` (ISO week), ``2026-11``, ``2026Q4``."""
    try:
        if kind == "weekly" and (m := _WEEK.match(period)):
            first = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
            return first, first + timedelta(days=6)
        if kind == "monthly" and (m := _MONTH.match(period)):
            first = date(int(m.group(1)), int(m.group(2)), 1)
            return first, _month_end(first)
        if kind == "quarterly" and (m := _QUARTER.match(period)):
            first = date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
            return first, _month_end(date(first.year, first.month + 2, 1))
    except ValueError:
        pass
    examples = {"weekly": "2026-W48", "monthly": "2026-11", "quarterly": "2026Q4"}
    raise PeriodError(f"{kind} periods look like {examples.get(kind, '2026-11')}, not {period!r}")


def period_of(kind: str, day: date) -> str:
    """The period of ``kind`` that contains ``day``."""
    if kind == "weekly":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "monthly":
        return f"{day.year}-{day.month:02d}"
    if kind == "quarterly":
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def _month_end(first: date) -> date:
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


SUBJECT_LABELS = {"team": N_("Butler and team"), "enterprise": N_("Enterprise")}

def _t(lang: str, msgid: str, **params: object) -> str:
    return translate(lang, msgid, **params)


# -- building ------------------------------------------------------------------------------
async def build_report(
    uow: UnitOfWork, services: Services, kind: str, period: str, lang: str, today: date
) -> Report:
    """The report of ``kind`` for ``period`` as the store stands ``today`` (the period's
    last day at the latest: overdue counts are as of that day)."""
    first, last = period_bounds(kind, period)
    as_of = min(today, last)
    if kind == "weekly":
        return await _weekly(uow, services, period, first, last, as_of, lang)
    return await _periodic(uow, services, kind, period, first, last, as_of, lang)


async def _overdue(
    uow: UnitOfWork, services: Services, as_of: date
) -> list[tuple[int, ChecklistItem]]:
    """Running items overdue on ``as_of`` with their working days overdue, worst first."""
    found = []
    for due in await uow.due.running_due_by(as_of - timedelta(days=1)):
        n = services.calendar.workdays_between(due.due_on, as_of)
        if n > 0:
            item = await uow.items.get(due.item_id)
            if item is not None:
                found.append((n, item))
    return sorted(found, key=lambda pair: (-pair[0], pair[1].id))


async def _person_name(uow: UnitOfWork, person_id: int | None) -> str:
    if person_id is None:
        return NO_ZONE
    person = await uow.people.get(person_id)
    return person.name if person is not None else NO_ZONE


async def _weekly(
    uow: UnitOfWork,
    services: Services,
    period: str,
    first: date,
    last: date,
    as_of: date,
    lang: str,
) -> Report:
    """The weekly dispatch list (每周调度清单): what the office's meeting must take up."""
    projects = {p.id: p for p in await _all_projects(uow)}
    report = Report("weekly", period, _t(lang, "Weekly dispatch list {period}", period=period))
    tz = services.timezone

    rows: list[list[str | int]] = []
    for problem in await uow.problems.unresolved():
        project = projects[problem.project_id]
        item = await uow.items.get(problem.item_id) if problem.item_id else None
        opened = problem.opened_at.astimezone(tz).date()
        rows.append(
            [
                problem.id,
                problem.level,
                project.code,
                project.name,
                _item_name(item, lang),
                problem.state,
                max(0, services.calendar.workdays_between(opened, as_of)),
                problem.reason,
            ]
        )
    report.sections.append(
        Section(
            _t(lang, "Open problems"),
            [
                _t(lang, "No."),
                _t(lang, "Level"),
                _t(lang, "Code"),
                _t(lang, "Project"),
                _t(lang, "Item"),
                _t(lang, "State"),
                _t(lang, "Working days open"),
                _t(lang, "Reason"),
            ],
            rows,
        )
    )

    rows = []
    for n, item in await _overdue(uow, services, as_of):
        project = projects[item.project_id]
        rows.append(
            [
                project.code,
                project.name,
                _item_name(item, lang),
                await department_name(uow, item.department_id, lang),
                await _person_name(uow, item.assignee_id),
                item.due_on.isoformat() if item.due_on else NO_ZONE,
                n,
            ]
        )
    report.sections.append(Section(_t(lang, "Overdue items"), _item_header(lang, True), rows))

    rows = []
    for due in await uow.due.running_due_by(last):
        if due.due_on < first or due.due_on < as_of:
            continue
        project = projects[due.project_id]
        rows.append(
            [
                project.code,
                project.name,
                due.name_en if lang == "en" else due.name_zh,
                await department_name(uow, due.department_id, lang),
                await _person_name(uow, due.assignee_id),
                due.due_on.isoformat(),
            ]
        )
    report.sections.append(Section(_t(lang, "Due this week"), _item_header(lang, False), rows))
    return report


def _item_header(lang: str, with_days: bool) -> list[str]:
    header = [
        _t(lang, "Code"),
        _t(lang, "Project"),
        _t(lang, "Item"),
        _t(lang, "Department"),
        _t(lang, "Specialist"),
        _t(lang, "Due"),
    ]
    return header + ([_t(lang, "Working days overdue")] if with_days else [])


def _item_name(item: ChecklistItem | None, lang: str) -> str:
    if item is None:
        return NO_ZONE
    return item.name_en if lang == "en" else item.name_zh


async def _all_projects(uow: UnitOfWork) -> list[Project]:
    return await uow.projects.listed()


async def _periodic(
    uow: UnitOfWork,
    services: Services,
    kind: str,
    period: str,
    first: date,
    last: date,
    as_of: date,
    lang: str,
) -> Report:
    """The monthly or quarterly report: one row per zone/street (街道), then the ratings."""
    tz = services.timezone
    title = "Monthly report {period}" if kind == "monthly" else "Quarterly report {period}"
    report = Report(kind, period, _t(lang, title, period=period))
    projects = await _all_projects(uow)
    zone_of = {p.id: p.zone or NO_ZONE for p in projects}
    zones = sorted(set(zone_of.values()))
    counts: dict[str, dict[str, int]] = {
        z: dict.fromkeys(("live", "accepted", "done", "overdue", "opened", "resolved", "open"), 0)
        for z in zones
    }
    for p in projects:
        local = p.accepted_at.astimezone(tz).date() if p.accepted_at else None
        if local is not None and local <= as_of and p.status not in CLOSED_PROJECT_STATUSES:
            counts[zone_of[p.id]]["live"] += 1
        if local is not None and first <= local <= as_of:
            counts[zone_of[p.id]]["accepted"] += 1
    for item in await uow.due.done_between(first, as_of):
        counts[zone_of[item.project_id]]["done"] += 1
    for _, item in await _overdue(uow, services, as_of):
        counts[zone_of[item.project_id]]["overdue"] += 1
    for problem in await uow.problems.every():
        zone = zone_of[problem.project_id]
        opened = problem.opened_at.astimezone(tz).date()
        if first <= opened <= as_of:
            counts[zone]["opened"] += 1
        resolved = problem.resolved_at.astimezone(tz).date() if problem.resolved_at else None
        if resolved is not None and first <= resolved <= as_of:
            counts[zone]["resolved"] += 1
        if opened <= as_of and (resolved is None or resolved > as_of):
            counts[zone]["open"] += 1
    keys = ("live", "accepted", "done", "overdue", "opened", "resolved", "open")
    rows: list[list[str | int]] = [
        [zone if zone != NO_ZONE else _t(lang, "(no zone)"), *(counts[zone][k] for k in keys)]
        for zone in zones
    ]
    if rows:
        rows.append([_t(lang, "Total"), *(sum(counts[z][k] for z in zones) for k in keys)])
    report.sections.append(
        Section(
            _t(lang, "By zone or street"),
            [
                _t(lang, "Zone / street"),
                _t(lang, "Projects in service"),
                _t(lang, "Accepted in the period"),
                _t(lang, "Items completed"),
                _t(lang, "Items overdue"),
                _t(lang, "Problems raised"),
                _t(lang, "Problems resolved"),
                _t(lang, "Problems open"),
            ],
            rows,
        )
    )
    report.sections.append(await _ratings(uow, services, lang, first, last, projects))
    return report


async def _ratings(
    uow: UnitOfWork, services: Services, lang: str, first: date, last: date, projects: list[Project]
) -> Section:
    """Ratings given in the period (评价结果), with their follow-up state."""
    code = {p.id: p.code for p in projects}
    rows: list[list[str | int]] = []
    for rating in await uow.ratings.every():
        given = rating.at.astimezone(services.timezone).date()
        if not first <= given <= last:
            continue
        rows.append(
            [
                rating.id,
                code.get(rating.project_id, NO_ZONE),
                _t(lang, SUBJECT_LABELS.get(rating.subject, SUBJECT_LABELS["enterprise"])),
                await _person_name(uow, rating.rater_id),
                rating.level,
                gettext(lang, LEVEL_MSGIDS[rating.level]),
                rating.comment or "",
                rating.follow_up or "",
            ]
        )
    return Section(
        _t(lang, "Ratings"),
        [
            _t(lang, "No."),
            _t(lang, "Code"),
            _t(lang, "Rated"),
            _t(lang, "Rated by"),
            _t(lang, "Level"),
            _t(lang, "Satisfaction"),
            _t(lang, "Comment"),
            _t(lang, "Follow-up"),
        ],
        rows,
    )


def to_markdown(report: Report) -> str:
    """The report as Markdown: a heading and one pipe table per section."""
    out = [f"# {report.title}"]
    for section in report.sections:
        out += ["", f"## {section.title}", ""]
        if not section.rows:
            out.append("—")
            continue
        out.append("| " + " | ".join(section.header) + " |")
        out.append("|" + "---|" * len(section.header))
        for row in section.rows:
            cells = [str(c).replace("|", "\\|").replace("\n", " ") for c in row]
            out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


# -- the cron jobs -----------------------------------------------------------------------
async def _send(services: Services, at: datetime, job: str, kind: str, slot: Slot) -> bool:
    today = at.astimezone(services.timezone).date()
    async with UnitOfWork(services.db) as uow:
        if not await uow.jobs.claim(job, slot.period, at):
            return False
        if slot.late and not await in_service_before(uow, services, slot.due):
            return False  # claimed: a period from before this installation is never sent
        post = Postman(uow, at, f"report:{kind}:{slot.period}")
        for person in await uow.people.with_role("office"):
            report = await build_report(uow, services, kind, slot.period, person.lang, today)
            text = to_markdown(report)
            if slot.late:
                text = f"{late_note(person.lang, slot.due)}\n\n{text}"
            await post.to_person(person.id, Outgoing(text), f"u{person.id}")
    return True


async def _send_due(
    services: Services, at: datetime, job: str, kind: str, scheduled: list[tuple[str, date]]
) -> bool:
    sent = False
    for slot in due_slots(services, at, scheduled):
        sent = await _send(services, at, job, kind, slot) or sent
    return sent


async def send_weekly_dispatch(services: Services, at: datetime) -> bool:
    """On the scheme's weekday (or that week's next working day): the office's list, once;
    last week's, marked late, if the bot was down on its day."""
    weekday = services.scheme.reports.weekly_dispatch_weekday
    if weekday is None:
        return False
    year, week, _ = at.astimezone(services.timezone).date().isocalendar()
    this_week = date.fromisocalendar(year, week, weekday)
    scheduled = [
        (period_of("weekly", day), day) for day in (this_week - timedelta(weeks=1), this_week)
    ]
    return await _send_due(services, at, WEEKLY_JOB, "weekly", scheduled)


async def send_monthly_report(services: Services, at: datetime) -> bool:
    """On the scheme's day of the month (or the next working day): the report, once; last
    month's, marked late, if the bot was down on its day."""
    day = services.scheme.reports.monthly_report_day
    if day is None:
        return False
    this_month = at.astimezone(services.timezone).date().replace(day=day)
    last_month = (this_month.replace(day=1) - timedelta(days=1)).replace(day=day)
    scheduled = [(period_of("monthly", d), d) for d in (last_month, this_month)]
    return await _send_due(services, at, MONTHLY_JOB, "monthly", scheduled)


__all__ = [
    "MONTHLY_JOB",
    "WEEKLY_JOB",
    "PeriodError",
    "Report",
    "Section",
    "build_report",
    "period_bounds",
    "period_of",
    "send_monthly_report",
    "send_weekly_dispatch",
    "to_markdown",
]
