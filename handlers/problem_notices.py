"""Problem notices (难点问题通知) and the dispatch ladder (分级调度) as snapshotted data.

Who hears about a problem at each rung and what they read. Shared by the problem
commands (problems.py), the digest (digest.py) and the automatic ladder in reminders/.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.ladder import Ladder, project_ladder
from domain.scheme import Scheme
from handlers.chat import Button, Mention, Outgoing
from handlers.context import Services
from handlers.i18n import N_
from handlers.postman import Postman
from handlers.problem_card import ItemFacts, card_body, gather_items, reason_today
from handlers.render import Voice, item_name
from storage.models import Person, Problem, Project
from storage.uow import UnitOfWork

GROUP_LANG = "zh_CN"  # a group has no language of its own; the service writes Chinese


# -- the ladder (domain/ladder.py), as the project snapshotted it -------------------------
def ladder_of(project: Project, scheme: Scheme) -> Ladder:
    """The project's ladder (its snapshot; the live scheme only for projects without one)."""
    return project_ladder((project.snapshot or {}).get("escalation"), scheme)


def mention_line(people: list[Person]) -> tuple[str, list[Mention]]:
    """``@A @B`` and the mentions for it."""
    return " ".join(f"@{p.name}" for p in people), [Mention(p.id, p.name) for p in people]


# -- who hears about a problem -------------------------------------------------------------
@dataclass
class Audience:
    """Who hears about a problem, and which of them may take it (/ack)."""

    people: list[Person]
    dispatchers: set[int]


async def audience(
    post: Postman,
    scheme: Scheme,
    project: Project,
    facts: list[ItemFacts],
    roles: tuple[str, ...],
) -> Audience:
    """The persons behind ``roles`` for this problem. ``specialist`` is the specialist of
    each item listed (never another department's); ``backup`` their backups, who also hear
    when the backup rule applies (overdue past ``backup_after_overdue_workdays``, or the
    specialist unreachable). An item with no specialist brings in the butler and office."""
    ids: list[int] = []
    dispatchers: set[int] = set()
    open_items = [f for f in facts if not f.closed]
    orphaned = any(f.specialist is None for f in open_items)
    wanted = set(roles) | ({"butler", "office"} if orphaned else set())
    if "butler" in wanted and project.butler_id is not None:
        ids.append(project.butler_id)
        dispatchers.add(project.butler_id)
    for role in ("office", "leader"):
        if role in wanted:
            found = [p.id for p in await post.with_role(role)]
            ids += found
            dispatchers.update(found)
    if "enterprise" in wanted:
        ids += await post.member_ids(project.id, "enterprise")
    after = scheme.reminders.backup_after_overdue_workdays
    for f in open_items:
        if f.specialist is None:
            continue
        if "specialist" in wanted:
            ids.append(f.specialist.id)
        backup_rule = "specialist" in wanted and (f.overdue > after or not f.reachable)
        if "backup" in wanted or backup_rule:
            ids += [p.id for p in await post.backups(project.id, f.specialist.id)]
    people: list[Person] = []
    for person_id in dict.fromkeys(ids):
        person = await post.person(person_id)
        if person is not None and person.active:
            people.append(person)
    return Audience(people, dispatchers)


