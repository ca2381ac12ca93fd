"""Project teams (代办组): assigning the butler and specialists, binding the group chat.

The office assigns a butler (`/assign`, buttons with each butler's load); specialists of
the project's checklist departments are attached from the roster with their backups. The
butler binds a group chat with a one-time code (`/bind` in a DM, `/bind CODE` in the
group); binding generates the plan and posts the handbook (一项目一册).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.calendar import WorkCalendar
from domain.planning import Plan, build_plan, remaining_stages
from domain.scheme import ChecklistItem as SchemeItem
from domain.scheme import Label, Scheme
from handlers import log_context
from handlers.chat import Button, Mention, Outgoing
from handlers.context import Ctx
from handlers.invites import invite_refusal, new_code
from handlers.office import Speaks, Voice
from handlers.router import Router
from storage.models import Chat, Person, Project, ProjectMember
from storage.uow import UnitOfWork

router = Router("team")

GROUP_CODE_VALID = timedelta(days=7)


# -- who may act on a project ----------------------------------------------------------
async def project_of_chat(uow: UnitOfWork, platform: str, chat_id: str) -> Project | None:
    """The project a group chat is bound to, or None."""
    chat = await uow.chats.get(platform, chat_id)
    if chat is None or chat.project_id is None:
        return None
    log_context.bind_project(chat.project_id)  # every later log line of this event names it
    return await uow.projects.get(chat.project_id)


async def team_roles(uow: UnitOfWork, project: Project, person_id: int) -> set[str]:
    """The person's roles on this project's team (butler, specialist, backup, enterprise)."""
    roles = {m.role for m in await uow.members.roles_in(project.id, person_id)}
    if project.butler_id == person_id:
        roles.add("butler")
    return roles


async def group_project(ctx: Ctx, *, staff_only: bool = False) -> Project | None:
    """The project of the group this event came from, if the sender may act on it.

    Refuses (and answers) in an unbound group or for someone not on the team; the office
    and leaders may look at every project.
    """
    project = await project_of_chat(ctx.uow, ctx.incoming.platform, ctx.incoming.chat_id)
    if project is None:
        await ctx.reply(
            ctx._(
                "This group is not bound to a project. The project butler binds it with "
                "/bind CODE (the code comes from /bind in a direct chat with me)."
            )
        )
        return None
    log_context.bind_project(project.id, project.code)
    roles = await team_roles(ctx.uow, project, ctx.person.id)
    if ctx.has_role("office", "leader"):
        return project
    if not roles or (staff_only and roles == {"enterprise"}):
        await ctx.reply(
            ctx._(
                "Sorry, {name}: you are not on the team of project {code}, so you cannot act on "
                "it here. Ask the project butler or the service office.",
                name=ctx.person.name,
                code=project.code,
            )
        )
        return None
    return project


async def my_project(ctx: Ctx, args: str, role: str | None = None) -> tuple[Project | None, str]:
    """The project a command is about: the bound group's, or in a DM a project code given
    first (``P2026-0001 …``), or the person's only project; (None, args) after a refusal."""
    if ctx.in_group:
        return await group_project(ctx, staff_only=True), args
    head, _, rest = args.strip().partition(" ")
    if head:
        found = await ctx.uow.projects.by_code(head)
        if found is not None:
            allowed = ctx.has_role("office", "leader") or await team_roles(
                ctx.uow, found, ctx.person.id
            )
            if not allowed:
                await ctx.reply(
                    ctx._(
                        "You are not on the team of project {code}.",
                        code=found.code,
                    )
                )
                return None, args
            log_context.bind_project(found.id, found.code)
            return found, rest.strip()
    mine = [
        p for p in await ctx.uow.members.projects_of(ctx.person.id, role) if p.status != "archived"
    ]
    if len(mine) == 1:
        log_context.bind_project(mine[0].id, mine[0].code)
        return mine[0], args
    if not mine:
        await ctx.reply(ctx._("You are not on the team of any open project."))
    else:
        await ctx.reply(
            ctx._(
                "You are on several projects; put the project code first, e.g. {example}. "
                "Yours: {codes}",
                example=f"/{ctx.incoming.command} {mine[0].code} …",
                codes="、".join(p.code for p in mine),
            )
        )
    return None, args


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


