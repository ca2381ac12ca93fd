"""A gentle nudge for a form left half-filled (未完成表单提醒).

Someone who stopped halfway through a form yesterday gets one reminder on the next working
day, in working hours, saying how to continue. Once per pause: the dedupe key names the
conversation and the moment it was last touched.
"""

from __future__ import annotations

from datetime import datetime, time

from handlers.context import Services
from handlers.forms import FORMS
from handlers.i18n import gettext, translate
from handlers.postman import Postman
from storage.uow import UnitOfWork


def in_working_hours(services: Services, at: datetime) -> bool:
    """Working day, and inside the scheme's working hours (local time)."""
    local = at.astimezone(services.timezone)
    hours = services.scheme.reminders.working_hours
    return services.calendar.is_workday(local.date()) and hours.start <= local.time() < hours.end


async def remind_stalled_forms(services: Services, at: datetime) -> int:
    """Remind everyone whose form has been untouched since before today; returns how many."""
    if not in_working_hours(services, at):
        return 0
    local_midnight = datetime.combine(
        at.astimezone(services.timezone).date(), time(0), services.timezone
    )
    sent = 0
    async with UnitOfWork(services.db) as uow:
        post = Postman(uow, at, "form-reminder")
        for conv in await uow.conversations.untouched_since(local_midnight, limit=500):
            form = FORMS.get(conv.form or "")
            person = await uow.people.get(conv.person_id)
            if form is None or person is None:
                continue
            text = translate(
                person.lang,
                "You have an unfinished form: {title}. Send /resume to continue where you stopped,"
                " or /cancel to drop it.",
                title=gettext(person.lang, form.title),
            )
            # Once per pause: the key names the conversation and when it was last touched.
            pause = f"{conv.id}:{conv.updated_at.isoformat()}"
            if await post.to_chat(
                conv.platform, conv.chat_external_id, text, pause, person_id=person.id
            ):
                sent += 1
    return sent
