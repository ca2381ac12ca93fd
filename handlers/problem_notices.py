"""Problem notices (难点问题通知) and the dispatch ladder (分级调度) as snapshotted data.

Who hears about a problem at each rung and what they read. Shared by the problem
commands (problems.py), the digest (digest.py) and the automatic ladder in reminders/.
"""

from __future__ import annotations

from domain.ladder import Ladder, project_ladder
from domain.scheme import Scheme
from handlers.chat import Button, Mention, Outgoing
from handlers.event_labels import event_label, event_note
from handlers.i18n import N_
from handlers.postman import Postman
from handlers.render import Voice, department_name
from storage.models import ChecklistItem, Person, Problem, Project
from storage.uow import UnitOfWork

GROUP_LANG = "zh_CN"  # a group has no language of its own; the service writes Chinese
LOG_LINES = 3


# -- the ladder (domain/ladder.py), as the project snapshotted it -------------------------
def ladder_of(project: Project, scheme: Scheme) -> Ladder:
    """The project's ladder (its snapshot; the live scheme only for projects without one)."""
    return project_ladder((project.snapshot or {}).get("escalation"), scheme)


def mention_line(people: list[Person]) -> tuple[str, list[Mention]]:
    """``@A @B`` and the mentions for it."""
    return " ".join(f"@{p.name}" for p in people), [Mention(p.id, p.name) for p in people]


# -- who hears about a problem -------------------------------------------------------------
async def audience(
    post: Postman, project: Project, item: ChecklistItem | None, roles: tuple[str, ...]
) -> list[Person]:
    """The persons behind ``roles`` for this project: butler, office, leader, specialist…"""
    ids: list[int] = []
    for role in roles:
        if role == "butler" and project.butler_id is not None:
            ids.append(project.butler_id)
        if role in {"office", "leader"}:
            ids += [p.id for p in await post.with_role(role)]
        if role in {"butler", "enterprise", "specialist", "backup"}:
            ids += await post.member_ids(project.id, role)
        if role == "specialist" and item is not None and item.assignee_id is not None:
            ids.append(item.assignee_id)
    people: list[Person] = []
    for person_id in dict.fromkeys(ids):
        person = await post.person(person_id)
        if person is not None and person.active:
            people.append(person)
    return people


async def problem_facts(
    uow: UnitOfWork,
    project: Project,
    item: ChecklistItem | None,
    problem: Problem,
    lang: str,
    overdue: int,
) -> str:
    """The facts a dispatcher needs: project, item, department, days overdue, nudges, log."""
    lines = [Voice(lang)._("Project: {name} ({code})", name=project.name, code=project.code)]
    if item is not None:
        dept = await department_name(uow, item.department_id, lang)
        nudges = (await uow.due.nudge_counts([item.id])).get(item.id, 0)
        lines += [
            Voice(lang)._("Item: {item}", item=item.name_en if lang == "en" else item.name_zh),
            Voice(lang)._("Department: {dept}", dept=dept),
            Voice(lang)._("Working days overdue: {n}", n=overdue),
            Voice(lang)._("Nudges already sent: {n}", n=nudges),
        ]
        events = await uow.due.item_events(project.id, item.id, LOG_LINES)
        if events:
            lines.append(Voice(lang)._("Latest work-log entries:"))
            say = Voice(lang)
            for ev in events:
                entry = f"{event_label(say, ev.kind)} {event_note(say, ev.data or {})}"
                lines.append(f"  · {ev.at.date().isoformat()} {entry}".rstrip())
    lines.append(Voice(lang)._("Reason: {reason}", reason=problem.reason))
    return "\n".join(lines)


async def notify_problem(
    post: Postman,
    scheme: Scheme,
    problem: Problem,
    *,
    overdue: int = 0,
    climbed: bool = False,
) -> int:
    """Tell the rung's people (DM, with an Acknowledge button) and the project group."""
    uow = post.uow
    project = await post.project(problem.project_id)
    rung = ladder_of(project, scheme).rung_at(problem.level)
    item = await uow.items.get(problem.item_id) if problem.item_id is not None else None
    sent = 0
    key = f"p{problem.id}:L{problem.level}"
    facts: dict[str, str] = {}  # by language: the same for every reader of it
    for person in await audience(post, project, item, rung.notify_roles):
        lang = person.lang
        head = (
            N_("Problem #{id} climbed to level {level}: {name} ({dispatcher}).")
            if climbed
            else N_("Problem #{id} at level {level}: {name} ({dispatcher}).")
        )
        text = Voice(lang)._(
            head,
            id=problem.id,
            level=rung.level,
            name=rung.name.text(lang),
            dispatcher=rung.dispatcher.text(lang),
        )
        if lang not in facts:
            facts[lang] = await problem_facts(uow, project, item, problem, lang, overdue)
        out = Outgoing(
            f"**{text}**\n{facts[lang]}",
            buttons=[
                [
                    Button(Voice(lang)._("Acknowledge"), f"problem:ack:{problem.id}"),
                    Button(Voice(lang)._("Project status"), f"status:{project.code}"),
                ]
            ],
        )
        sent += await post.to_person(person.id, out, f"{key}:u{person.id}")
    group = Voice(GROUP_LANG)._(
        "Problem #{id} is now at level {level} ({dispatcher}): {reason}",
        id=problem.id,
        level=rung.level,
        dispatcher=rung.dispatcher.text(GROUP_LANG),
        reason=problem.reason,
    )
    sent += await post.to_project_groups(project.id, Outgoing(group), key)
    return sent


async def concerned_departments(
    uow: UnitOfWork, project: Project, problem: Problem
) -> list[Person]:
    """The department people a problem concerns: its item's specialist and their colleagues
    on the team, or every department member of the team for a project-wide problem."""
    item = await uow.items.get(problem.item_id) if problem.item_id is not None else None
    members = await uow.due.members(project.id, ("specialist", "backup"))
    if item is not None:
        members = [m for m in members if m.department_id == item.department_id]
    ids = [m.person_id for m in members]
    if item is not None and item.assignee_id is not None:
        ids.insert(0, item.assignee_id)
    people = [await uow.people.get(i) for i in dict.fromkeys(ids)]
    return [p for p in people if p is not None and p.active]
