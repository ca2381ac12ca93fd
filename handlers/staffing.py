"""Choosing specialists (选派服务专员): the roster's specialists of each department of a
project, with their load and reachability, and swapping the one on the team.

`/assign` (handlers/team.py) pre-selects the least-loaded reachable specialist of each
department (`assign_team`); the office then sees the others as buttons and may choose
another, who takes over the department's open items. Shared by the flow and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.reach import Reach
from handlers.chat import Button, Outgoing
from handlers.i18n import N_
from handlers.projects import checklist_departments, roster_by_department
from handlers.render import Speaks
from storage.models import Person, Project
from storage.uow import UnitOfWork

CHOICE_PREFIX = "asg:s:"
MAX_CHOICES = 6  # a WeCom card carries six buttons; the least loaded come first
REACH_NOTES = {
    Reach.PENDING: N_("not activated"),
    Reach.UNREACHABLE: N_("unreachable"),
}


@dataclass(frozen=True)
class Candidate:
    """A specialist of the roster for one department, as the office weighs them."""

    person: Person
    load: int  # open items across projects
    reach: Reach
    current: bool  # on the project's team for this department now


@dataclass(frozen=True)
class DepartmentChoice:
    """One department of a project and its candidates, least loaded reachable first."""

    code: str
    department_id: int
    candidates: list[Candidate]

    @property
    def current(self) -> Candidate | None:
        return next((c for c in self.candidates if c.current), None)


def reach_note(say: Speaks, reach: Reach) -> str:
    """`（未激活）` for someone who cannot be reached, else nothing."""
    note = REACH_NOTES.get(reach)
    return "" if note is None else say._(" ({why})", why=say._(note))


async def department_choices(uow: UnitOfWork, project: Project) -> list[DepartmentChoice]:
    """Per checklist department with specialists on the roster: who could serve."""
    roster, _ = await roster_by_department(uow)
    ids = {d.code: d.id for d in await uow.departments.all()}
    on_team = {
        (m.department_id, m.person_id)
        for m in await uow.members.of_project(project.id)
        if m.role == "specialist"
    }
    everyone = sorted({pid for pids in roster.values() for pid in pids})
    loads = await uow.members.specialist_loads(everyone)
    reach = await uow.people.reach(everyone)
    choices = []
    for code in checklist_departments(project):
        if code not in ids or not roster.get(code):
            continue
        people = [p for p in [await uow.people.get(pid) for pid in roster[code]] if p]
        candidates = [
            Candidate(p, loads[p.id], reach[p.id], (ids[code], p.id) in on_team) for p in people
        ]
        candidates.sort(key=lambda c: (c.reach is not Reach.REACHABLE, c.load, c.person.id))
        choices.append(DepartmentChoice(code, ids[code], candidates))
    return choices


def choice_message(say: Speaks, project: Project, choice: DepartmentChoice, name: str) -> Outgoing:
    """The department's candidates as buttons: load, reachability, ✓ on the one chosen."""
    buttons = []
    for candidate in choice.candidates[:MAX_CHOICES]:
        label = say._(
            "{mark}{name} ({count} open){note}",
            mark="✓ " if candidate.current else "",
            name=candidate.person.name,
            count=candidate.load,
            note=reach_note(say, candidate.reach),
        )
        payload = f"{CHOICE_PREFIX}{project.id}:{choice.department_id}:{candidate.person.id}"
        buttons.append([Button(label, payload)])
    text = say._(
        "{department} on project {code}: choose its {specialist} (✓ is on the team now; "
        "least loaded first).",
        department=name,
        code=project.code,
    )
    return Outgoing(text, buttons=buttons)


@dataclass(frozen=True)
class Swap:
    """What choosing a specialist changed."""

    person: Person
    replaced: list[Person]
    moved: int  # open items re-assigned to the person
    reach: Reach
    already: bool  # they were the department's specialist on the team before
    backups: int = 0  # how many backups came with them


async def choose_specialist(
    uow: UnitOfWork,
    project: Project,
    department_id: int,
    person_id: int,
    *,
    now: datetime,
    actor_id: int | None,
) -> Swap | None:
    """Make a roster specialist of one of the project's checklist departments its
    specialist there; None when the person is not one (a forged or stale button)."""
    codes = {d.id: d.code for d in await uow.departments.all()}
    code = codes.get(department_id)
    if code is None or code not in checklist_departments(project):
        return None
    roster, backups_of = await roster_by_department(uow)
    if person_id not in roster.get(code, []):
        return None
    person = await uow.people.get(person_id)
    if person is None:
        return None
    already = any(
        m.role == "specialist" and m.department_id == department_id and m.person_id == person_id
        for m in await uow.members.of_project(project.id)
    )
    if already:
        return Swap(person, [], 0, (await uow.people.reach([person_id]))[person_id], True)
    backups = [role.person_id for role in backups_of.get(person_id, [])]
    replaced_ids, moved = await uow.members.swap_specialist(
        project.id, department_id, person_id, backups
    )
    replaced = [p for p in [await uow.people.get(pid) for pid in replaced_ids] if p]
    await uow.events.append(
        "project.specialist_chosen",
        at=now,
        actor_id=actor_id,
        project_id=project.id,
        data={
            "department": code,
            "person_id": person_id,
            "replaced": replaced_ids,
            "items_moved": moved,
        },
    )
    reach = (await uow.people.reach([person_id]))[person_id]
    return Swap(person, replaced, moved, reach, False, len(backups))


__all__ = [
    "CHOICE_PREFIX",
    "Candidate",
    "DepartmentChoice",
    "Swap",
    "choice_message",
    "choose_specialist",
    "department_choices",
    "reach_note",
]
