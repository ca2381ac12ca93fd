"""The periodic reports' jobs (定期报表发送): the office's weekly dispatch list (每周调度清单)
on the scheme's weekday, the monthly report per zone (月度报送, Jinniu: on the 25th).

The reports themselves are `handlers/period_report.py` (also drawn by `/report` and
`daiban report`). When the scheme's day is not a working day they go out on the next
working day. A period whose day passed while the bot was down goes out late, marked so
(`reminders/slots.py`). Each slot is claimed in `job_runs` with the period as key, in the
same transaction as the messages.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from handlers.chat import Outgoing
from handlers.context import Services
from handlers.period_report import (
    PeriodError,
    Report,
    Section,
    build_report,
    period_bounds,
    period_of,
    to_markdown,
)
from handlers.postman import Postman
from reminders.slots import Slot, due_slots, in_service_before, late_note
from storage.uow import UnitOfWork

WEEKLY_JOB = "weekly-dispatch"
MONTHLY_JOB = "monthly-report"


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
