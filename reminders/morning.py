"""The morning message (晨间待办): one DM per person and one group message per project.

At the round's time each specialist, backup and butler gets at most one DM listing what
is theirs today — overdue, due today, due soon, items nobody on the team handles, and
problems they must act on — with a button per item, instead of one DM per item. The
office hears only of items that need its action (no specialist: /assign). Each project
group gets one message with the @mentions. Someone quiet (`/mute`) gets no DM, unless a
problem of theirs stands at the leader's rung. Every key names the day and the reader,
so a round re-run the same day sends nothing twice; the nudge log (`NUDGE_EVENT`) gets
a line per item only when a message about it was new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.items import TRANSITIONS, Action, Status, legal_actions
from domain.ladder import Ladder, ladders_by_project
from domain.scheme import Roles
from handlers import log_context
from handlers.chat import Button, Outgoing
from handlers.context import Services
from handlers.i18n import N_
from handlers.item_moves import ACTION_LABELS
from handlers.postman import Postman
from handlers.problem_card import ItemFacts, gather_items, reason_today
from handlers.problem_notices import GROUP_LANG, mention_line
from handlers.render import Voice
from reminders.nudges import (
    BEFORE,
    DUE_TODAY,
    OVERDUE,
    Inbox,
    MorningPlan,
    Nudge,
    decide_nudges,
    plan_morning,
)
from storage.models import Department, Person, Problem
from storage.repos.due import NUDGE_EVENT, DueItem
from storage.uow import UnitOfWork

SHOWN = 25  # item lines in one DM; the rest are counted, /status lists them all
ITEM_BUTTONS, ACK_BUTTONS = 6, 2  # buttons under one DM: the most urgent items, problems
FORWARD = (Action.SUBMIT, Action.START_REVIEW, Action.COMPLETE)

SECTIONS = {
    OVERDUE: N_("Overdue ({n}):"),
    DUE_TODAY: N_("Due today ({n}):"),
    BEFORE: N_("Due soon ({n}):"),
}
LINES = {
    OVERDUE: N_("{item} — overdue by {n} working days (due {due})"),
    DUE_TODAY: N_("{item} — due today"),
    BEFORE: N_("{item} — due on {due} ({n} working days left)"),
}
UNASSIGNED = N_("{item}: {department} has no {specialist} on this team — /assign")


@dataclass
class Reading:
    """What the round read once: names, departments, ladders, open problems."""

    projects: dict[int, tuple[str, str]]
    departments: dict[int, Department]
    roles: Roles  # the scheme's own words for the roles
    ladders: dict[int, Ladder]
    problems: dict[int, list[Problem]]  # by the person who must act on them
    butlers: dict[int, int | None]  # by project
    facts: dict[int, list[ItemFacts]]  # by problem: its items today, for the reason shown


def item_line(say: Voice, nudge: Nudge) -> str:
    """One item in the reader's words (without its project)."""
    item = nudge.item
    name = item.name_en if say.lang == "en" else item.name_zh
    return say._(LINES[nudge.kind], item=name, n=nudge.days, due=item.due_on.isoformat())


def unassigned_line(say: Voice, nudge: Nudge, reading: Reading) -> str:
    """An item nobody on the team handles, naming its department and the fix."""
    item = nudge.item
    dept = reading.departments.get(item.department_id) if item.department_id else None
    return say._(
        UNASSIGNED,
        item=item.name_en if say.lang == "en" else item.name_zh,
        department=(dept.name_en if say.lang == "en" else dept.name_zh) if dept else "—",
        specialist=say.label(reading.roles.specialist),
    )


def item_button(say: Voice, item: DueItem, role: str) -> Button | None:
    """The item's next step for ``role`` as a button (the item card's own callback)."""
    for action in legal_actions(Status(item.state), role):
        if action in FORWARD and not TRANSITIONS[(Status(item.state), action)].needs_reason:
            name = item.name_en if say.lang == "en" else item.name_zh
            return Button(
                f"{name} · {say._(ACTION_LABELS[action])}", f"it:{item.item_id}:{action.value}"
            )
    return None


