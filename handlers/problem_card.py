"""A grouped problem's card (问题卡片): what one problem of a project lists, as of today.

A problem lists several overdue items of one project; its card shows each item with its
department, working days overdue, nudges so far and specialist — or says that the
department has no specialist on the team, or that the specialist was never reachable.
The reason is recomputed every time the card is shown (days overdue today, nudges sent so
far), never the words frozen when the problem opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.calendar import WorkCalendar
from domain.items import workdays_overdue as item_workdays_overdue
from domain.scheme import Scheme
from handlers.i18n import N_
from handlers.postman import Postman
from handlers.projects import item_state
from handlers.render import Speaks, department_name, item_name
from storage.models import ChecklistItem, Person, Problem, Project

CLOSED = ("done", "not_applicable")


@dataclass(frozen=True)
class ItemFacts:
    """One item of a problem as it stands today."""

    item: ChecklistItem
    overdue: int  # working days overdue today (0: not overdue, paused or closed)
    nudges: int
    specialist: Person | None
    reachable: bool  # the specialist has a chat I can write to
    reason: str | None  # what a person wrote when reporting it up

    @property
    def closed(self) -> bool:
        return self.item.state in CLOSED


def workdays_overdue(item: ChecklistItem, today: date, calendar: WorkCalendar) -> int:
    """The item's working days overdue today; 0 when closed, paused (补正) or not late."""
    return item_workdays_overdue(item_state(item), today, calendar)


async def gather_items(
    post: Postman, problem: Problem, today: date, calendar: WorkCalendar
) -> list[ItemFacts]:
    """The problem's items, oldest overdue first (closed ones last)."""
    return (await gather_many(post, [problem], today, calendar))[problem.id]


async def gather_many(
    post: Postman, problems: list[Problem], today: date, calendar: WorkCalendar
) -> dict[int, list[ItemFacts]]:
    """`gather_items` of many problems, by problem id: the items, their nudges and the
    links read in three queries whatever their number."""
    uow = post.uow
    links = await uow.problems.items_of_many([p.id for p in problems])
    pairs: dict[int, list[tuple[int, str | None]]] = {}
    for problem in problems:
        if not links[problem.id] and problem.item_id is not None:  # before problems listed items
            pairs[problem.id] = [(problem.item_id, None if problem.auto else problem.reason)]
        else:
            pairs[problem.id] = [(link.item_id, link.reason) for link in links[problem.id]]
    item_ids = sorted({i for found in pairs.values() for i, _ in found})
    items = await uow.items.many(item_ids)
    nudges = await uow.due.nudge_counts(list(items))
    await post.learn(people=[i.assignee_id for i in items.values() if i.assignee_id is not None])
    out: dict[int, list[ItemFacts]] = {}
    for problem in problems:
        facts: list[ItemFacts] = []
        for item_id, reason in pairs[problem.id]:
            item = items.get(item_id)
            if item is None:
                continue
            person = await post.person(item.assignee_id) if item.assignee_id is not None else None
            reachable = person is not None and person.active
            if reachable and person is not None:
                reachable = await post.account(person.id) is not None
            facts.append(
                ItemFacts(
                    item=item,
                    overdue=workdays_overdue(item, today, calendar),
                    nudges=nudges.get(item.id, 0),
                    specialist=person,
                    reachable=reachable,
                    reason=reason,
                )
            )
        facts.sort(key=lambda f: (f.closed, -f.overdue, f.item.id))
        out[problem.id] = facts
    return out


def oldest_overdue(facts: list[ItemFacts]) -> int:
    """The working days overdue of the problem's oldest item (what sets its rung)."""
    return max((f.overdue for f in facts), default=0)


def reason_today(say: Speaks, problem: Problem, facts: list[ItemFacts]) -> str:
    """The problem's reason as of today: lateness and nudges now, and what people wrote."""
    parts: list[str] = []
    oldest = oldest_overdue(facts)
    if oldest > 0:
        late = sum(1 for f in facts if f.overdue > 0)
        parts.append(
            say._(
                "{late} item(s) overdue, the oldest by {n} working days; "
                "{nudges} nudges sent so far",
                late=late,
                n=oldest,
                nudges=sum(f.nudges for f in facts),
            )
        )
    colon, semicolon = (": ", "; ") if say.lang == "en" else ("：", "；")
    given = [f"{item_name(say, f.item)}{colon}{f.reason}" for f in facts if f.reason]
    if not facts and not problem.auto:
        given.append(problem.reason)
    parts += given
    if not parts:
        parts.append(say._("no item is overdue any more"))
    return semicolon.join(parts)


NO_SPECIALIST = N_("{dept} has no {specialist} on this team — /assign")
NEVER_REACHED = N_("{role} {name} (never reachable: no chat with me; not told)")


async def item_line(say: Speaks, scheme: Scheme, post: Postman, facts: ItemFacts) -> str:
    """`· 供电接入 — 供电公司 — 逾期3个工作日 — 服务专员 孙丽 — 已催办2次`."""
    dept = await department_name(post.uow, facts.item.department_id, say.lang)
    role = say.label(scheme.roles.specialist)
    if facts.closed:
        state = say._("closed")
    elif facts.item.paused_on is not None:
        state = say._("paused for corrections")
    elif facts.overdue > 0:
        state = say._("{n} working days overdue", n=facts.overdue)
    else:
        state = say._("not overdue")
    if facts.specialist is None:
        who = say._(NO_SPECIALIST, dept=dept, specialist=role)
    elif not facts.reachable:
        who = say._(NEVER_REACHED, role=role, name=facts.specialist.name)
    else:
        who = f"{role} {facts.specialist.name}"
    parts = [item_name(say, facts.item), dept, state, who]
    if facts.nudges:
        parts.append(say._("{n} nudges", n=facts.nudges))
    return "  · " + " — ".join(parts)


def silent_items(facts: list[ItemFacts]) -> list[ItemFacts]:
    """The open items no specialist was ever told of (none on the team, or unreachable)."""
    return [f for f in facts if not f.closed and (f.specialist is None or not f.reachable)]


def silent_note(say: Speaks, scheme: Scheme, facts: list[ItemFacts]) -> str:
    """What a card above the first rung says of its silent items."""
    return say._(
        "Note: {n} item(s) above were never told to any {specialist} "
        "(none on the team, or never reachable); the problem climbed past "
        "level 1 without them.",
        n=len(silent_items(facts)),
        specialist=say.label(scheme.roles.specialist),
    )


async def card_body(
    say: Speaks,
    scheme: Scheme,
    post: Postman,
    project: Project,
    problem: Problem,
    facts: list[ItemFacts],
    *,
    above_bottom: bool,
) -> str:
    """The card below its headline: project, items, warnings, reason."""
    lines = [say._("Project: {name} ({code})", name=project.name, code=project.code)]
    if facts:
        lines.append(say._("Items ({n}):", n=len(facts)))
        lines += [await item_line(say, scheme, post, f) for f in facts]
    if above_bottom and silent_items(facts):
        lines.append(silent_note(say, scheme, facts))
    lines.append(say._("Reason: {reason}", reason=reason_today(say, problem, facts)))
    return "\n".join(lines)


__all__ = [
    "NO_SPECIALIST",
    "ItemFacts",
    "card_body",
    "gather_items",
    "gather_many",
    "item_line",
    "oldest_overdue",
    "reason_today",
    "silent_items",
    "silent_note",
    "workdays_overdue",
]
