"""Access (权限): what an event is about, and whether its sender may act on it.

Routes declare it (`scope=OnProject(...)`, `scope=RatingRound()`, `scope=Mine(...)`) and
the router checks it before the handler runs, so a command and the button that does the
same thing are authorised alike. A group chat bound to a project speaks for that project;
in a direct chat the project is the one whose code comes first, or the person's only one;
a button names its item, problem or project in its payload. The office and leaders
oversee every project; everyone else acts only on the projects whose team they are on.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from domain.bounds import row_id
from domain.rating_rounds import open_round
from handlers import log_context
from handlers.context import Ctx
from handlers.i18n import N_
from handlers.invites import guessing_blocked, invite_refusal, refuse_code
from handlers.problem_choice import offer_problems, open_problems_here
from handlers.projects import enterprise_contact
from handlers.refusals import (
    refuse_not_butler,
    refuse_not_contact,
    refuse_not_dispatcher,
    refuse_not_on_team,
    refuse_unbound_group,
)
from handlers.roles import STAFF
from storage.models import Problem, Project
from storage.uow import UnitOfWork

OVERSEERS = frozenset({"office", "leader"})
DISPATCHERS = frozenset({"butler", "office", "leader"})

Who = Literal["team", "staff", "butler", "dispatch", "contact"]
"""Who on the project may act: anyone on its team; its team but the enterprise; its own
butler; its butler, the office or a leader (problems); its enterprise contact."""

Via = Literal[
    "chat_or_code", "chat", "item", "project", "code", "problem", "problem_button", "group_code"
]
"""Where the project comes from: the chat or a code put first; the group chat only; the
item, project id or project code of a button's payload; the problem named (or the
group's oldest open one); the one-time group code (绑定码) its butler was given."""

AUDIENCE: dict[str, frozenset[str]] = {
    "team": frozenset(),
    "staff": STAFF,
    "butler": frozenset({"butler"}),
    "dispatch": DISPATCHERS,
    "contact": frozenset(),
}


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


@dataclass(frozen=True)
class OnProject:
    """A route's scope (作用域): it acts on one project, found `via`, and `who` may act.

    On admission `ctx.project` is the project, `ctx.args` what follows its code, and
    `ctx.target` the item or problem a payload or argument named.
    """

    who: Who = "team"
    via: Via = "chat_or_code"
    missing: str = N_("No open problem found. Give its number, e.g. /ack #12.")

    @property
    def audience(self) -> frozenset[str]:
        return AUDIENCE[self.who]

    async def admit(self, ctx: Ctx) -> bool:
        project = await FINDERS[self.via](ctx, self)
        if project is None:
            return False
        log_context.bind_project(project.id, project.code)
        if not await may_act(ctx, project, self.who):
            return False
        ctx.project = project
        return True


async def may_act(ctx: Ctx, project: Project, who: Who) -> bool:
    """Whether the sender may act on `project` as `who` demands; refuses when not."""
    overseer = ctx.has_role(*OVERSEERS)
    if who == "dispatch":
        if overseer or project.butler_id == ctx.person.id:
            return True
        await refuse_not_dispatcher(ctx, project.code)
        return False
    if who == "contact":
        contact = await enterprise_contact(ctx.uow, project)
        if contact is not None and contact.id == ctx.person.id:
            return True
        await refuse_not_contact(ctx)
        return False
    roles = await team_roles(ctx.uow, project, ctx.person.id)
    if who == "staff":
        roles.discard("enterprise")
    if not (overseer or roles):
        await refuse_not_on_team(ctx, project.code)
        return False
    if who == "butler" and project.butler_id != ctx.person.id:
        await refuse_not_butler(ctx, project.code)
        return False
    return True


# -- finding the project ------------------------------------------------------------------
Finder = Callable[[Ctx, OnProject], Awaitable[Project | None]]


async def _chat(ctx: Ctx, _scope: OnProject) -> Project | None:
    project = await project_of_chat(ctx.uow, ctx.incoming.platform, ctx.incoming.chat_id)
    if project is None:
        await refuse_unbound_group(ctx)
    return project


async def _chat_or_code(ctx: Ctx, scope: OnProject) -> Project | None:
    """The group's project; in a DM a project code given first (``P2026-0001 …``), or the
    person's only open project (as butler, for the butler's own commands)."""
    if ctx.in_group:
        return await _chat(ctx, scope)
    head, _, rest = ctx.incoming.args.strip().partition(" ")
    if head:
        found = await ctx.uow.projects.by_code(head)
        if found is not None:
            ctx.scoped_args = rest.strip()
            return found
    role = "butler" if scope.who == "butler" else None
    mine = [
        p for p in await ctx.uow.members.projects_of(ctx.person.id, role) if p.status != "archived"
    ]
    if len(mine) == 1:
        return mine[0]
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
    return None