def dm_text(say: Voice, person: Person, today: date, inbox: Inbox, reading: Reading) -> Outgoing:
    """The morning DM: sections of items by urgency, then problems; a button per item."""
    lines = [say._("Good morning, {name}: your list for {date}.", name=person.name, date=today)]
    buttons: list[list[Button]] = []
    shown = hidden = acks = 0

    def add(project_id: int, text: str) -> None:
        nonlocal shown, hidden
        if shown < SHOWN:
            lines.append(f"· {reading.projects[project_id][1]} · {text}")
            shown += 1
        else:
            hidden += 1

    for kind in (OVERDUE, DUE_TODAY, BEFORE):
        nudges = [n for n in inbox.mine if n.kind == kind]
        if not nudges:
            continue
        lines.append(say._(SECTIONS[kind], n=len(nudges)))
        for nudge in sorted(nudges, key=lambda n: (-n.days, n.item.project_id, n.item.item_id)):
            add(nudge.item.project_id, item_line(say, nudge))
            role = "backup"
            if nudge.item.assignee_id == person.id:
                role = "specialist"
            elif reading.butlers.get(nudge.item.project_id) == person.id:
                role = "butler"
            button = item_button(say, nudge.item, role)
            if button is not None and len(buttons) < ITEM_BUTTONS:
                buttons.append([button])
    if inbox.unassigned:
        specialist = say.label(reading.roles.specialist)
        lines.append(
            say._(
                "No {specialist} on the team ({n}):", specialist=specialist, n=len(inbox.unassigned)
            )
        )
        for nudge in inbox.unassigned:
            add(nudge.item.project_id, unassigned_line(say, nudge, reading))
    problems = reading.problems.get(person.id, [])
    if problems:
        lines.append(say._("Problems to act on ({n}):", n=len(problems)))
        for problem in problems:
            rung = reading.ladders[problem.project_id].rung_at(problem.level)
            add(
                problem.project_id,
                say._(
                    "Problem #{id} at level {level} ({dispatcher}): {reason}",
                    id=problem.id,
                    level=rung.level,
                    dispatcher=rung.dispatcher.text(say.lang),
                    reason=reason_today(say, problem, reading.facts.get(problem.id, [])),
                ),
            )
            butler = reading.butlers.get(problem.project_id) == person.id
            if butler and problem.state == "open" and acks < ACK_BUTTONS:
                acks += 1
                label = say._("Acknowledge #{id}", id=problem.id)
                buttons.append([Button(label, f"problem:ack:{problem.id}")])
    if hidden:
        lines.append(say._("… and {more} more: /status", more=hidden))
    lines.append(say._("Tap an item to move it on, or /log what blocks it."))
    return Outgoing("\n".join(lines), buttons=buttons)


def group_text(
    nudges: list[Nudge],
    people: dict[int, Person],
    plan: MorningPlan,
    reading: Reading,
) -> Outgoing:
    """The project group's one message of the day, @mentioning whoever must act."""
    say = Voice(GROUP_LANG)
    nudges = sorted(nudges, key=lambda n: (-n.days if n.kind == OVERDUE else 0, n.item.item_id))
    order = list(dict.fromkeys(p for n in nudges for p in plan.mentioned.get(n.item.item_id, [])))
    mentions, refs = mention_line([people[p] for p in order if p in people])
    project = reading.projects[nudges[0].item.project_id][1]
    head = say._("Today’s nudges for {project}:", project=project)
    lines = [f"{mentions} {head}".strip()]
    for nudge in nudges:
        who = plan.mentioned.get(nudge.item.item_id, [])
        # Named once more by the item, plainly: the @mentions are the first line's.
        names = "、".join(people[p].name for p in who if p in people)
        if nudge.item.item_id in plan.unassigned:
            text = unassigned_line(say, nudge, reading)
        else:
            text = item_line(say, nudge)
        lines.append(f"· {text}（{names}）" if names else f"· {text}")
    return Outgoing("\n".join(lines), mentions=refs)


