"""Project services (项目服务): assembling a team, planning, binding a group chat.

Use cases shared by the chat flows (team.py, plan.py, completion.py), the stories' world
set-up and the CLI: each is one function over the unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.calendar import WorkCalendar
from domain.items import ItemState, Status
from domain.planning import Plan, build_plan, remaining_stages
from domain.reach import Reach
from domain.scheme import ChecklistItem as SchemeItem
from domain.scheme import Label, Scheme
from storage.models import Chat, ChecklistItem, Person, Project
from storage.uow import UnitOfWork


# -- assembling the team ---------------------------------------------------------------
def checklist_departments(project: Project) -> list[str]:
    """The department codes of the project's snapshotted checklist, in catalogue order."""
    codes = [str(i["department"]) for i in (project.snapshot or {}).get("checklist", [])]
    return list(dict.fromkeys(codes))


@dataclass(frozen=True)
class Team:
    """Who was put on a project: the butler, specialist per department, their backups."""

    butler: Person
    specialists: dict[str, Person]
    backups: dict[str, list[Person]]
    missing: list[str]  # departments with no specialist on the roster
    reach: dict[int, Reach]  # of the butler, the specialists and their backups

    def unreached(self, person: Person) -> Reach | None:
        """Why the person cannot be reached (pending, unreachable), or None."""
        found = self.reach.get(person.id, Reach.REACHABLE)
        return None if found is Reach.REACHABLE else found


async def roster_by_department(uow: UnitOfWork) -> tuple[dict[str, list[int]], dict[int, list]]:
    """Specialist person ids per department code, and backup roles per backed-up person."""
    specialists: dict[str, list[int]] = {}
    backups: dict[int, list] = {}
    for person in await uow.people.with_role("specialist"):
        for role in await uow.people.roles_of(person.id):
            if role.role == "specialist" and role.department is not None:
                specialists.setdefault(role.department.code, []).append(person.id)
    for person in await uow.people.with_role("backup"):
        for role in await uow.people.roles_of(person.id):
            if role.role == "backup" and role.backup_of_id is not None:
                backups.setdefault(role.backup_of_id, []).append(role)
    return specialists, backups


async def assign_team(
    uow: UnitOfWork,
    project: Project,
    butler_id: int,
    *,
    now: datetime,
    actor_id: int | None,
    specialists: dict[str, int] | None = None,
) -> Team:
    """Make `butler_id` the project's butler and attach one specialist per checklist
    department (the given ones, else the least loaded reachable one on the roster; an
    unreachable one only when nobody else is, and `Team.reach` says so) with their backups."""
    butler = await uow.people.get(butler_id)
    if butler is None:
        raise LookupError(f"no person {butler_id}")
    project.butler_id = butler_id
    departments = {d.code: d.id for d in await uow.departments.all()}
    await uow.members.add(project.id, butler_id, "butler")
    contact = await enterprise_contact(uow, project)
    if contact is not None:
        await uow.members.add(project.id, contact.id, "enterprise")
    roster, backups_of = await roster_by_department(uow)
    chosen = dict(specialists or {})
    team_specialists: dict[str, Person] = {}
    team_backups: dict[str, list[Person]] = {}
    missing: list[str] = []
    for code in checklist_departments(project):
        person_id = chosen.get(code)
        if person_id is None:
            candidates = roster.get(code, [])
            if not candidates:
                missing.append(code)
                continue
            loads = await uow.members.specialist_loads(candidates)
            reach = await uow.people.reach(candidates)
            person_id = min(
                candidates, key=lambda pid: (reach[pid] is not Reach.REACHABLE, loads[pid], pid)
            )
        person = await uow.people.get(person_id)
        if person is None:
            missing.append(code)
            continue
        await uow.members.add(project.id, person.id, "specialist", departments.get(code))
        team_specialists[code] = person
        for backup_role in backups_of.get(person.id, []):
            backup = await uow.people.get(backup_role.person_id)
            if backup is not None:
                await uow.members.add(project.id, backup.id, "backup", departments.get(code))
                team_backups.setdefault(code, []).append(backup)
    await uow.projects.save(project)
    everyone = [butler, *team_specialists.values()]
    everyone += [b for backups in team_backups.values() for b in backups]
    reach_of = await uow.people.reach([p.id for p in everyone])
    await uow.events.append(
        "project.team_assigned",
        at=now,
        actor_id=actor_id,
        project_id=project.id,
        data={
            "butler_id": butler_id,
            "specialists": {c: p.id for c, p in team_specialists.items()},
            "missing": missing,
            "unreached": sorted(pid for pid, r in reach_of.items() if r is not Reach.REACHABLE),
        },
    )
    return Team(butler, team_specialists, team_backups, missing, reach_of)


async def enterprise_contact(uow: UnitOfWork, project: Project) -> Person | None:
    """The enterprise contact of a project: a team member, else who filed the application
    while they act for the project's enterprise, else its first contact."""
    for member in await uow.members.of_project(project.id):
        if member.role == "enterprise":
            return await uow.people.get(member.person_id)
    applicant = None
    if project.application_id is not None:
        app = await uow.applications.get(project.application_id)
        if app is not None:
            applicant = await uow.people.get(app.contact_person_id)
    if project.enterprise_id is None:
        return applicant
    # A claimant, or a contact the office removed, does not speak for the enterprise.
    if applicant is not None and applicant.enterprise_id == project.enterprise_id:
        return applicant
    contacts = await uow.enterprises.contacts(project.enterprise_id)
    return contacts[0] if contacts else None


