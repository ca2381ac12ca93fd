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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from domain.items import TRANSITIONS, Action, Status, legal_actions
from domain.ladder import Ladder, ladders_by_project
from domain.scheme import Roles
from handlers import log_context, problem_card
from handlers.chat import Button, Outgoing
from handlers.context import Services
from handlers.i18n import LANGS, N_
from handlers.item_moves import ACTION_LABELS
from handlers.postman import Postman
from handlers.problem_card import (
    NO_SPECIALIST,
    ItemFacts,
    gather_many,
    reason_today,
    silent_items,
    silent_note,
)
from handlers.problem_notices import GROUP_LANG, audience, mention_line
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
from reminders.round_slices import RoundSlices
from storage.models import Department, Person, Problem
from storage.repos.due import NUDGE_EVENT, DueItem
from storage.uow import UnitOfWork

CARD_ITEMS = 4  # a news problem's items shown under it (department, lateness, specialist)
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
PROBLEM_LINE = N_("Problem #{id} at level {level} ({dispatcher}): {reason}")
OPENED_LINE = N_("Problem #{id} opened at level {level}: {name} ({dispatcher}). {reason}")
CLIMBED_LINE = N_("Problem #{id} climbed to level {level}: {name} ({dispatcher}). {reason}")


@dataclass
class Reading:
    """What the round read once: names, departments, ladders, open problems."""

    projects: dict[int, tuple[str, str]]
    departments: dict[int, Department]
    roles: Roles  # the scheme's own words for the roles
    ladders: dict[int, Ladder]
    problems: dict[int, list[Problem]]  # by the person who must act on them
    news: dict[int, list[Problem]]  # opened or climbed today, by the person the rung tells
    dispatch: dict[int, set[int]]  # problems each person may acknowledge
    butlers: dict[int, int | None]  # by project
    facts: dict[int, list[ItemFacts]]  # by problem: its items today, for the reason shown
    cards: dict[tuple[int, str], list[str]]  # today's news: its items, by problem and language


def item_line(say: Voice, nudge: Nudge) -> str:
    """One item in the reader's words (without its project)."""
    item = nudge.item
    name = item.name_en if say.lang == "en" else item.name_zh
    return say._(LINES[nudge.kind], item=name, n=nudge.days, due=item.due_on.isoformat())


def unassigned_line(say: Voice, nudge: Nudge, reading: Reading) -> str:
    """An item nobody on the team handles, naming its department and the fix."""
    item = nudge.item
    dept = reading.departments.get(item.department_id) if item.department_id else None
    missing = say._(
        NO_SPECIALIST,
        dept=(dept.name_en if say.lang == "en" else dept.name_zh) if dept else "—",
        specialist=say.label(reading.roles.specialist),
    )  # the problem card's own words (problem_card.py), one sentence in both places
    colon = ": " if say.lang == "en" else "："
    return f"{item.name_en if say.lang == 'en' else item.name_zh}{colon}{missing}"


def item_button(say: Voice, item: DueItem, role: str) -> Button | None:
    """The item's next step for ``role`` as a button (the item card's own callback)."""
    for action in legal_actions(Status(item.state), role):
        if action in FORWARD and not TRANSITIONS[(Status(item.state), action)].needs_reason:
            name = item.name_en if say.lang == "en" else item.name_zh
            return Button(
                f"{name} · {say._(ACTION_LABELS[action])}", f"it:{item.item_id}:{action.value}"
            )
    return None


def problem_line(say: Voice, problem: Problem, reading: Reading, *, news: bool = False) -> str:
    """A problem in one line: its rung, who dispatches, and today's reason; as news, whether
    it opened or climbed today."""
    rung = reading.ladders[problem.project_id].rung_at(problem.level)
    text = PROBLEM_LINE
    if news:
        text = OPENED_LINE if problem.opened_at == problem.raised_at else CLIMBED_LINE
    return say._(
        text,
        id=problem.id,
        level=rung.level,
        name=rung.name.text(say.lang),
        dispatcher=rung.dispatcher.text(say.lang),
        reason=reason_today(say, problem, reading.facts.get(problem.id, [])),
    )


