"""Quarterly statistics of government–enterprise activities (政企互动季度统计).

Guangzhou's seed: each department files the previous quarter's statistics (face-to-face
events, trainings, participants, questions answered) within the first 5 working days of a
quarter. Any scheme that sets ``reports.quarterly_statistics_within_workdays`` gets:

- on the quarter's first working day, the office receives the previous quarter's table
  per department (Markdown in the chat, the same as an XLSX file);
- on the working day before the deadline, each department with nothing recorded for that
  quarter is reminded (its specialists, once), so it can still file in time.

Both slots are claimed per quarter in `job_runs`, and go out late, marked, after downtime.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from handlers.activity import KINDS
from handlers.chat import Attachment, Outgoing
from handlers.context import Services
from handlers.i18n import gettext
from handlers.postman import Postman
from reminders.report_files import XLSX_MIME, report_xlsx
from reminders.reports import Report, Section, period_bounds, period_of, to_markdown
from reminders.slots import Slot, due_slots, in_service_before, late_note
from storage.models import Activity
from storage.uow import UnitOfWork

STATISTICS_JOB = "quarterly-statistics"
REMINDER_JOB = "quarterly-statistics-reminder"


def _t(lang: str, msgid: str, **params: object) -> str:
    text = gettext(lang, msgid)
    return text.format(**params) if params else text


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def reported_quarter(day: date) -> str:
    """The quarter whose statistics are filed in the quarter containing ``day``."""
    start = quarter_start(day)
    return period_of("quarterly", date.fromordinal(start.toordinal() - 1))


async def build_statistics(uow: UnitOfWork, quarter: str, lang: str) -> Report:
    """The quarter's table per department, and every activity, in ``lang``."""
    first, last = period_bounds("quarterly", quarter)
    activities = await uow.activities.held_between(first, last)
    departments = await uow.departments.all()
    names: dict[int | None, str] = {
        d.id: (d.name_en if lang == "en" else d.name_zh) for d in departments
    }
    names[None] = _t(lang, "Office (no department)")
    by_dept: dict[int | None, list[Activity]] = {d: [] for d in await _filing_departments(uow)}
    for activity in activities:
        by_dept.setdefault(activity.department_id, []).append(activity)
    rows: list[list[str | int]] = []
    # The roster's order (the scheme lists its departments), the office last.
    for dept, done in sorted(by_dept.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
        kinds = Counter(a.kind for a in done)
        rows.append(
            [
                names[dept],
                len(done),
                kinds["face_to_face"],
                kinds["training"],
                kinds["site_visit"] + kinds["other"],
                sum(a.enterprises for a in done),
                sum(a.participants for a in done),
                sum(a.questions for a in done),
            ]
        )
    totals: list[str | int] = [_t(lang, "Total")]
    totals += [sum(int(row[i]) for row in rows) for i in range(1, 8)]
    header = [
        _t(lang, "Department"),
        _t(lang, "Activities"),
        _t(lang, "Face-to-face"),
        _t(lang, "Trainings"),
        _t(lang, "Site visits and other"),
        _t(lang, "Enterprises"),
        _t(lang, "Participants"),
        _t(lang, "Questions answered"),
    ]
    kind_names = {kind: _t(lang, msgid) for kind, msgid in KINDS.items()}
    details: list[list[str | int]] = [
        [
            a.held_on.isoformat(),
            names[a.department_id],
            kind_names.get(a.kind, kind_names["other"]),
            a.enterprises,
            a.participants,
            a.questions,
            a.topics,
        ]
        for a in activities
    ]
    return Report(
        kind="quarterly",
        period=quarter,
        title=_t(lang, "Government–enterprise activities, {quarter}", quarter=quarter),
        sections=[
            Section(_t(lang, "By department"), header, [*rows, totals]),
            Section(
                _t(lang, "Activities"),
                [
                    _t(lang, "Date"),
                    _t(lang, "Department"),
                    _t(lang, "Kind"),
                    _t(lang, "Enterprises"),
                    _t(lang, "Participants"),
                    _t(lang, "Questions answered"),
                    _t(lang, "Topics"),
                ],
                details,
            ),
        ],
    )


async def _filing_departments(uow: UnitOfWork) -> set[int]:
    """Departments that file: those with an active specialist on the roster."""
    found: set[int] = set()
    for person in await uow.people.with_role("specialist"):
        found |= {r.department_id for r in await uow.people.roles_of(person.id) if r.department_id}
    return found


async def send_quarterly_statistics(services: Services, at: datetime) -> bool:
    """On a quarter's first working day: the previous quarter's table to the office, once."""
    if services.scheme.reports.quarterly_statistics_within_workdays is None:
        return False
    today = at.astimezone(services.timezone).date()
    quarter = reported_quarter(today)
    sent = False
    for slot in due_slots(services, at, [(quarter, quarter_start(today))]):
        sent = await _send_statistics(services, at, slot) or sent
    return sent


async def _send_statistics(services: Services, at: datetime, slot: Slot) -> bool:
    async with UnitOfWork(services.db) as uow:
        if not await uow.jobs.claim(STATISTICS_JOB, slot.period, at):
            return False
        if slot.late and not await in_service_before(uow, services, slot.due):
            return False
        post = Postman(uow, at, f"quarterly-statistics:{slot.period}")
        files: dict[str, Attachment] = {}
        for person in await uow.people.with_role("office"):
            report = await build_statistics(uow, slot.period, person.lang)
            text = to_markdown(report)
            if slot.late:
                text = f"{late_note(person.lang, slot.due)}\n\n{text}"
            if person.lang not in files:  # one file per language, attached to each message
                data = report_xlsx(report)
                name = f"{report.title}.xlsx".replace("/", "-")
                ref = await uow.files.add(name, XLSX_MIME, data, at)
                files[person.lang] = Attachment(name, XLSX_MIME, len(data), ref)
            await post.to_person(person.id, Outgoing(text), f"u{person.id}")
            caption = _t(person.lang, "The same table as a spreadsheet.")
            file = Outgoing(caption, attachment=files[person.lang])
            await post.to_person(person.id, file, f"u{person.id}:xlsx")
    return True


async def remind_missing_statistics(services: Services, at: datetime) -> bool:
    """On the working day before the deadline: remind departments with nothing recorded."""
    within = services.scheme.reports.quarterly_statistics_within_workdays
    if within is None or within < 2:
        return False
    today = at.astimezone(services.timezone).date()
    calendar = services.calendar
    first_day = calendar.next_workday(quarter_start(today))
    deadline = calendar.add_workdays(first_day, within - 1)
    quarter = reported_quarter(today)
    slots = due_slots(services, at, [(quarter, calendar.add_workdays(first_day, within - 2))])
    if not slots or today > deadline:
        return False  # past the deadline a reminder no longer helps; the table is out
    slot = slots[0]
    async with UnitOfWork(services.db) as uow:
        if not await uow.jobs.claim(REMINDER_JOB, quarter, at):
            return False
        first, last = period_bounds("quarterly", quarter)
        filed = {a.department_id for a in await uow.activities.held_between(first, last)}
        post = Postman(uow, at, f"quarterly-reminder:{quarter}")
        for person in await uow.people.with_role("specialist"):
            depts = {r.department_id for r in await uow.people.roles_of(person.id)}
            missing = sorted(d for d in depts if d is not None and d not in filed)
            if not missing:
                continue
            name = await uow.departments.name(missing[0], person.lang) or "—"
            text = _t(
                person.lang,
                "{department} has recorded no government–enterprise activity for {quarter}."
                " The statistics are due by {deadline}: record each activity with /activity.",
                department=name,
                quarter=quarter,
                deadline=deadline.isoformat(),
            )
            if slot.late:
                text = f"{late_note(person.lang, slot.due)}\n{text}"
            await post.to_person(person.id, Outgoing(text), f"u{person.id}")
    return True


async def quarterly_job(services: Services, at: datetime) -> None:
    """The daily quarterly-statistics job: the table on its day, the reminder on its day."""
    await send_quarterly_statistics(services, at)
    await remind_missing_statistics(services, at)


__all__ = [
    "REMINDER_JOB",
    "STATISTICS_JOB",
    "build_statistics",
    "quarterly_job",
    "remind_missing_statistics",
    "send_quarterly_statistics",
]
