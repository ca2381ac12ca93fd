"""Project teams (代办组): assigning the butler and specialists, binding the group chat.

The office assigns a butler (`/assign`, buttons with each butler's load); specialists of
the project's checklist departments are attached from the roster with their backups. The
butler binds a group chat with a one-time code (`/bind` in a DM, `/bind CODE` in the
group); binding generates the plan and posts the handbook (一项目一册).
"""

from __future__ import annotations

from domain.bounds import row_id
from domain.reach import Reach
from domain.scheme import Scheme
from handlers.access import OnProject
from handlers.chat import Button, ChatKind, Mention, Outgoing
from handlers.context import Ctx
from handlers.handbook import handbook_text
from handlers.i18n import N_
from handlers.invites import issue_group_code
from handlers.problem_notices import GROUP_LANG
from handlers.projects import Team, assign_team, bind_chat
from handlers.render import Speaks, Voice
from handlers.router import Router
from handlers.staffing import (
    CHOICE_PREFIX,
    choice_message,
    choose_specialist,
    department_choices,
    reach_note,
)
from storage.models import Invite, Person, Project, ProjectMember

router = Router("team")


# -- /assign ---------------------------------------------------------------------------
def _label(say: Speaks, scheme: Scheme, department: str) -> str:
    try:
        return say.label(scheme.department(department).name)
    except KeyError:
        return department


# It lists other projects: never in a project group, which holds an enterprise.
@router.command(
    "assign",
    roles={"office"},
    chat=ChatKind.DM,
    help=N_("Give an accepted project its {butler} and team"),
)
async def assign(ctx: Ctx) -> None:
    """`/assign [PROJECT]`: pick an accepted project, then its butler (with load); for a
    project with a team, choose its specialists per department."""
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
    if project.butler_id is not None and project.status != "archived":
        await _specialist_choices(ctx, project, asked=True)
        return
    await _butler_buttons(ctx, project)


@router.button("asg:p:", roles={"office"}, chat=ChatKind.DM)  # like /assign
async def assign_project_pressed(ctx: Ctx) -> None:
    raw = (ctx.incoming.payload or "").removeprefix("asg:p:")
    number = row_id(raw)
    project = await ctx.uow.projects.get(number) if number else None
    if project is None:
        await ctx.reply(ctx._("This project no longer exists."))
        return
    await _butler_buttons(ctx, project)


