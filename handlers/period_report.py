"""Periodic reports (定期报表): what happened in a week, month or quarter, by zone.

Every report opens with the period's summary per zone of the scheme (街道、乡镇、园区 by
their names; a scheme without zones groups by the location as written): projects in
service, new applications, accepted, items completed, items overdue, problems raised,
resolved and still open, ratings and bad reviews. The weekly dispatch list (每周调度清单)
adds the open problems, the overdue items and what falls due that week; the monthly and
quarterly reports add the ratings given. Everything is as of the period's last day (or
today, for a period not over yet), whatever day the report is drawn: an item completed
after the period was still overdue in it, a problem resolved after it was still open.

A report is data (titled sections of rows); `to_markdown` renders it for a chat or a
terminal, `report_xlsx` as a workbook. The cron jobs are `reminders/reports.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from domain.periods import PeriodError, period_bounds, period_of
from handlers.context import Services
from handlers.i18n import N_, translate
from handlers.office_labels import RATING_LEVELS
from handlers.office_xlsx import workbook_bytes
from handlers.render import department_name
from handlers.unreached import unreached_section
from storage.models import Problem, Project
from storage.repos.due import CLOSED_PROJECT_STATUSES
from storage.repos.items import ItemFacts
from storage.uow import UnitOfWork

NO_ZONE = "—"
SUBJECT_LABELS = {"team": N_("Agency team"), "enterprise": N_("Enterprise")}
SUMMARY_KEYS = (
    "live",
    "applied",
    "accepted",
    "done",
    "overdue",
    "opened",
    "resolved",
    "open",
    "ratings",
    "bad",
)
SUMMARY_HEADERS = (
    N_("Zone / street"),
    N_("Projects in service"),
    N_("New applications"),
    N_("Accepted in the period"),
    N_("Items completed"),
    N_("Items overdue"),
    N_("Problems raised"),
    N_("Problems resolved"),
    N_("Problems open"),
    N_("Ratings given"),
    N_("Bad reviews"),
)


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


def _t(lang: str, msgid: str, **params: object) -> str:
    return translate(lang, msgid, **params)


@dataclass
class _Period:
    """The facts a report reads, fetched once: projects, items, problems as of a day."""

    services: Services
    lang: str
    first: date
    last: date
    as_of: date
    projects: dict[int, Project]
    items: list[ItemFacts]
    problems: list[Problem]
    names: dict[tuple[str, int | None], str] = field(default_factory=dict)

    async def person(self, uow: UnitOfWork, person_id: int | None) -> str:
        """A person's name, looked up once per report."""
        key = ("person", person_id)
        if key not in self.names:
            self.names[key] = await _person_name(uow, person_id)
        return self.names[key]

    async def department(self, uow: UnitOfWork, department_id: int | None) -> str:
        """A department's name in the report's language, looked up once per report."""
        key = ("department", department_id)
        if key not in self.names:
            self.names[key] = await department_name(uow, department_id, self.lang)
        return self.names[key]

    def local(self, at: datetime) -> date:
        return at.astimezone(self.services.timezone).date()

    def zone(self, location: str | None) -> str:
        """The zone's name in the report's language (the scheme's), else as written."""
        scheme = self.services.scheme
        found = scheme.zone_of(location)
        if found is not None:
            return found.label.en if self.lang == "en" else found.label.zh
        if scheme.zones and location:
            return _t(self.lang, "Other areas")
        return location or NO_ZONE

    def overdue(self) -> list[tuple[int, ItemFacts]]:
        """Items overdue on ``as_of`` as things stood then, worst first."""
        found = []
        for item in self.items:
            if item.state == "not_applicable" or item.due_on is None:
                continue
            if item.done_on is not None and item.done_on <= self.as_of:
                continue
            paused = item.state == "correction_needed" and item.paused_on is not None
            if paused and item.paused_on is not None and item.paused_on <= self.as_of:
                continue  # 补正: the clock stood still
            days = self.services.calendar.workdays_between(item.due_on, self.as_of)
            if days > 0:
                found.append((days, item))
        return sorted(found, key=lambda pair: (-pair[0], pair[1].id))

    def open_problems(self) -> list[Problem]:
        """Problems raised by ``as_of`` and not resolved by then, highest level first."""
        still = [
            p
            for p in self.problems
            if self.local(p.opened_at) <= self.as_of
            and (p.resolved_at is None or self.local(p.resolved_at) > self.as_of)
        ]
        return sorted(still, key=lambda p: (-p.level, p.id))


