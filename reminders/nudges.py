"""Nudges (催办提醒): before due, on the due day, and each working day overdue.

What is said about each item today is decided here, purely (`decide_nudges`); who hears
it is `plan_morning`'s: the item's own specialist, their backup once the item is more
than ``backup_after_overdue_workdays`` overdue, the butler for what is overdue in their
projects, and — for an item nobody on the team handles — the butler and the office.
The morning message (reminders/morning.py) then says it all in one DM per person and one
group message per project. Items paused for 补正 are not in the scan at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from domain.calendar import WorkCalendar
from domain.scheme import Reminders
from storage.repos.due import DueItem

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


@dataclass
class Inbox:
    """What one person hears this morning: their own items, and items nobody handles."""

    mine: list[Nudge] = field(default_factory=list)
    unassigned: list[Nudge] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.mine or self.unassigned)


@dataclass
class MorningPlan:
    """Today's round: each person's inbox, and per project the nudges and who to @."""

    inboxes: dict[int, Inbox] = field(default_factory=dict)
    projects: dict[int, list[Nudge]] = field(default_factory=dict)
    recipients: dict[int, list[int]] = field(default_factory=dict)  # item → who hears it
    mentioned: dict[int, list[int]] = field(default_factory=dict)  # item → who to @ for it
    unassigned: set[int] = field(default_factory=set)  # items nobody on the team handles

    def inbox(self, person_id: int) -> Inbox:
        return self.inboxes.setdefault(person_id, Inbox())


def plan_morning(
    nudges: list[Nudge],
    specialists: Mapping[int, int | None],
    backups: Mapping[tuple[int, int], list[int]],
    butlers: Mapping[int, int | None],
    office: list[int],
) -> MorningPlan:
    """Pure: who hears which nudge.

    ``specialists`` maps an item to its active specialist (None: nobody handles it);
    ``backups`` a (project, specialist) pair to the backups; ``butlers`` a project to its
    butler. A nudge reaches the item's own specialist only (never another department's),
    the backups once the backup rule applies, and the butler when the item is overdue; an
    item with no specialist is named to the butler and the office instead.
    """
    plan = MorningPlan()
    for nudge in nudges:
        item = nudge.item
        plan.projects.setdefault(item.project_id, []).append(nudge)
        mentioned = plan.mentioned.setdefault(item.item_id, [])
        heard: list[int] = []
        butler = butlers.get(item.project_id)
        specialist = specialists.get(item.item_id)
        if specialist is None:
            plan.unassigned.add(item.item_id)
            for person in ([butler] if butler is not None else []) + office:
                plan.inbox(person).unassigned.append(nudge)
                heard.append(person)
            if butler is not None:
                mentioned.append(butler)
        else:
            people = [specialist]
            if nudge.with_backup:
                people += backups.get((item.project_id, specialist), [])
            for person in people:
                plan.inbox(person).mine.append(nudge)
                heard.append(person)
                mentioned.append(person)
            if nudge.kind == OVERDUE and butler is not None and butler not in people:
                plan.inbox(butler).mine.append(nudge)
                heard.append(butler)
        plan.recipients[item.item_id] = list(dict.fromkeys(heard))
    return plan


__all__ = [
    "BEFORE",
    "DUE_TODAY",
    "OVERDUE",
    "Inbox",
    "MorningPlan",
    "Nudge",
    "decide_nudges",
    "plan_morning",
]