async def send_nudges(
    uow: UnitOfWork, services: Services, at: datetime, today: date, items: list[DueItem]
) -> int:
    """Write today's morning messages to the outbox; how many were new."""
    nudges = decide_nudges(items, today, services.calendar, services.scheme.reminders)
    post = Postman(uow, at, f"nudge:{today.isoformat()}")
    project_ids = sorted({n.item.project_id for n in nudges})
    butlers = await uow.due.butlers(project_ids)
    people: dict[int, Person] = {}

    async def active(person_id: int | None) -> int | None:
        if person_id is None:
            return None
        person = await post.person(person_id)
        if person is None or not person.active:
            return None
        people[person.id] = person
        return person.id

    specialists = {n.item.item_id: await active(n.item.assignee_id) for n in nudges}
    backups: dict[tuple[int, int], list[int]] = {}
    for nudge in nudges:
        spec = specialists[nudge.item.item_id]
        pair = (nudge.item.project_id, spec or 0)
        if nudge.with_backup and spec is not None and pair not in backups:
            found = await uow.due.backups_of(*pair)
            backups[pair] = [p.id for p in found]
            people.update({p.id: p for p in found})
    live_butlers = {pid: await active(b) for pid, b in butlers.items()}
    office = [p.id for p in await post.with_role("office")]
    people.update({p.id: p for p in await post.with_role("office")})
    plan = plan_morning(nudges, specialists, backups, live_butlers, office)
    reading = await _read(
        uow, services, plan.inboxes, live_butlers, specialists, people, post, today
    )
    muted = await uow.mutes.muted(at)
    sent = 0
    new_for: set[int] = set()  # persons and -projects with a new message
    for person_id in sorted(set(plan.inboxes) | set(reading.problems)):
        person = people.get(person_id) or await post.person(person_id)
        if person is None:
            continue
        inbox = plan.inboxes.get(person_id, Inbox())
        if person_id in muted and not _at_leader_rung(reading, person_id):
            continue
        message = dm_text(Voice(person.lang), person, today, inbox, reading)
        if await post.to_person(person_id, message, f"u{person_id}"):
            sent += 1
            new_for.add(person_id)
    for project_id, project_nudges in plan.projects.items():
        log_context.bind_project(project_id)
        group = group_text(project_nudges, people, plan, reading)
        new = await post.to_project_groups(project_id, group, f"p{project_id}")
        if new:
            sent += new
            new_for.add(-project_id)
    for nudge in nudges:
        item = nudge.item
        heard = plan.recipients.get(item.item_id, [])
        if -item.project_id in new_for or new_for.intersection(heard):
            log_context.bind_project(item.project_id)
            await uow.events.append(
                NUDGE_EVENT,
                at=at,
                project_id=item.project_id,
                item_id=item.item_id,
                data={"kind": nudge.kind, "days": nudge.days, "to": heard},
            )
    return sent


def _at_leader_rung(reading: Reading, person_id: int) -> bool:
    """A problem of this person's stands at a rung that reaches the leaders."""
    return any(
        "leader" in reading.ladders[p.project_id].rung_at(p.level).notify_roles
        for p in reading.problems.get(person_id, [])
    )


async def _read(
    uow: UnitOfWork,
    services: Services,
    inboxes: dict[int, Inbox],
    butlers: dict[int, int | None],
    specialists: dict[int, int | None],
    people: dict[int, Person],
    post: Postman,
    today: date,
) -> Reading:
    """Read once what the messages name: projects, departments, ladders, open problems.

    A butler must act on every unacknowledged problem of their projects; a specialist on
    the problems that list one of their own items."""
    problems_by_person: dict[int, list[Problem]] = {}
    open_problems = await uow.problems.unresolved()
    project_ids = sorted(
        {pid for pid in butlers}
        | {p.project_id for p in open_problems}
        | {n.item.project_id for box in inboxes.values() for n in box.mine + box.unassigned}
    )
    all_butlers = await uow.due.butlers(project_ids)
    listed = await uow.problems.items_of_many([p.id for p in open_problems])
    for problem in sorted(open_problems, key=lambda p: (-p.level, p.id)):
        actors: list[int | None] = []
        if problem.state == "open":
            actors.append(all_butlers.get(problem.project_id))
        item_ids = [link.item_id for link in listed.get(problem.id, [])] or [problem.item_id]
        actors += [specialists.get(i) for i in item_ids if i is not None]
        for actor in dict.fromkeys(a for a in actors if a is not None):
            person = people.get(actor) or await post.person(actor)
            if person is None or not person.active:
                continue
            people[actor] = person
            problems_by_person.setdefault(actor, []).append(problem)
    ladders = ladders_by_project(await uow.due.ladders(project_ids), services.scheme)
    shown = {p.id: p for ps in problems_by_person.values() for p in ps}
    facts = {
        pid: await gather_items(post, problem, today, services.calendar)
        for pid, problem in shown.items()
    }
    return Reading(
        roles=services.scheme.roles,
        projects=await uow.due.project_labels(project_ids),
        departments={d.id: d for d in await uow.departments.all()},
        ladders=ladders,
        problems=problems_by_person,
        butlers=all_butlers,
        facts=facts,
    )


__all__ = ["dm_text", "group_text", "send_nudges"]
