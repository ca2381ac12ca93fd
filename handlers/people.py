"""Who cannot be reached (人员联络状态), for the office: `/people`.

Staff of the roster who never activated (未激活: no account bound with their code) and
those whose every account the platform refused (无法联系), each with a button that issues
a new code; a new code revokes the older ones (handlers/invites.py).
"""

from __future__ import annotations

from datetime import datetime

from domain.bounds import row_id
from domain.reach import Reach
from handlers.chat import Button, ChatKind, Outgoing
from handlers.context import Ctx
from handlers.i18n import N_
from handlers.invites import issue_person_code
from handlers.render import role_words
from handlers.roles import STAFF
from handlers.router import Router
from storage.models import Person

router = Router("people")

INVITE_PREFIX = "ppl:i:"
BUTTONS_SHOWN = 10  # more: `daiban people invite --pending` on the office computer
CODE_VALID_DAYS = 14


# Names and mobiles of staff: a direct chat with the office only.
@router.command(
    "people",
    roles={"office"},
    chat=ChatKind.DM,
    help=N_("Staff who have not activated or cannot be reached, with new codes"),
)
async def people(ctx: Ctx) -> None:
    """`/people`: pending and unreachable staff, a new-code button for each."""
    unreached = await ctx.uow.people.unreached_staff()
    if not unreached:
        await ctx.reply(ctx._("Everyone on the roster has activated and can be reached."))
        return
    invited = await ctx.uow.invites.last_person_codes([p.id for p, _, _ in unreached])
    pending = [p for p, reach, _ in unreached if reach is Reach.PENDING]
    refused = [(p, since) for p, reach, since in unreached if reach is Reach.UNREACHABLE]
    lines = [ctx._("**Who cannot be reached ({count})**", count=len(unreached))]
    if pending:
        lines.append(ctx._("Not activated (no account bound with their code):"))
        for person in pending:
            sent = invited.get(person.id)
            when = (
                ctx._("code sent {day}", day=_day(ctx, sent))
                if sent
                else ctx._("never sent a code")
            )
            lines.append(f"· {person.name} — {await _roles(ctx, person)} — {when}")
    if refused:
        lines.append(ctx._("Unreachable (their messenger refuses our messages):"))
        for person, since in refused:
            when = ctx._("since {day}", day=_day(ctx, since)) if since else ""
            lines.append(f"· {person.name} — {await _roles(ctx, person)} — {when}".rstrip(" —"))
    everyone = [p for p, _, _ in unreached]
    if len(everyone) > BUTTONS_SHOWN:
        lines.append(
            ctx._(
                "Buttons for the first {n}; for everyone: daiban people invite --pending",
                n=BUTTONS_SHOWN,
            )
        )
    lines.append(
        ctx._("A new code replaces the old one. What they are sent meanwhile goes to their backup.")
    )
    buttons = [
        [Button(ctx._("New code: {name}", name=p.name), f"{INVITE_PREFIX}{p.id}")]
        for p in everyone[:BUTTONS_SHOWN]
    ]
    await ctx.reply(Outgoing("\n".join(lines), buttons=buttons))


@router.button(INVITE_PREFIX, roles={"office"}, chat=ChatKind.DM)  # like /people
async def invite_pressed(ctx: Ctx) -> None:
    """A new one-time code for a staff member; their older codes stop working."""
    number = row_id((ctx.incoming.payload or "").removeprefix(INVITE_PREFIX))
    person = await ctx.uow.people.get(number) if number else None
    roles = {r.role for r in await ctx.uow.people.roles_of(person.id)} if person else set()
    if person is None or not person.active or not roles & STAFF:
        await ctx.reply(ctx._("That person is not on the staff roster."))
        return
    code = await issue_person_code(
        ctx.uow, person, now=ctx.now, valid_days=CODE_VALID_DAYS, created_by_id=ctx.person.id
    )
    await ctx.uow.events.append(
        "person.invited", at=ctx.now, actor_id=ctx.person.id, data={"person_id": person.id}
    )
    await ctx.reply(
        ctx._(
            "New code for {name} ({mobile}): {code}\nValid for {days} days; earlier codes no "
            "longer work. Give it to them by phone or SMS: they send /start {code} to me from "
            "their messenger.",
            name=person.name,
            mobile=person.mobile or "—",
            code=code,
            days=CODE_VALID_DAYS,
        )
    )


async def _roles(ctx: Ctx, person: Person) -> str:
    """The person's staff roles in the scheme's words, with their departments."""
    names = []
    for role in await ctx.uow.people.roles_of(person.id):
        if role.role not in STAFF:
            continue
        name = role_words(ctx, ctx.scheme).get(role.role, role.role)
        if role.department is not None:
            department = role.department.name_en if ctx.lang == "en" else role.department.name_zh
            name = f"{name} · {department}"
        names.append(name)
    return "、".join(dict.fromkeys(names)) or "—"


def _day(ctx: Ctx, at: datetime) -> str:
    return at.astimezone(ctx.services.timezone).date().isoformat()
