"""Quiet settings (免打扰): `/mute 2h`, `/mute 3d`, `/mute until 2026-12-10`, `/mute off`.

A person who is quiet gets no morning message (晨间待办) until the time they chose,
except for a problem of theirs that stands at the leaders' rung. The setting is bounded
(at most `MAX_DAYS` ahead) and a word the bot cannot read gets the forms it can.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo

from handlers.chat import ChatKind
from handlers.context import Ctx
from handlers.i18n import N_
from handlers.render import local_time
from handlers.router import Router

router = Router("mute")

MAX_DAYS = 30
OFF_WORDS = {"off", "关闭", "取消", "恢复"}
SPAN = re.compile(r"^(\d{1,4})\s*(h|小时|d|天)$", re.IGNORECASE)
UNTIL = re.compile(r"^(?:until|到|至)\s*(\S+)$", re.IGNORECASE)


def quiet_until(words: str, now: datetime, today: date, tz: tzinfo) -> datetime | str:
    """The end of the quiet period ``words`` asks for, or the msgid of why not."""
    span = SPAN.match(words)
    if span:
        count, unit = int(span.group(1)), span.group(2).lower()
        hours = count * 24 if unit in {"d", "天"} else count
        if not 1 <= hours <= MAX_DAYS * 24:
            return N_("Between 1 hour and {days} days: for example /mute 2h or /mute 3d.")
        return now + timedelta(hours=hours)
    until = UNTIL.match(words)
    if until:
        try:
            day = date.fromisoformat(until.group(1))
        except ValueError:
            return N_("Write the day as YYYY-MM-DD, for example /mute until {example}.")
        if day <= today:
            return N_("That day is not after today: for example /mute until {example}.")
        if day > today + timedelta(days=MAX_DAYS):
            return N_("At most {days} days ahead: /mute until {latest} at the latest.")
        return datetime.combine(day, time(0), tz)
    return N_(
        "I cannot read “{words}”. Write /mute 2h (hours), /mute 3d (days),"
        " /mute until {example} or /mute off; at most {days} days."
    )


@router.command(
    "mute",
    roles={"specialist", "backup", "butler", "office"},
    chat=ChatKind.DM,
    help=N_("Quiet the morning message: /mute 2h, /mute until DATE, /mute off"),
)
async def mute(ctx: Ctx) -> None:
    """`/mute`: show, set or end the sender's quiet period."""
    words = " ".join(ctx.args.split())[:40]
    tz = ctx.services.timezone
    person_id = ctx.person.id
    if not words:
        until = await ctx.uow.mutes.until(person_id, ctx.now)
        if until is None:
            await ctx.reply(ctx._("You get the morning message. Quiet it with /mute 2h."))
        else:
            await ctx.reply(
                ctx._("Quiet until {until}. /mute off to hear again.", until=local_time(until, tz))
            )
        return
    if words.lower() in OFF_WORDS:
        await ctx.uow.mutes.clear(person_id)
        await ctx.reply(ctx._("Quiet is off: you get the morning message again."))
        return
    local = ctx.local_now
    result = quiet_until(words, ctx.now, local.date(), tz)
    if isinstance(result, str):
        await ctx.reply(
            ctx._(
                result,
                words=words,
                days=MAX_DAYS,
                example=(local.date() + timedelta(days=7)).isoformat(),
                latest=(local.date() + timedelta(days=MAX_DAYS)).isoformat(),
            )
        )
        return
    await ctx.uow.mutes.set(person_id, result, ctx.now)
    await ctx.reply(
        ctx._(
            "Quiet until {until}: no morning message until then. A problem that has"
            " reached the {leader} still reaches you. /mute off to hear again.",
            until=local_time(result, tz),
            leader=ctx.label(ctx.scheme.roles.leader),
        )
    )


__all__ = ["quiet_until", "router"]