async def _period(
    uow: UnitOfWork, services: Services, lang: str, first: date, last: date, today: date
) -> _Period:
    projects = {p.id: p for p in await uow.projects.listed()}
    items = await uow.items.facts()
    problems = await uow.problems.every()
    return _Period(services, lang, first, last, min(today, last), projects, items, problems)


async def build_report(
    uow: UnitOfWork, services: Services, kind: str, period: str, lang: str, today: date
) -> Report:
    """The report of ``kind`` for ``period`` as things stood on its last day (or
    ``today``, for a period not over yet)."""
    first, last = period_bounds(kind, period)
    facts = await _period(uow, services, lang, first, last, today)
    titles = {
        "weekly": N_("Weekly dispatch list {period}"),
        "monthly": N_("Monthly report {period}"),
        "quarterly": N_("Quarterly report {period}"),
    }
    report = Report(kind, period, _t(lang, titles.get(kind, titles["monthly"]), period=period))
    report.sections.append(await _summary(uow, facts))
    if kind == "weekly":
        report.sections.append(await _problems_section(uow, facts))
        report.sections.append(await _overdue_section(uow, facts))
        report.sections.append(await _due_section(uow, facts))
        report.sections.append(Section(*await unreached_section(uow, services, lang)))
    else:
        report.sections.append(await _ratings(uow, facts))
    return report


async def _summary(uow: UnitOfWork, facts: _Period) -> Section:
    """One row per zone: what happened in the period and what stood open at its end."""
    lang, first, as_of = facts.lang, facts.first, facts.as_of
    zone_of = {pid: facts.zone(p.zone) for pid, p in facts.projects.items()}
    counts: dict[str, dict[str, int]] = {}

    def add(zone: str, key: str) -> None:
        counts.setdefault(zone, dict.fromkeys(SUMMARY_KEYS, 0))[key] += 1

    tz = facts.services.timezone
    since = datetime.combine(first, time(), tz)
    until = datetime.combine(as_of + timedelta(days=1), time(), tz)
    for app in await uow.due.applications_between(since, until):
        add(facts.zone(str((app.data or {}).get("zone") or "") or None), "applied")
    for p in facts.projects.values():
        accepted = facts.local(p.accepted_at) if p.accepted_at else None
        if accepted is None or accepted > as_of:
            continue
        completion = (p.snapshot or {}).get("completion") or {}
        ended = str(completion.get("at") or "")[:10]
        closed = p.status in CLOSED_PROJECT_STATUSES and (not ended or ended <= as_of.isoformat())
        if not closed:
            add(zone_of[p.id], "live")
        if accepted >= first:
            add(zone_of[p.id], "accepted")
    for item in facts.items:
        if item.done_on is not None and first <= item.done_on <= as_of:
            add(zone_of[item.project_id], "done")
    for _, item in facts.overdue():
        add(zone_of[item.project_id], "overdue")
    for problem in facts.problems:
        zone = zone_of[problem.project_id]
        if first <= facts.local(problem.opened_at) <= as_of:
            add(zone, "opened")
        if problem.resolved_at is not None and first <= facts.local(problem.resolved_at) <= as_of:
            add(zone, "resolved")
    for problem in facts.open_problems():
        add(zone_of[problem.project_id], "open")
    for rating in await uow.ratings.every():
        if rating.project_id in zone_of and first <= facts.local(rating.at) <= as_of:
            add(zone_of[rating.project_id], "ratings")
            if rating.level <= 2:
                add(zone_of[rating.project_id], "bad")
    zones = sorted(counts)
    rows: list[list[str | int]] = [
        [
            zone if zone != NO_ZONE else _t(lang, "(no zone)"),
            *(counts[zone][k] for k in SUMMARY_KEYS),
        ]
        for zone in zones
    ]
    if rows:
        rows.append([_t(lang, "Total"), *(sum(counts[z][k] for z in zones) for k in SUMMARY_KEYS)])
    return Section(_t(lang, "By zone or street"), [_t(lang, h) for h in SUMMARY_HEADERS], rows)