def dm_text(say: Voice, person: Person, today: date, inbox: Inbox, reading: Reading) -> Outgoing:
    """The morning DM: sections of items by urgency, then problems; a button per item."""
    lines = [say._("Good morning, {name}: your list for {date}.", name=person.name, date=today)]
    buttons: list[list[Button]] = []
    shown = hidden = acks = 0

    def add(project_id: int, text: str) -> bool:
        nonlocal shown, hidden
        if shown < SHOWN:
            lines.append(f"· {reading.projects[project_id][1]} · {text}")
            shown += 1
            return True
        hidden += 1
        return False

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
    news = reading.news.get(person.id, [])
    if news:
        lines.append(say._("On the ladder today ({n}):", n=len(news)))
        for problem in news:
            if add(problem.project_id, problem_line(say, problem, reading, news=True)):
                lines += reading.cards.get((problem.id, say.lang), [])
    problems = reading.problems.get(person.id, [])
    if problems:
        lines.append(say._("Problems to act on ({n}):", n=len(problems)))
        for problem in problems:
            add(problem.project_id, problem_line(say, problem, reading))
    for problem in news + problems:
        if problem.id in reading.dispatch.get(person.id, ()) and acks < ACK_BUTTONS:
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
    services: Services, slices: RoundSlices, at: datetime, today: date, items: list[DueItem]
) -> int:
    """Write today's morning messages to the outbox, a slice of readers at a time; how
    many were new."""
    nudges = decide_nudges(items, today, services.calendar, services.scheme.reminders)
    async with slices.slice() as uow:
        post = Postman(uow, at, f"nudge:{today.isoformat()}")
        morning = await _plan(post, services, nudges, today)
    sent = 0

    async def to_people(uow: UnitOfWork, person_ids: Sequence[int]) -> None:
        nonlocal sent, post
        post = post.within(uow)
        for person_id in person_ids:
            person = morning.people.get(person_id) or await post.person(person_id)
            if person is None:
                continue
            inbox = morning.plan.inboxes.get(person_id, Inbox())
            if person_id in morning.muted and not _at_leader_rung(morning.reading, person_id):
                continue
            message = dm_text(Voice(person.lang), person, today, inbox, morning.reading)
            if await post.to_person(person_id, message, f"u{person_id}"):
                sent += 1
                await morning.log(uow, at, [n.item.item_id for n in inbox.mine + inbox.unassigned])

    async def to_groups(uow: UnitOfWork, project_ids: Sequence[int]) -> None:
        nonlocal sent, post
        post = post.within(uow)
        await post.learn(groups=list(project_ids))
        for project_id in project_ids:
            log_context.bind_project(project_id)
            project_nudges = morning.plan.projects[project_id]
            group = group_text(project_nudges, morning.people, morning.plan, morning.reading)
            new = await post.to_project_groups(project_id, group, f"p{project_id}")
            if new:
                sent += new
                await morning.log(uow, at, [n.item.item_id for n in project_nudges])

    readers = set(morning.plan.inboxes) | set(morning.reading.problems)
    await slices.each(sorted(readers | set(morning.reading.news)), to_people)
    await slices.each(sorted(morning.plan.projects), to_groups, first=50)
    return sent


@dataclass
class Morning:
    """The day's morning messages, planned: who hears what, and the nudge log so far."""

    plan: MorningPlan
    reading: Reading
    people: dict[int, Person]
    muted: set[int]
    nudges: dict[int, Nudge]  # by item
    logged: set[int]  # items whose nudge is in today's log already

    async def log(self, uow: UnitOfWork, at: datetime, item_ids: list[int]) -> None:
        """The nudge log's line for each item a new message named, once a day."""
        for item_id in item_ids:
            if item_id in self.logged:
                continue
            self.logged.add(item_id)
            nudge = self.nudges[item_id]
            log_context.bind_project(nudge.item.project_id)
            await uow.events.append(
                NUDGE_EVENT,
                at=at,
                project_id=nudge.item.project_id,
                item_id=item_id,
                data={
                    "kind": nudge.kind,
                    "days": nudge.days,
                    "to": self.plan.recipients.get(item_id, []),
                },
                flush=False,
            )


async def _plan(post: Postman, services: Services, nudges: list[Nudge], today: date) -> Morning:
    """Who hears what this morning, read in bulk in one slice."""
    uow, at = post.uow, post.now
    project_ids = sorted({n.item.project_id for n in nudges})
    butlers = await uow.due.butlers(project_ids)
    people: dict[int, Person] = {}
    named = [n.item.assignee_id for n in nudges] + list(butlers.values())
    await post.learn(people=[p for p in named if p is not None])

    async def active(person_id: int | None) -> int | None:
        if person_id is None:
            return None
        person = await post.person(person_id)
        if person is None or not person.active:
            return None
        people[person.id] = person
        return person.id

    specialists = {n.item.item_id: await active(n.item.assignee_id) for n in nudges}
    pairs = sorted(
        {
            (n.item.project_id, spec)
            for n in nudges
            if n.with_backup and (spec := specialists[n.item.item_id]) is not None
        }
    )
    await post.learn(backups=pairs)
    backups: dict[tuple[int, int], list[int]] = {}
    for pair in pairs:
        found = await post.backups(*pair)
        backups[pair] = [p.id for p in found]
        people.update({p.id: p for p in found})
    live_butlers = {pid: await active(b) for pid, b in butlers.items()}
    office = await post.with_role("office")
    people.update({p.id: p for p in office})
    plan = plan_morning(nudges, specialists, backups, live_butlers, [p.id for p in office])
    reading = await _read(post, services, plan.inboxes, live_butlers, specialists, people, today)
    start = datetime.combine(today, datetime.min.time(), services.timezone)
    logged = await uow.due.nudged_since([n.item.item_id for n in nudges], start)
    return Morning(
        plan=plan,
        reading=reading,
        people=people,
        muted=set(await uow.mutes.muted(at)),
        nudges={n.item.item_id: n for n in nudges},
        logged=logged,
    )


