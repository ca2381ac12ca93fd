"""Refusals (拒绝): the one way the house says no, in the asker's language.

The router and the route scopes (handlers/access.py) refuse; handlers never do. A refusal
names what the person may do instead and never shows the project's data.
"""

from __future__ import annotations

from collections.abc import Iterable

from handlers.chat import ChatKind
from handlers.context import Ctx
from handlers.render import role_words
from handlers.role_placement import mid_sentence


async def refuse_roles(ctx: Ctx, roles: Iterable[str]) -> None:
    """Only people with one of `roles` may use this."""
    words = role_words(ctx, ctx.scheme)
    await ctx.reply(
        ctx._(
            "Sorry, this is only for: {roles}. Ask the {office} if you need access.",
            roles=", ".join(sorted(mid_sentence(words.get(r, r)) for r in roles)),
        )
    )


async def refuse_chat(ctx: Ctx, wanted: ChatKind | None, instead: str | None = None) -> None:
    """The command belongs in the other kind of chat (`instead`: the route's own words)."""
    command = ctx.incoming.command or ""
    if instead is not None:
        await ctx.reply(ctx._(instead))
    elif wanted is ChatKind.DM:
        await ctx.reply(ctx._("Send /{command} in a direct chat with me.", command=command))
    else:
        await ctx.reply(ctx._("Send /{command} in the project's group chat.", command=command))


async def refuse_unbound_group(ctx: Ctx) -> None:
    await ctx.reply(
        ctx._(
            "This group is not bound to a project. The {butler} binds it with "
            "/bind CODE (the code comes from /bind in a direct chat with me)."
        )
    )


async def refuse_not_on_team(ctx: Ctx, code: str) -> None:
    """The sender is not on the project's team (in its group, or naming it in a DM)."""
    if ctx.in_group:
        await ctx.reply(
            ctx._(
                "Sorry, {name}: you are not on the team of project {code}, so you cannot act on "
                "it here. Ask the {butler} or the {office}.",
                name=ctx.person.name,
                code=code,
            )
        )
    else:
        await ctx.reply(ctx._("You are not on the team of project {code}.", code=code))


async def refuse_not_butler(ctx: Ctx, code: str) -> None:
    await ctx.reply(ctx._("Only the {butler} of project {code} can do this.", code=code))


async def refuse_not_contact(ctx: Ctx) -> None:
    await ctx.reply(ctx._("Only the enterprise contact of the project can confirm its completion."))


async def refuse_not_dispatcher(ctx: Ctx, code: str) -> None:
    await ctx.reply(
        ctx._(
            "Only the {butler} of project {code}, the {office} or a leader can act on its "
            "problems.",
            code=code,
        )
    )