async def _person_name(uow: UnitOfWork, person_id: int | None) -> str:
    if person_id is None:
        return NO_ZONE
    person = await uow.people.get(person_id)
    return person.name if person is not None else NO_ZONE


def _item_name(item: ItemFacts | None, lang: str) -> str:
    if item is None:
        return NO_ZONE
    return item.name_en if lang == "en" else item.name_zh


async def _problems_section(uow: UnitOfWork, facts: _Period) -> Section:
    lang = facts.lang
    by_id = {i.id: i for i in facts.items}
    rows: list[list[str | int]] = []
    for problem in facts.open_problems():
        project = facts.projects[problem.project_id]
        opened = facts.local(problem.opened_at)
        rows.append(
            [
                problem.id,
                problem.level,
                project.code,
                project.name,
                _item_name(by_id.get(problem.item_id or 0), lang),
                max(0, facts.services.calendar.workdays_between(opened, facts.as_of)),
                problem.reason,
            ]
        )
    header = [
        N_("No."),
        N_("Level"),
        N_("Code"),
        N_("Project"),
        N_("Item"),
        N_("Working days open"),
        N_("Reason"),
    ]
    return Section(_t(lang, "Open problems"), [_t(lang, h) for h in header], rows)


def _item_header(lang: str, with_days: bool) -> list[str]:
    header = [N_("Code"), N_("Project"), N_("Item"), N_("Department"), N_("Handled by"), N_("Due")]
    header += [N_("Working days overdue")] if with_days else []
    return [_t(lang, h) for h in header]


async def _overdue_section(uow: UnitOfWork, facts: _Period) -> Section:
    lang = facts.lang
    rows: list[list[str | int]] = []
    for days, item in facts.overdue():
        project = facts.projects[item.project_id]
        rows.append(
            [
                project.code,
                project.name,
                _item_name(item, lang),
                await facts.department(uow, item.department_id),
                await facts.person(uow, item.assignee_id),
                item.due_on.isoformat() if item.due_on else NO_ZONE,
                days,
            ]
        )
    return Section(_t(lang, "Overdue items"), _item_header(lang, True), rows)


async def _due_section(uow: UnitOfWork, facts: _Period) -> Section:
    lang = facts.lang
    rows: list[list[str | int]] = []
    for due in await uow.due.running_due_by(facts.last):
        if due.due_on < facts.first or due.due_on < facts.as_of:
            continue
        project = facts.projects[due.project_id]
        rows.append(
            [
                project.code,
                project.name,
                due.name_en if lang == "en" else due.name_zh,
                await facts.department(uow, due.department_id),
                await facts.person(uow, due.assignee_id),
                due.due_on.isoformat(),
            ]
        )
    return Section(_t(lang, "Due this week"), _item_header(lang, False), rows)


async def _ratings(uow: UnitOfWork, facts: _Period) -> Section:
    """Ratings given in the period (评价结果), with their follow-up state."""
    lang = facts.lang
    code = {p.id: p.code for p in facts.projects.values()}
    rows: list[list[str | int]] = []
    for rating in await uow.ratings.every():
        if not facts.first <= facts.local(rating.at) <= facts.last:
            continue
        rows.append(
            [
                rating.id,
                code.get(rating.project_id, NO_ZONE),
                _t(lang, SUBJECT_LABELS.get(rating.subject, SUBJECT_LABELS["enterprise"])),
                await facts.person(uow, rating.rater_id),
                rating.level,
                _t(lang, RATING_LEVELS.get(rating.level, N_("Fairly satisfied"))),
                rating.comment or "",
                rating.follow_up or "",
            ]
        )
    header = [
        N_("No."),
        N_("Code"),
        N_("Rated"),
        N_("Rated by"),
        N_("Level"),
        N_("Satisfaction"),
        N_("Comment"),
        N_("Follow-up"),
    ]
    return Section(_t(lang, "Ratings"), [_t(lang, h) for h in header], rows)


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


def report_xlsx(report: Report) -> bytes:
    """The report as a workbook: one sheet per section, header frozen and filtered."""
    return workbook_bytes(
        [(f"{i} {s.title}", s.header, s.rows) for i, s in enumerate(report.sections, start=1)]
    )


__all__ = [
    "SUMMARY_KEYS",
    "PeriodError",
    "Report",
    "Section",
    "build_report",
    "period_bounds",
    "period_of",
    "report_xlsx",
    "to_markdown",
]