def _at_leader_rung(reading: Reading, person_id: int) -> bool:
    """A problem of this person's stands at a rung that reaches the leaders."""
    return any(
        "leader" in reading.ladders[p.project_id].rung_at(p.level).notify_roles
        for p in reading.problems.get(person_id, []) + reading.news.get(person_id, [])
    )


async def _read(
    post: Postman,
    services: Services,
    inboxes: dict[int, Inbox],
    butlers: dict[int, int | None],
    specialists: dict[int, int | None],
    people: dict[int, Person],
    today: date,
) -> Reading:
    """Read once what the messages name: projects, departments, ladders, open problems.

    A butler must act on every unacknowledged problem of their projects; a specialist on
    the problems that list one of their own items. A problem that opened or climbed today
    is news for everyone its rung tells (`audience`), as the ladder left it this morning."""
    uow = post.uow
    problems_by_person: dict[int, list[Problem]] = {}

    def moved_today(problem: Problem) -> bool:
        return problem.raised_at.astimezone(services.timezone).date() == today

    open_problems = await uow.problems.unresolved()
    project_ids = sorted(
        {pid for pid in butlers}
        | {p.project_id for p in open_problems}
        | {n.item.project_id for box in inboxes.values() for n in box.mine + box.unassigned}
    )
    all_butlers = await uow.due.butlers(project_ids)
    facts = await gather_many(post, open_problems, today, services.calendar)
    ladders = ladders_by_project(await uow.due.ladders(project_ids), services.scheme)
    news: dict[int, list[Problem]] = {}
    dispatch: dict[int, set[int]] = {}
    await post.learn(projects=[p.project_id for p in open_problems if moved_today(p)])
    for problem in sorted(open_problems, key=lambda p: (-p.level, p.id)):
        if moved_today(problem):
            rung = ladders[problem.project_id].rung_at(problem.level)
            project = await post.project(problem.project_id)
            staff = tuple(r for r in rung.notify_roles if r != "enterprise")
            hearing = await audience(post, services.scheme, project, facts[problem.id], staff)
            for person in hearing.people:
                people[person.id] = person
                news.setdefault(person.id, []).append(problem)
            for person_id in hearing.dispatchers:
                dispatch.setdefault(person_id, set()).add(problem.id)
        actors: list[int | None] = []
        if problem.state == "open":
            actors.append(all_butlers.get(problem.project_id))
            dispatch.setdefault(all_butlers.get(problem.project_id) or 0, set()).add(problem.id)
        # A specialist, for the problems listing an item of theirs that is due or late.
        actors += [specialists.get(f.item.id) for f in facts[problem.id]]
        for actor in dict.fromkeys(a for a in actors if a is not None):
            if any(p.id == problem.id for p in news.get(actor, [])):
                continue  # in their news already
            person = people.get(actor) or await post.person(actor)
            if person is None or not person.active:
                continue
            people[actor] = person
            problems_by_person.setdefault(actor, []).append(problem)
    cards: dict[tuple[int, str], list[str]] = {}
    for problem in {p.id: p for ps in news.values() for p in ps}.values():
        ladder = ladders[problem.project_id]
        listed = facts[problem.id]
        for lang in LANGS:
            say = Voice(lang)
            found = [
                await problem_card.item_line(say, services.scheme, post, f)
                for f in listed[:CARD_ITEMS]
            ]
            if len(listed) > CARD_ITEMS:
                found.append("  " + say._("… and {more} more items", more=len(listed) - CARD_ITEMS))
            if silent_items(listed) and ladder.rung_at(problem.level) != ladder.bottom:
                found.append("  " + silent_note(say, services.scheme, listed))
            cards[(problem.id, lang)] = found
    return Reading(
        roles=services.scheme.roles,
        projects=await uow.due.project_labels(project_ids),
        departments={d.id: d for d in await uow.departments.all()},
        ladders=ladders,
        problems=problems_by_person,
        news=news,
        dispatch=dispatch,
        butlers=all_butlers,
        facts=facts,
        cards=cards,
    )


__all__ = ["dm_text", "group_text", "send_nudges"]