async def _roster_by_department(uow: UnitOfWork) -> tuple[dict[str, list[int]], dict[int, list]]:
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
    department (the given ones, else the least loaded on the roster) with their backups."""
    butler = await uow.people.get(butler_id)
    if butler is None:
        raise LookupError(f"no person {butler_id}")
    project.butler_id = butler_id
    departments = {d.code: d.id for d in await uow.departments.all()}
    await uow.members.add(project.id, butler_id, "butler")
    contact = await enterprise_contact(uow, project)
    if contact is not None:
        await uow.members.add(project.id, contact.id, "enterprise")
    roster, backups_of = await _roster_by_department(uow)
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
            loads = {pid: len(await uow.items.of_assignee(pid)) for pid in candidates}
            person_id = min(candidates, key=lambda pid: (loads[pid], pid))
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
    await uow.events.append(
        "project.team_assigned",
        at=now,
        actor_id=actor_id,
        project_id=project.id,
        data={
            "butler_id": butler_id,
            "specialists": {c: p.id for c, p in team_specialists.items()},
            "missing": missing,
        },
    )
    return Team(butler, team_specialists, team_backups, missing)


async def enterprise_contact(uow: UnitOfWork, project: Project) -> Person | None:
    """The enterprise contact of a project: a team member, else who filed the application."""
    for member in await uow.members.of_project(project.id):
        if member.role == "enterprise":
            return await uow.people.get(member.person_id)
    if project.application_id is not None:
        app = await uow.applications.get(project.application_id)
        if app is not None:
            return await uow.people.get(app.contact_person_id)
    return None


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


# -- /assign ---------------------------------------------------------------------------
def _label(say: Speaks, scheme: Scheme, department: str) -> str:
    try:
        return say.label(scheme.department(department).name)
    except KeyError:
        return department


@router.command("assign", roles={"office"})
async def assign(ctx: Ctx) -> None:
    """`/assign [PROJECT]`: pick an accepted project, then its butler (with load)."""
    if ctx.in_group:  # it lists other projects; a project group holds an enterprise
        await ctx.reply(ctx._("Send /assign in a direct chat with me."))
        return
    code = ctx.incoming.args.strip()
    if not code:
        waiting = [p for p in await ctx.uow.projects.listed() if p.status == "accepted"]
        if not waiting:
            await ctx.reply(ctx._("No accepted project is waiting for a team."))
            return
        buttons = [[Button(f"{p.code} {p.name}", f"asg:p:{p.id}")] for p in waiting[:10]]
        await ctx.reply(Outgoing(ctx._("Which project gets a team?"), buttons=buttons))
        return
    project = await ctx.uow.projects.by_code(code)
    if project is None:
        await ctx.reply(ctx._("There is no project {code}.", code=code))
        return
    await _butler_buttons(ctx, project)


@router.button("asg:p:", roles={"office"})
async def assign_project_pressed(ctx: Ctx) -> None:
    raw = (ctx.incoming.payload or "").removeprefix("asg:p:")
    project = await ctx.uow.projects.get(int(raw)) if raw.isdigit() else None
    if project is None:
        await ctx.reply(ctx._("This project no longer exists."))
        return
    await _butler_buttons(ctx, project)


async def _butler_buttons(ctx: Ctx, project: Project) -> None:
    butlers = await ctx.uow.people.with_role("butler")
    if not butlers:
        await ctx.reply(ctx._("No butler is on the roster yet. Import it: daiban people import."))
        return
    loads = await ctx.uow.members.butler_loads()
    buttons = [
        [
            Button(
                ctx._("{name} ({count} open)", name=b.name, count=loads.get(b.id, 0)),
                f"asg:b:{project.id}:{b.id}",
            )
        ]
        for b in butlers
    ]
    await ctx.reply(
        Outgoing(
            ctx._(
                "Project {code} {name}: choose its {butler}.",
                code=project.code,
                name=project.name,
                butler=ctx.label(ctx.scheme.roles.butler),
            ),
            buttons=buttons,
        )
    )


@router.button("asg:b:", roles={"office"})
async def butler_pressed(ctx: Ctx) -> None:
    parts = (ctx.incoming.payload or "").removeprefix("asg:b:").split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return
    project = await ctx.uow.projects.get(int(parts[0]))
    if project is None:
        await ctx.reply(ctx._("This project no longer exists."))
        return
    if project.butler_id is not None:
        current = await ctx.uow.people.get(project.butler_id)
        await ctx.reply(
            ctx._(
                "Project {code} already has a butler: {name}.",
                code=project.code,
                name=current.name if current else "—",
            )
        )
        return
    team = await assign_team(ctx.uow, project, int(parts[1]), now=ctx.now, actor_id=ctx.person.id)
    await ctx.reply(team_summary(ctx, ctx.scheme, project, team))
    say = Voice(team.butler.lang)
    notice = say._(
        "You are the butler of project {code} {name}. Create a group chat with the team, "
        "then send /bind {code} here to get the code that binds it.",
        code=project.code,
        name=project.name,
    )
    account = await ctx.uow.people.dm_account(team.butler.id, prefer_platform=ctx.incoming.platform)
    if account is not None and account.platform in ctx.services.group_platforms:
        # Where the messenger lets the bot make the group, one press does it (/group).
        button = Button(say._("Create the team's group chat"), f"grp:{project.id}")
        await ctx.send_to_person(team.butler.id, Outgoing(notice, buttons=[[button]]))
    else:
        await ctx.send_to_person(team.butler.id, notice)


def team_summary(say: Speaks, scheme: Scheme, project: Project, team: Team) -> str:
    """The team as the office sees it after assigning."""
    lines = [
        say._("**Team of project {code}**", code=project.code),
        say._("{role}: {name}", role=say.label(scheme.roles.butler), name=team.butler.name),
    ]
    for code, person in team.specialists.items():
        backups = "、".join(b.name for b in team.backups.get(code, [])) or "—"
        lines.append(
            say._(
                "{department}: {name} (backup: {backups})",
                department=_label(say, scheme, code),
                name=person.name,
                backups=backups,
            )
        )
    for code in team.missing:
        lines.append(
            say._(
                "{department}: no specialist on the roster yet",
                department=_label(say, scheme, code),
            )
        )
    return "\n".join(lines)


# -- /bind -------------------------------------------------------------------------------
@router.command("bind", roles={"butler"})
async def bind(ctx: Ctx) -> None:
    """`/bind [PROJECT]` in a DM issues a group code; `/bind CODE` in a group binds it."""
    if ctx.in_group:
        await _bind_group(ctx, ctx.incoming.args.strip())
        return
    project, _ = await my_project(ctx, ctx.incoming.args, "butler")
    if project is None:
        return
    if project.butler_id != ctx.person.id:
        await ctx.reply(
            ctx._("Only the butler of project {code} can bind its group.", code=project.code)
        )
        return
    code = await new_code(ctx.uow)
    await ctx.uow.invites.add(
        code=code,
        kind="group",
        now=ctx.now,
        project_id=project.id,
        created_by_id=ctx.person.id,
        expires_at=ctx.now + GROUP_CODE_VALID,
    )
    await ctx.reply(
        ctx._(
            "Group code for project {code}: {invite}\nAdd me to the team's group chat and send "
            "there: /bind {invite}\nThe code works once, for 7 days.",
            code=project.code,
            invite=code,
        )
    )


async def _bind_group(ctx: Ctx, code: str) -> None:
    if not code:
        await ctx.reply(
            ctx._("Send /bind in a direct chat with me to get a code, then /bind CODE here.")
        )
        return
    invite = await ctx.uow.invites.by_code(code, for_update=True)
    refusal = invite_refusal(ctx, invite, "group")
    if refusal:
        await ctx.reply(refusal)
        return
    assert invite is not None and invite.project_id is not None
    project = await ctx.uow.projects.get(invite.project_id)
    if project is None or project.butler_id != ctx.person.id:
        await ctx.reply(ctx._("Only the project's butler can bind a group with this code."))
        return
    chat = await ctx.uow.chats.get(ctx.incoming.platform, ctx.incoming.chat_id)
    assert chat is not None
    if chat.project_id is not None and chat.project_id != project.id:
        await ctx.reply(ctx._("This group is already bound to another project."))
        return
    await ctx.uow.invites.use(
        invite, now=ctx.now, used_by=f"{ctx.incoming.platform}:{ctx.incoming.chat_id}"
    )
    plan = await bind_chat(
        ctx.uow,
        ctx.scheme,
        ctx.services.calendar,
        project,
        chat,
        today=ctx.local_now.date(),
        now=ctx.now,
        actor_id=ctx.person.id,
    )
    from handlers.plan import handbook_text  # the handbook module builds on this one

    await ctx.reply(await greeting(ctx, project))
    items = await ctx.uow.items.of_project(project.id)
    await ctx.reply(await handbook_text(ctx, ctx.uow, ctx.scheme, project, plan, items))


async def greeting(ctx: Ctx, project: Project) -> Outgoing:
    """The welcome to the team in its group, @mentioning every member."""
    members = await ctx.uow.members.of_project(project.id)
    people: dict[int, tuple[Person, ProjectMember]] = {}
    for member in members:
        person = await ctx.uow.people.get(member.person_id)
        if person is not None and person.id not in people:
            people[person.id] = (person, member)
    roles = ctx.scheme.roles
    lines = [
        ctx._(
            "**Welcome to the team of project {code} {name}!**",
            code=project.code,
            name=project.name,
        )
    ]
    for person, member in people.values():
        role = getattr(roles, member.role, None)
        lines.append(f"@{person.name} — {ctx.label(role) if role else member.role}")
    lines.append(
        ctx._(
            "Every item has a card with buttons; /status shows where we stand, /log adds a note "
            "to the work log."
        )
    )
    mentions = [Mention(p.id, p.name) for p, _ in people.values()]
    return Outgoing("\n".join(lines), mentions=mentions)