def _payload_id(ctx: Ctx) -> int | None:
    """The number after the button's prefix (``it:12:submit`` → 12, ``fin:ok:3`` → 3)."""
    for part in (ctx.incoming.payload or "").split(":"):
        if part.isascii() and part.isdigit():
            return row_id(part)
    return None


async def _item(ctx: Ctx, _scope: OnProject) -> Project | None:
    """The project of the item a button names; in a group it must be the group's own."""
    item_id = _payload_id(ctx)
    item = await ctx.uow.items.get(item_id, for_update=True) if item_id is not None else None
    project = await ctx.uow.projects.get(item.project_id) if item is not None else None
    if item is None or project is None:
        await ctx.reply(ctx._("This item no longer exists."))
        return None
    if ctx.in_group:
        here = await project_of_chat(ctx.uow, ctx.incoming.platform, ctx.incoming.chat_id)
        if here is None or here.id != project.id:
            await ctx.reply(
                ctx._("This button belongs to another project's group; press it there.")
            )
            return None
    ctx.target = item
    return project


async def _project(ctx: Ctx, _scope: OnProject) -> Project | None:
    project_id = _payload_id(ctx)
    project = await ctx.uow.projects.get(project_id) if project_id is not None else None
    if project is None:
        await ctx.reply(ctx._("This project no longer exists."))
    return project


async def _code(ctx: Ctx, _scope: OnProject) -> Project | None:
    code = (ctx.incoming.payload or "").partition(":")[2]
    project = await ctx.uow.projects.by_code(code)
    if project is None:
        await ctx.reply(ctx._("There is no project {code}.", code=code))
    return project


async def _problem(ctx: Ctx, scope: OnProject) -> Project | None:
    """The problem named first (``#12``); else the only open problem of the group's
    project (in a DM: of the sender's projects as butler, or every project for the office
    and leaders); several: they are offered as buttons."""
    words = ctx.incoming.args.split()
    problem = None
    if words and (number := re.fullmatch(r"#?([0-9]+)", words[0])):
        problem_id = row_id(number.group(1))
        problem = await ctx.uow.problems.get(problem_id) if problem_id else None
        words = words[1:]
    else:
        here = None
        if ctx.in_group:
            here = await project_of_chat(ctx.uow, ctx.incoming.platform, ctx.incoming.chat_id)
        open_ones = await open_problems_here(ctx, here, overseer=ctx.has_role(*OVERSEERS))
        if len(open_ones) > 1:
            await offer_problems(ctx, open_ones)
            return None
        problem = open_ones[0] if open_ones else None
    return await _open_problem(ctx, scope, problem, " ".join(words))


async def _problem_button(ctx: Ctx, scope: OnProject) -> Project | None:
    problem_id = row_id((ctx.incoming.payload or "").rsplit(":", 1)[-1])
    problem = await ctx.uow.problems.get(problem_id) if problem_id else None
    return await _open_problem(ctx, scope, problem, "")


async def _open_problem(
    ctx: Ctx, scope: OnProject, problem: Problem | None, rest: str
) -> Project | None:
    project = await ctx.uow.projects.get(problem.project_id) if problem is not None else None
    if problem is None or problem.state == "resolved" or project is None:
        await ctx.reply(ctx._(scope.missing))
        return None
    ctx.target, ctx.scoped_args = problem, rest
    return project


async def _group_code(ctx: Ctx, _scope: OnProject) -> Project | None:
    """The project of a valid one-time group code, for its butler only (`ctx.target`: the
    code's invite, which the handler uses up)."""
    code = ctx.incoming.args.strip()
    if not code:
        await ctx.reply(
            ctx._("Send /bind in a direct chat with me to get a code, then /bind CODE here.")
        )
        return None
    if await guessing_blocked(ctx):
        return None
    invite = await ctx.uow.invites.by_code(code, for_update=True)
    refusal = invite_refusal(ctx, invite, "group")
    if refusal:
        await refuse_code(ctx, refusal)
        return None
    assert invite is not None and invite.project_id is not None
    project = await ctx.uow.projects.get(invite.project_id)
    if project is None or project.butler_id != ctx.person.id:
        await ctx.reply(ctx._("Only the {butler} can bind a group with this code."))
        return None
    ctx.target = invite
    return project


