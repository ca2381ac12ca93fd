"""Reminding the office of unanswered questions (咨询工单提醒, 首问负责).

A question still waiting for a staff member after the scheme's
``consultation.ticket_reminder_work_hours`` working hours (office hours on working days
only) reminds every office member once; the dedupe key names the ticket and the person,
so a restart or a second replica never sends it twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.calendar import WorkCalendar
from domain.scheme import WorkingHours
from handlers.chat import Button, Outgoing
from handlers.context import Services
from handlers.i18n import gettext, translate
from handlers.postman import Postman
from reminders.stalled_forms import in_working_hours
from storage.uow import UnitOfWork

_MAX_DAYS = 400  # a ticket older than this has long been reminded


def working_time_between(
    start: datetime, end: datetime, calendar: WorkCalendar, hours: WorkingHours
) -> timedelta:
    """Office time on working days between two local, aware datetimes."""
    total = timedelta(0)
    day = start.date()
    for _ in range(_MAX_DAYS):
        if day > end.date():
            break
        if calendar.is_workday(day):
            opens = datetime.combine(day, hours.start, start.tzinfo)
            closes = datetime.combine(day, hours.end, start.tzinfo)
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


async def remind_open_tickets(services: Services, at: datetime) -> int:
    """Remind the office of tickets open for too many working hours; returns messages queued."""
    if not in_working_hours(services, at):
        return 0
    scheme = services.scheme
    due_after = timedelta(hours=scheme.consultation.ticket_reminder_work_hours)
    # Cheap pre-filter: a ticket younger than the wall-clock limit cannot be due.
    cutoff = at - due_after
    local_at = at.astimezone(services.timezone)
    hours = scheme.reminders.working_hours
    sent = 0
    async with UnitOfWork(services.db) as uow:
        post = Postman(uow, at, "ticket-reminder")
        office = await uow.people.with_role("office")
        for ticket in await uow.tickets.open_since(cutoff):
            assert ticket.opened_at is not None
            opened = ticket.opened_at.astimezone(services.timezone)
            if working_time_between(opened, local_at, services.calendar, hours) < due_after:
                continue
            asker = await uow.people.get(ticket.asker_id)
            for member in office:
                text = translate(
                    member.lang,
                    "**Reminder: question #{number}** from {name} has waited {hours} working "
                    "hours for an answer:\n{question}",
                    number=ticket.id,
                    name=asker.name if asker else "—",
                    hours=scheme.consultation.ticket_reminder_work_hours,
                    question=ticket.question,
                )
                button = Button(gettext(member.lang, "Take it"), f"ticket:take:{ticket.id}")
                out = Outgoing(text, buttons=[[button]])
                if await post.to_person(member.id, out, f"{ticket.id}:{member.id}"):
                    sent += 1
    return sent


__all__ = ["remind_open_tickets", "working_time_between"]
