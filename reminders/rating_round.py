"""The two-way rating round (双向考评) on the scheme's ``rating_cycle``.

On the first working day of each period (month, quarter or year), or later in the period
and marked late if the bot was down that day, every live project with a butler gets one
round: its enterprise contacts are asked to rate the butler and team, its butler to rate
the enterprise's cooperation. The round is claimed per period in `job_runs` with its
messages, so it runs once per project per period. The same daily job
reminds the office of each bad review whose follow-up day has come and is still open.
"""

from __future__ import annotations

from datetime import datetime

from domain.rating_rounds import period_start, rating_period
from handlers.chat import Button, Outgoing
from handlers.context import Services
from handlers.i18n import N_, gettext, translate
from handlers.postman import Postman
from handlers.rating import ENTERPRISE, TEAM, rate_payload
from reminders.slots import due_slots, in_service_before, late_note
from storage.uow import UnitOfWork

ROUND_JOB = "rating-round"


def _ask(lang: str, subject: str, code: str, name: str, period: str, payload: str) -> Outgoing:
    if subject == TEAM:
        msgid = N_(
            "Rating round {period}: how satisfied are you with the agency team of"
            " project {code} {name}? It takes a minute."
        )
    else:
        msgid = N_(
            "Rating round {period}: please rate the enterprise's cooperation on"
            " project {code} {name}."
        )
    text = translate(lang, msgid, period=period, code=code, name=name)
    return Outgoing(text, buttons=[[Button(gettext(lang, "Rate"), payload)]], notice="rating")


async def start_round(services: Services, at: datetime) -> bool:
    """Ask this period's ratings once, on the period's first working day; later in the
    period, marked late, if the bot was down that day (but in service before it)."""
    cycle = services.scheme.reports.rating_cycle
    today = at.astimezone(services.timezone).date()
    period = rating_period(cycle, today)
    slots = due_slots(services, at, [(period, period_start(cycle, today))])
    if not slots:
        return False
    slot = slots[0]
    async with UnitOfWork(services.db) as uow:
        if not await uow.jobs.claim(ROUND_JOB, period, at):
            return False
        if slot.late and not await in_service_before(uow, services, slot.due):
            return False  # claimed: installed mid-period, the round starts with the next one
        post = Postman(uow, at, f"rating-round:{period}")
        for project in await uow.due.live_projects():
            if project.butler_id is None:
                continue
            askers = [
                (m.person_id, TEAM)
                for m in await uow.members.of_project(project.id)
                if m.role == "enterprise"
            ]
            askers.append((project.butler_id, ENTERPRISE))
            for person_id, subject in askers:
                person = await uow.people.get(person_id)
                if person is None or not person.active:
                    continue
                payload = rate_payload(project.id, subject, period)
                out = _ask(person.lang, subject, project.code, project.name, period, payload)
                if slot.late:
                    out.text = f"{late_note(person.lang, slot.due)}\n{out.text}"
                await post.to_person(person.id, out, f"p{project.id}:{subject}:u{person.id}")
        await uow.events.append("rating.round", at=at, data={"period": period})
    return True


async def remind_follow_ups(services: Services, at: datetime) -> int:
    """Remind the office, once, of each open bad-review follow-up due today or earlier."""
    local = at.astimezone(services.timezone)
    today, hours = local.date(), services.scheme.reminders.working_hours
    if not services.calendar.is_workday(today) or not hours.start <= local.time() < hours.end:
        return 0
    sent = 0
    async with UnitOfWork(services.db) as uow:
        post = Postman(uow, at, "followup-due")
        for rating in await uow.ratings.open_follow_ups():
            if rating.follow_up_due is None or rating.follow_up_due > today:
                continue
            project = await uow.projects.get(rating.project_id)
            if project is None:
                continue
            for person in await uow.people.with_role("office"):
                text = translate(
                    person.lang,
                    "Follow-up #{id} of project {code} {name} is due {due} and still open."
                    " Please call back, rectify, and close it with /followup {id} NOTE.",
                    id=rating.id,
                    code=project.code,
                    name=project.name,
                    due=rating.follow_up_due.isoformat(),
                )
                sent += await post.to_person(
                    person.id, Outgoing(text), f"r{rating.id}:u{person.id}"
                )
    return sent


async def rating_job(services: Services, at: datetime) -> None:
    """The daily rating job: start the period's round, remind due follow-ups."""
    await start_round(services, at)
    await remind_follow_ups(services, at)


__all__ = ["ROUND_JOB", "rating_job", "rating_period", "remind_follow_ups", "start_round"]