# -- the plan ------------------------------------------------------------------------
def snapshot_items(project: Project) -> list[SchemeItem]:
    """The project's snapshotted checklist as catalogue items (the promised scheme)."""
    return [
        SchemeItem(
            id=raw["id"],
            name=Label(zh=raw["name"]["zh"], en=raw["name"]["en"]),
            department=raw["department"],
            stage=raw["stage"],
            limit_workdays=int(raw["limit_workdays"]),
            prerequisites=tuple(raw.get("prerequisites") or ()),
        )
        for raw in (project.snapshot or {}).get("checklist", [])
    ]


def project_plan(project: Project) -> Plan | None:
    """The plan snapshotted onto the project at binding, or None before."""
    raw = (project.snapshot or {}).get("plan")
    return Plan.from_json(raw) if raw else None


async def generate_plan(
    uow: UnitOfWork,
    scheme: Scheme,
    calendar: WorkCalendar,
    project: Project,
    start: date,
    *,
    now: datetime,
    actor_id: int | None,
) -> Plan:
    """Plan the project's remaining stages from `start` and write its checklist rows.

    Idempotent: a project that already has a plan keeps it (promised dates never move).
    """
    existing = project_plan(project)
    if existing is not None:
        return existing
    plan = build_plan(
        snapshot_items(project), remaining_stages(scheme, project.stage), start, calendar
    )
    project.snapshot = {**(project.snapshot or {}), "plan": plan.to_json()}
    await write_items(uow, project, plan, start_sort=0)
    await uow.projects.save(project)
    await uow.events.append(
        "plan.generated",
        at=now,
        actor_id=actor_id,
        project_id=project.id,
        data={"start": start.isoformat(), "items": list(plan.item_ids)},
    )
    return plan


async def write_items(
    uow: UnitOfWork, project: Project, plan: Plan, *, only: set[str] | None = None, start_sort: int
) -> None:
    """Write the plan's items (all, or `only` those ids) as ChecklistItem rows."""
    names = {raw["id"]: raw["name"] for raw in (project.snapshot or {}).get("checklist", [])}
    names.update((project.snapshot or {}).get("added_names", {}))
    departments = {d.code: d.id for d in await uow.departments.all()}
    specialists: dict[int | None, int] = {}
    for member in await uow.members.of_project(project.id):
        if member.role == "specialist":
            specialists.setdefault(member.department_id, member.person_id)
    for sort, planned in enumerate(plan.items, start=start_sort):
        if only is not None and planned.item_id not in only:
            continue
        name = names.get(planned.item_id, {"zh": planned.item_id, "en": planned.item_id})
        department_id = departments.get(planned.department)
        await uow.items.add(
            project_id=project.id,
            code=planned.item_id,
            name_zh=name["zh"],
            name_en=name["en"],
            department_id=department_id,
            stage=planned.stage,
            assignee_id=specialists.get(department_id),
            limit_workdays=planned.limit_workdays,
            prerequisites=list(planned.prerequisites),
            state="not_started",
            planned_start=planned.planned_start,
            due_on=planned.due_on,
            due_provisional=planned.provisional,
            sort=sort,
        )


async def bind_chat(
    uow: UnitOfWork,
    scheme: Scheme,
    calendar: WorkCalendar,
    project: Project,
    chat: Chat,
    *,
    today: date,
    now: datetime,
    actor_id: int | None,
) -> Plan:
    """Bind a group chat to the project and generate its plan (once)."""
    chat.project_id = project.id
    if project.status == "accepted":
        project.status = "in_progress"
    await uow.events.append(
        "project.group_bound",
        at=now,
        actor_id=actor_id,
        project_id=project.id,
        chat_id=chat.id,
        data={"platform": chat.platform, "chat": chat.external_id},
    )
    return await generate_plan(uow, scheme, calendar, project, today, now=now, actor_id=actor_id)


async def sync_rows(uow: UnitOfWork, project: Project, plan: Plan, touched: set[str]) -> None:
    """Move rows to the plan's dates: items not yet started, and the items `touched`."""
    for row in await uow.items.of_project(project.id):
        if row.code not in plan or row.state == "not_applicable":
            continue
        if row.state != "not_started" and row.code not in touched:
            continue
        planned = plan.item(row.code)
        row.planned_start = planned.planned_start
        row.due_on, row.due_provisional = planned.due_on, planned.provisional
    await uow.flush()


# -- item rows and the domain view of them ------------------------------------------
def item_state(item: ChecklistItem) -> ItemState:
    """The domain view of a row: state and working-day clock."""
    return ItemState(
        state=Status(item.state),
        limit_workdays=item.limit_workdays,
        due_on=item.due_on,
        provisional=item.due_provisional,
        started_on=item.started_on,
        paused_on=item.paused_on,
        corrections=item.corrections,
        done_on=item.done_on,
    )


def store_state(item: ChecklistItem, state: ItemState) -> None:
    """Write a moved item's state and clock back onto its row."""
    item.state = state.state.value
    item.due_on, item.due_provisional = state.due_on, state.provisional
    item.started_on, item.paused_on = state.started_on, state.paused_on
    item.corrections, item.done_on = state.corrections, state.done_on
