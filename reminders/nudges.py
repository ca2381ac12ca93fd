"""Nudges (催办提醒): before due, on the due day, and each working day overdue.

One nudge per item per day, in the project group @mentioning the responsible specialist
(and their backup once the item is more than ``backup_after_overdue_workdays`` overdue)
and to each of them directly. Items paused for 补正 are not in the scan at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.calendar import WorkCalendar
from domain.scheme import Reminders
from handlers import log_context
from handlers.chat import Outgoing
from handlers.context import Services
from handlers.i18n import N_, translate
from handlers.postman import Postman
from handlers.problems import GROUP_LANG, mention_line
from storage.models import Person
from storage.repos.due import NUDGE_EVENT, DueItem
from storage.uow import UnitOfWork

BEFORE, DUE_TODAY, OVERDUE = "before_due", "due_today", "overdue"


@dataclass(frozen=True, slots=True)
class Nudge:
    """What to say about one item today."""

    item: DueItem
    kind: str
    days: int  # working days left (before due) or overdue
    with_backup: bool


def decide_nudges(
    items: list[DueItem], today: date, calendar: WorkCalendar, rules: Reminders
) -> list[Nudge]:
    """Pure: which of the scanned items get a nudge today, and which kind."""
    left_by_due: dict[date, int] = {}
    nudges: list[Nudge] = []
    for item in items:
        left = left_by_due.get(item.due_on)
        if left is None:
            left = left_by_due[item.due_on] = calendar.workdays_between(today, item.due_on)
        if left > 0:
            if left == rules.before_due_workdays:
                nudges.append(Nudge(item, BEFORE, left, False))
        elif left == 0:
            nudges.append(Nudge(item, DUE_TODAY, 0, False))
        else:
            late = -left
            nudges.append(Nudge(item, OVERDUE, late, late > rules.backup_after_overdue_workdays))
    return nudges


def nudge_text(lang: str, nudge: Nudge, project: str, due_on: date) -> str:
    """The nudge in ``lang``."""
    item = nudge.item.name_en if lang == "en" else nudge.item.name_zh
    if nudge.kind == BEFORE:
        msgid = N_("Reminder: {item} of {project} is due on {due} ({n} working days left).")
    elif nudge.kind == DUE_TODAY:
        msgid = N_(
            "Due today: {item} of {project}. Please finish it or tell the butler what blocks it."
        )
    else:
        msgid = N_(
            "Overdue by {n} working days: {item} of {project} (due {due})."
            " Please update its status or tell the butler what blocks it."
        )
    return translate(lang, msgid, item=item, project=project, due=due_on, n=nudge.days)


async def send_nudges(
    uow: UnitOfWork, services: Services, at: datetime, today: date, items: list[DueItem]
) -> int:
    """Write today's nudges to the outbox (keys name item, day and recipient); how many."""
    post = Postman(uow, at, "nudge")
    names = await uow.due.project_labels(sorted({i.project_id for i in items}))
    sent = 0
    backups: dict[tuple[int, int], list[Person]] = {}  # a specialist's, once per project
    for nudge in decide_nudges(items, today, services.calendar, services.scheme.reminders):
        item = nudge.item
        log_context.bind_project(item.project_id)
        if item.assignee_id is None:
            continue
        specialist = await post.person(item.assignee_id)
        if specialist is None:
            continue
        people: list[Person] = [specialist]
        if nudge.with_backup:
            pair = (item.project_id, specialist.id)
            if pair not in backups:
                backups[pair] = await uow.due.backups_of(*pair)
            people += backups[pair]
        project = names[item.project_id][1]
        key = f"i{item.item_id}:{today.isoformat()}"
        mentions, refs = mention_line(people)
        group = Outgoing(
            f"{mentions} {nudge_text(GROUP_LANG, nudge, project, item.due_on)}", mentions=refs
        )
        new = await post.to_project_groups(item.project_id, group, key)
        for person in people:
            text = nudge_text(person.lang, nudge, project, item.due_on)
            new += await post.to_person(person.id, Outgoing(text), f"{key}:u{person.id}")
        if new:
            sent += new
            await uow.events.append(
                NUDGE_EVENT,
                at=at,
                project_id=item.project_id,
                item_id=item.item_id,
                data={"kind": nudge.kind, "days": nudge.days, "to": [p.id for p in people]},
            )
    return sent