async def _butler_buttons(ctx: Ctx, project: Project) -> None:
    butlers = await ctx.uow.people.with_role("butler")
    if not butlers:
        await ctx.reply(ctx._("No {butler} is on the roster yet. Import it: daiban people import."))
        return
    loads = await ctx.uow.members.butler_loads()
    reach = await ctx.uow.people.reach([b.id for b in butlers])
    buttons = [
        [
            Button(
                ctx._("{name} ({count} open)", name=b.name, count=loads.get(b.id, 0))
                + reach_note(ctx, reach[b.id]),
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


@router.button("asg:b:", roles={"office"}, chat=ChatKind.DM)
async def butler_pressed(ctx: Ctx) -> None:
    parts = (ctx.incoming.payload or "").removeprefix("asg:b:").split(":")
    project_id, butler_id = [*(row_id(p) for p in parts), None, None][:2]
    project = await ctx.uow.projects.get(project_id) if project_id and len(parts) == 2 else None
    if project is None:
        await ctx.reply(ctx._("This project no longer exists."))
        return
    # The buttons offer the roster's butlers only; a forged id must not make anyone one.
    if butler_id is None or not await ctx.uow.people.has_role(butler_id, "butler"):
        await ctx.reply(ctx._("The roster does not name that person as {butler}."))
        return
    if project.butler_id is not None:
        current = await ctx.uow.people.get(project.butler_id)
        await ctx.reply(
            ctx._(
                "The {butler} of project {code} is already {name}.",
                code=project.code,
                name=current.name if current else "—",
            )
        )
        return
    team = await assign_team(ctx.uow, project, butler_id, now=ctx.now, actor_id=ctx.person.id)
    await ctx.reply(team_summary(ctx, ctx.scheme, project, team))
    await _specialist_choices(ctx, project, asked=False)
    say = Voice(team.butler.lang, ctx.scheme)
    notice = say._(
        "You are the {butler} of project {code} {name}. Create a group chat with the team, "
        "then send /bind {code} here to get the code that binds it.",
        code=project.code,
        name=project.name,
    )
    account = await ctx.uow.people.dm_account(team.butler.id, prefer_platform=ctx.incoming.platform)
    if account is not None and account.platform in ctx.services.group_platforms:
        # Where the messenger lets the bot make the group, one press does it (/group).
        button = Button(say._("Create the team's group chat"), f"grp:{project.id}")
        await ctx.post.to_person(team.butler.id, Outgoing(notice, buttons=[[button]]))
    else:
        await ctx.post.to_person(team.butler.id, notice)


def team_summary(say: Speaks, scheme: Scheme, project: Project, team: Team) -> str:
    """The team as the office sees it after assigning (who cannot be reached, marked)."""

    def name(person: Person) -> str:
        why = team.unreached(person)
        return person.name + (reach_note(say, why) if why else "")

    lines = [
        say._("**Team of project {code}**", code=project.code),
        say._("{role}: {name}", role=say.label(scheme.roles.butler), name=name(team.butler)),
    ]
    for code, person in team.specialists.items():
        backups = "、".join(name(b) for b in team.backups.get(code, [])) or "—"
        lines.append(
            say._(
                "{department}: {name} (backup: {backups})",
                department=_label(say, scheme, code),
                name=name(person),
                backups=backups,
            )
        )
    for code in team.missing:
        lines.append(
            say._(
                "{department}: no {specialist} on the roster yet",
                department=_label(say, scheme, code),
            )
        )
    if any(team.unreached(p) for p in [team.butler, *team.specialists.values()]):
        lines.append(
            say._(
                "Someone on this team cannot be reached yet: /people sends them a new code; "
                "what they are sent meanwhile goes to their backup."
            )
        )
    return "\n".join(lines)


async def _specialist_choices(ctx: Ctx, project: Project, *, asked: bool) -> None:
    """Per department with a choice (several specialists on the roster, or the one on the
    team unreachable), its specialists as buttons with load and reachability; `asked`:
    the office asked for this project (`/assign CODE`), so say so when there is none."""
    choices = [
        choice
        for choice in await department_choices(ctx.uow, project)
        if len(choice.candidates) > 1
        or (choice.current is not None and choice.current.reach is not Reach.REACHABLE)
    ]
    if asked:
        await ctx.reply(
            ctx._(
                "Project {code} {name}: choose its {specialist} per department.",
                code=project.code,
                name=project.name,
            )
            if choices
            else ctx._(
                "Project {code}: each of its departments has one {specialist} on the roster "
                "at most, so there is nothing to choose.",
                code=project.code,
            )
        )
    for choice in choices:
        name = _label(ctx, ctx.scheme, choice.code)
        await ctx.reply(choice_message(ctx, project, choice, name))


@router.button(CHOICE_PREFIX, roles={"office"}, chat=ChatKind.DM)  # like /assign
async def specialist_pressed(ctx: Ctx) -> None:
    """The office's choice of a department's specialist: swap them on the team."""
    parts = (ctx.incoming.payload or "").removeprefix(CHOICE_PREFIX).split(":")
    ids = [row_id(p) for p in parts]
    project = None
    if len(ids) == 3 and ids[0] is not None:
        project = await ctx.uow.projects.get(ids[0])
    if project is None or project.status == "archived":
        await ctx.reply(ctx._("This project no longer exists."))
        return
    _, department_id, person_id = ids
    swap = None
    if department_id is not None and person_id is not None and project.butler_id is not None:
        swap = await choose_specialist(
            ctx.uow, project, department_id, person_id, now=ctx.now, actor_id=ctx.person.id
        )
    if swap is None:
        await ctx.reply(
            ctx._("The roster does not name that person as {specialist} of that department.")
        )
        return
    assert department_id is not None
    department = await ctx.uow.departments.name(department_id, ctx.lang) or "—"
    if swap.already:
        await ctx.reply(
            ctx._(
                "{name} already is the {specialist} of {department} on project {code}.",
                name=swap.person.name,
                department=department,
                code=project.code,
            )
        )
        return
    lines = [
        ctx.n_(
            "{name} is now the {specialist} of {department} on project {code}; {n} open item "
            "moved to them.",
            "{name} is now the specialist of {department} on project {code}; {n} open items "
            "moved to them.",
            swap.moved,
            name=swap.person.name,
            department=department,
            code=project.code,
        )
    ]
    if swap.reach is not Reach.REACHABLE and swap.backups:
        lines.append(
            ctx._(
                "{name} cannot be reached yet{note}: what they are sent goes to their backup "
                "until they are. /people sends them a new code.",
                name=swap.person.name,
                note=reach_note(ctx, swap.reach),
            )
        )
    elif swap.reach is not Reach.REACHABLE:
        lines.append(
            ctx._(
                "{name} cannot be reached yet{note} and has no backup: what they are sent "
                "reaches nobody until they are. /people sends them a new code.",
                name=swap.person.name,
                note=reach_note(ctx, swap.reach),
            )
        )
    await ctx.reply("\n".join(lines))
    group = Voice(GROUP_LANG, ctx.scheme)
    await ctx.post.to_project_groups(
        project.id,
        Outgoing(
            group._(
                "@{name} is now the {specialist} of {department} on this project; its open "
                "items are theirs.",
                name=swap.person.name,
                department=await ctx.uow.departments.name(department_id, group.lang) or "—",
            ),
            mentions=[Mention(swap.person.id, swap.person.name)],
        ),
        f"specialist:{department_id}",
    )
    if swap.reach is Reach.REACHABLE:
        say = Voice(swap.person.lang, ctx.scheme)
        await ctx.post.to_person(
            swap.person.id,
            say._(
                "You are now the {specialist} of {department} on project {code} {name}.",
                department=await ctx.uow.departments.name(department_id, say.lang) or "—",
                code=project.code,
                name=project.name,
            ),
        )


# -- /bind -------------------------------------------------------------------------------
@router.command(
    "bind",
    roles={"butler"},
    chat=ChatKind.DM,
    scope=OnProject("butler"),
    help=N_("Bind the project's group chat (one-time code)"),
)
async def bind(ctx: Ctx) -> None:
    """`/bind [PROJECT]` in a DM issues the code that binds the project's group."""
    project = ctx.project
    assert project is not None
    code = await issue_group_code(ctx.uow, project.id, now=ctx.now, created_by_id=ctx.person.id)
    await ctx.reply(
        ctx._(
            "Group code for project {code}: {invite}\nAdd me to the team's group chat and send "
            "there: /bind {invite}\nThe code works once, for 7 days.",
            code=project.code,
            invite=code,
        )
    )


@router.command(
    "bind", roles={"butler"}, chat=ChatKind.GROUP, scope=OnProject("butler", via="group_code")
)
async def bind_group(ctx: Ctx) -> None:
    """`/bind CODE` in a group binds it to the code's project (the code's butler only)."""
    project, invite = ctx.project, ctx.target
    assert project is not None and isinstance(invite, Invite)
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