async def notify_problem(
    post: Postman,
    services: Services,
    problem: Problem,
    *,
    climbed: bool = False,
    joined: list[int] | None = None,
    dm: bool = True,
    facts: list[ItemFacts] | None = None,
) -> int:
    """Tell the rung's people (DM: the card, with an Acknowledge button for those who may
    take it) and the project's groups. With ``joined`` (items that joined the problem
    today, its rung unchanged) only those items' own people hear, and not the groups.
    Without ``dm`` (the daily round, whose news the staff read in their morning message)
    only the groups and, on a rung naming them, the enterprise contacts hear. An automatic
    problem's stored reason becomes today's (the reports read it). ``facts``: the
    problem's items today, when already read."""
    scheme = services.scheme
    project = await post.project(problem.project_id)
    ladder = ladder_of(project, scheme)
    rung = ladder.rung_at(problem.level)
    today = post.now.astimezone(services.timezone).date()
    if facts is None:
        facts = await gather_items(post, problem, today, services.calendar)
    if problem.auto:  # what the reports and files read: as of the latest notice, not the first
        problem.reason = reason_today(Voice(GROUP_LANG), problem, facts)
    heard = facts if joined is None else [f for f in facts if f.item.id in set(joined)]
    roles = rung.notify_roles if joined is None else ("specialist",)
    if dm:
        hearing = await audience(post, scheme, project, heard, roles)
    elif "enterprise" in roles:  # no morning message for them: the card as before
        hearing = await audience(post, scheme, project, [], ("enterprise",))
    else:
        hearing = Audience([], set())
    key = f"p{problem.id}:L{problem.level}"
    if joined is not None:
        key += ":i" + "-".join(str(i) for i in sorted(joined))
    sent = 0
    bodies: dict[str, str] = {}  # by language: the same for every reader of it
    for person in hearing.people:
        say = Voice(person.lang)
        if joined is not None:
            head = N_("Problem #{id} (level {level}: {name}) now also lists: {items}.")
        elif climbed:
            head = N_("Problem #{id} climbed to level {level}: {name} ({dispatcher}).")
        else:
            head = N_("Problem #{id} at level {level}: {name} ({dispatcher}).")
        text = say._(
            head,
            id=problem.id,
            level=rung.level,
            name=rung.name.text(say.lang),
            dispatcher=rung.dispatcher.text(say.lang),
            items=(", " if say.lang == "en" else "、").join(
                item_name(say, f.item) for f in _theirs(person, heard)
            ),
        )
        if say.lang not in bodies:
            bodies[say.lang] = await card_body(
                say, scheme, post, project, problem, facts, above_bottom=rung != ladder.bottom
            )
        buttons = [Button(say._("Project status"), f"status:{project.code}")]
        if person.id in hearing.dispatchers:
            buttons.insert(0, Button(say._("Acknowledge"), f"problem:ack:{problem.id}"))
        out = Outgoing(f"**{text}**\n{bodies[say.lang]}", buttons=[buttons])
        sent += await post.to_person(person.id, out, f"{key}:u{person.id}")
    if joined is not None:
        return sent
    say = Voice(GROUP_LANG)
    group = say._(
        "Problem #{id} is now at level {level} ({dispatcher}): {reason}",
        id=problem.id,
        level=rung.level,
        dispatcher=rung.dispatcher.text(GROUP_LANG),
        reason=reason_today(say, problem, facts),
    )
    sent += await post.to_project_groups(project.id, Outgoing(group), key)
    return sent


def _theirs(person: Person, facts: list[ItemFacts]) -> list[ItemFacts]:
    """The items a person is the specialist of (all of them for anyone else)."""
    mine = [f for f in facts if f.specialist is not None and f.specialist.id == person.id]
    return mine or facts


async def concerned_departments(
    uow: UnitOfWork, project: Project, problem: Problem
) -> list[Person]:
    """The department people a problem concerns: its items' specialists and their
    colleagues on the team, or every department member of the team for a project-wide
    problem."""
    links = await uow.problems.items_of(problem.id)
    item_ids = [link.item_id for link in links] or (
        [problem.item_id] if problem.item_id is not None else []
    )
    items = [i for i in [await uow.items.get(i) for i in item_ids] if i is not None]
    members = await uow.due.members(project.id, ("specialist", "backup"))
    if items:
        depts = {i.department_id for i in items}
        members = [m for m in members if m.department_id in depts]
    ids = [i.assignee_id for i in items if i.assignee_id is not None]
    ids += [m.person_id for m in members]
    people = [await uow.people.get(i) for i in dict.fromkeys(ids)]
    return [p for p in people if p is not None and p.active]
