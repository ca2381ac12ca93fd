"""The team's group chat made by the bot (建群): `/group`, where the messenger allows it.

On a messenger whose transport can create group chats (WeCom's appchat), the butler asks
for the project's group with `/group [PROJECT]` in a DM, or with the button on the notice
that made them butler. This flow only writes an intent to the outbox — "make a group of
these members" — with a one-time group code; the transport creates the chat and then
binds it exactly as a butler's `/bind CODE` in the new group would (handlers/team.py), so
the plan is generated and the handbook posted there. Asked again once the group exists,
`/group` brings its members in line with the team.

Enterprise contacts are not members of the organisation's messenger: the group is the
team's (butler, specialists, backups); the enterprise follows in its own chat.
"""

from __future__ import annotations

from handlers.access import OnProject
from handlers.chat import ChatKind
from handlers.context import Ctx
from handlers.i18n import N_
from handlers.invites import issue_group_code
from handlers.router import Router
from storage.models import Project
from storage.uow import UnitOfWork

router = Router("groups")

GROUP_INTENT = "group_intent"  # the outbox payload key a group-making transport executes
BUTTON = "grp:"
TEAM_ROLES = ("butler", "specialist", "backup")


async def team_accounts(uow: UnitOfWork, project: Project, platform: str) -> list[str]:
    """The active team's account ids on `platform`, butler first, each once."""
    members = sorted(
        (m for m in await uow.members.of_project(project.id) if m.role in TEAM_ROLES),
        key=lambda m: (m.role != "butler", m.person_id),
    )
    found: list[str] = []
    for member in members:
        person = await uow.people.get(member.person_id)
        account = await uow.people.dm_account(member.person_id, prefer_platform=platform)
        if (
            person is not None
            and person.active
            and account is not None
            and account.platform == platform
            and account.external_id not in found
        ):
            found.append(account.external_id)
    return found


def update_intent(chat_external_id: str, members: list[str]) -> dict[str, object]:
    """The intent that brings a made group's members in line with the team."""
    return {"action": "update", "chat": chat_external_id, "members": members}


@router.command(
    "group",
    roles={"butler"},
    chat=ChatKind.DM,
    scope=OnProject("butler"),
    help=N_("Create the team's group chat, or update its members"),
)
async def group(ctx: Ctx) -> None:
    """`/group [PROJECT]`: create the team's group chat, or bring its members up to date."""
    assert ctx.project is not None
    await _make_group(ctx, ctx.project)


@router.button(BUTTON, roles={"butler"}, chat=ChatKind.DM, scope=OnProject("butler", via="project"))
async def group_pressed(ctx: Ctx) -> None:
    """The button on the notice that made them butler."""
    assert ctx.project is not None
    await _make_group(ctx, ctx.project)


async def _make_group(ctx: Ctx, project: Project) -> None:
    platform = ctx.incoming.platform
    if platform not in ctx.services.group_platforms:
        await ctx.reply(
            ctx._(
                "Here I cannot create group chats. Create the team's group yourself, add me, "
                "then send /bind {code} here for the code that binds it.",
                code=project.code,
            )
        )
        return
    members = await team_accounts(ctx.uow, project, platform)
    bound = [c for c in await ctx.uow.chats.for_project(project.id) if c.platform == platform]
    intent: dict[str, object]
    if bound:
        intent = update_intent(bound[0].external_id, members)
        text = ctx._(
            "The group of project {code} exists; I am bringing its members in line with the "
            "team ({count} people).",
            code=project.code,
            count=len(members),
        )
    elif len(members) < 2:
        await ctx.reply(
            ctx._(
                "A group needs at least two team members who use this messenger; project "
                "{code} has {count}. Assign the team first (/assign), then try again.",
                code=project.code,
                count=len(members),
            )
        )
        return
    else:
        code = await issue_group_code(
            ctx.uow, project.id, now=ctx.now, created_by_id=ctx.person.id
        )
        intent = {
            "action": "create",
            "name": f"{project.code} {project.name}",
            "owner": ctx.incoming.sender.external_id,
            "members": members,
            "invite": code,
        }
        text = ctx._(
            "Creating the group chat of project {code} with {count} team members; the "
            "handbook follows there.",
            code=project.code,
            count=len(members),
        )
    await ctx.reply(text)
    ctx.post.instruct(  # after the reply, in the butler's lane
        platform,
        ctx.incoming.chat_id,
        {GROUP_INTENT: intent},
        suffix="group",
        person_id=ctx.person.id,
    )


__all__ = ["BUTTON", "GROUP_INTENT", "group", "team_accounts", "update_intent"]