FINDERS: dict[str, Finder] = {
    "group_code": _group_code,
    "chat_or_code": _chat_or_code,
    "chat": _chat,
    "item": _item,
    "project": _project,
    "code": _code,
    "problem": _problem,
    "problem_button": _problem_button,
}


# -- things of one's own -------------------------------------------------------------------
@dataclass(frozen=True)
class Mine:
    """Scope of a button naming something of the presser's own: their question
    (``ticket``) or their application (``application``). Anyone else is told it is gone,
    as if it did not exist; `ctx.target` is the row."""

    kind: Literal["ticket", "application"]

    @property
    def audience(self) -> frozenset[str]:
        return frozenset()

    async def admit(self, ctx: Ctx) -> bool:
        number = _payload_id(ctx)
        if self.kind == "ticket":
            ticket = await ctx.uow.tickets.get(number, for_update=True) if number else None
            if ticket is not None and ticket.asker_id == ctx.person.id:
                ctx.target = ticket
                return True
            await ctx.reply(ctx._("Please type your question again."))
            return False
        app = await ctx.uow.applications.get(number) if number else None
        if app is not None and app.contact_person_id == ctx.person.id:
            ctx.target = app
            return True
        await ctx.reply(ctx._("This application no longer exists."))
        return False


# -- enterprise claims ---------------------------------------------------------------------
ONLY_CONTACTS_DECIDE = N_(
    "Only a contact of the enterprise or the {office} can decide this request."
)


@dataclass(frozen=True)
class ClaimDecider:
    """Scope of a claim's Approve/Refuse button (``claim:VERB:ID``, 认领审核): the claim
    exists and the presser is a contact of its enterprise or the office, never the
    claimant. `ctx.target` is the claim, locked for the decision."""

    @property
    def audience(self) -> frozenset[str]:
        return frozenset()

    async def admit(self, ctx: Ctx) -> bool:
        number = row_id((ctx.incoming.payload or "").rsplit(":", 1)[-1])
        claim = await ctx.uow.enterprises.get_claim(number, for_update=True) if number else None
        enterprise = await ctx.uow.enterprises.get(claim.enterprise_id) if claim else None
        if claim is None or enterprise is None:
            await ctx.reply(ctx._("This request no longer exists."))
            return False
        allowed = ctx.has_role("office") or ctx.person.enterprise_id == enterprise.id
        if not allowed or ctx.person.id == claim.person_id:
            await ctx.reply(ctx._(ONLY_CONTACTS_DECIDE))
            return False
        ctx.target = claim
        return True


# -- rating rounds --------------------------------------------------------------------------
@dataclass(frozen=True)
class RatingAsk:
    """What a round's "Rate" button asks: whom (``team`` or ``enterprise``), for which period."""

    subject: str
    period: str


@dataclass(frozen=True)
class RatingRound:
    """Scope of a "Rate" button (``rate:PROJECT:SUBJECT:PERIOD``): the period's round is
    open, and the presser is whom the round asks (the enterprise contact rates the team,
    the project's butler the enterprise). `ctx.target` is the `RatingAsk`."""

    prefix: str = "rate:"

    @property
    def audience(self) -> frozenset[str]:
        return frozenset()

    async def admit(self, ctx: Ctx) -> bool:
        parts = (ctx.incoming.payload or "").removeprefix(self.prefix).split(":")
        project = None
        project_id = row_id(parts[0])
        if len(parts) == 3 and project_id and parts[1] in {"team", "enterprise"}:
            project = await ctx.uow.projects.get(project_id)
        if project is None or not await _asked(ctx, project, parts[1]):
            await ctx.reply(ctx._("This rating is not yours to give."))
            return False
        scheme = ctx.scheme
        current = open_round(
            scheme.reports.rating_cycle,
            ctx.services.calendar,
            ctx.local_now.replace(tzinfo=None),
            scheme.reminders.working_hours.start,
        )
        if parts[2] != current:
            await ctx.reply(ctx._("The rating round {period} is not open.", period=parts[2][:20]))
            return False
        log_context.bind_project(project.id, project.code)
        ctx.project, ctx.target = project, RatingAsk(parts[1], parts[2])
        return True


async def _asked(ctx: Ctx, project: Project, subject: str) -> bool:
    """Whether a round asks this person about this subject of the project."""
    if project.butler_id is None:
        return False  # a round asks only projects with a butler
    if subject == "enterprise":
        return project.butler_id == ctx.person.id
    roles = {m.role for m in await ctx.uow.members.roles_in(project.id, ctx.person.id)}
    return "enterprise" in roles
