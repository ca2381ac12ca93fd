"""The leaders' daily digest (领导每日简报): one message per leader per working day.

Problems first (level, days open), then overdue items (top N by working days overdue,
with department), items due today, new applications and acceptances since the previous
digest, items completed the previous working day, projects by stage, and who has not
responded to nudges. Buttons lead to `/status` of each project mentioned. `/digest`
previews today's; `/digest 2026-10-12` shows a past day's as it stood that day, from the
facts the digest job kept (`handlers/digest_facts.py`).
"""

from __future__ import annotations

from datetime import date

from domain.bounds import DATE_MAX, DATE_MIN, date_in_range
from domain.scheme import Scheme
from handlers.chat import Button, ChatKind, Outgoing
from handlers.context import Ctx, Services
from handlers.digest_facts import TOP_LINES, TOP_OVERDUE, Facts, digest_slot, gather_facts
from handlers.i18n import N_, translate
from handlers.router import Router
from storage.uow import UnitOfWork

router = Router("digest")

MAX_BUTTONS = 8


def _t(lang: str, msgid: str, **params: object) -> str:
    return translate(lang, msgid, **params)


async def build_digest(uow: UnitOfWork, services: Services, day: date, lang: str) -> Outgoing:
    """The digest of ``day`` in ``lang`` from the store as it is now."""
    return (await build_digests(uow, services, day, [lang]))[lang]


async def build_digests(
    uow: UnitOfWork, services: Services, day: date, langs: list[str]
) -> dict[str, Outgoing]:
    """The digest of ``day`` in each of ``langs``: the store is read once for all."""
    langs = list(dict.fromkeys(langs))  # one per leader: each language once
    if not langs:
        return {}
    facts = await gather_facts(uow, services, day)
    return {lang: render_digest(facts, lang, services.scheme) for lang in langs}


def render_digest(facts: Facts, lang: str, scheme: Scheme) -> Outgoing:
    """The digest message in ``lang`` from a day's facts."""
    mentioned: list[str] = []

    def mention(code: str) -> None:
        if code not in mentioned:
            mentioned.append(code)

    out: list[str] = ["**" + _t(lang, "Daily digest for {day}", day=facts["day"]) + "**"]
    out.append("")
    out.append("**" + _t(lang, "Problems needing attention") + "**")
    for line in facts["problems"]:
        mention(line["code"])
        reason = line["reason"]  # by language; a plain text in facts kept before grouping
        if isinstance(reason, dict):
            reason = reason.get(lang) or next(iter(reason.values()), "")
        out.append(
            _t(
                lang,
                "· #{id} level {level} · {project} · open {days} working days · {reason}",
                id=line["id"],
                level=line["level"],
                project=line["project"],
                days=line["days"],
                reason=reason,
            )
        )
    out += _more(lang, facts["problems_total"] - TOP_LINES)
    if not facts["problems"]:
        out.append(_t(lang, "· none"))

    out += ["", "**" + _t(lang, "Overdue items ({n})", n=facts["overdue_total"]) + "**"]
    for line in facts["overdue"]:
        mention(line["code"])
        out.append(
            _t(
                lang,
                "· {item} · {project} · {dept} · {n} working days overdue",
                item=line["item"].get(lang, line["item"]["zh_CN"]),
                project=line["project"],
                dept=line["dept"].get(lang, line["dept"]["zh_CN"]),
                n=line["days"],
            )
        )
    out += _more(lang, facts["overdue_total"] - TOP_OVERDUE)
    if not facts["overdue"]:
        out.append(_t(lang, "· none"))

    out += ["", "**" + _t(lang, "Due today ({n})", n=facts["today_total"]) + "**"]
    for line in facts["today"]:
        mention(line["code"])
        out.append(f"· {line['item'].get(lang, line['item']['zh_CN'])} · {line['project']}")
    out += _more(lang, facts["today_total"] - TOP_LINES)
    if not facts["today"]:
        out.append(_t(lang, "· none"))

    out += ["", "**" + _t(lang, "Since the last digest") + "**"]
    out.append(_t(lang, "· new applications: {n}", n=facts["applications"]))
    out.append(_t(lang, "· accepted projects: {n}", n=facts["accepted_total"]))
    for line in facts["accepted"]:
        mention(line["code"])
        out.append(f"  · {line['project']} ({line['code']})")
    out += _more(lang, facts["accepted_total"] - TOP_LINES)

    done_title = _t(lang, "Completed on the previous working day ({n})", n=facts["done_total"])
    out += ["", f"**{done_title}**"]
    for line in facts["done"]:
        out.append(f"· {line['item'].get(lang, line['item']['zh_CN'])} · {line['project']}")
    out += _more(lang, facts["done_total"] - TOP_LINES)

    out += ["", "**" + _t(lang, "Projects by stage") + "**"]
    for stage_id, n in facts["by_stage"]:
        try:
            label = scheme.stage(stage_id).label
            stage = label.en if lang == "en" else label.zh
        except KeyError:
            stage = stage_id
        out.append(f"· {stage}: {n}")

    out += ["", "**" + _t(lang, "Not responding to nudges") + "**"]
    out += [f"· {name}" for name in facts["silent"]] or [_t(lang, "· none")]
    out += _more(lang, facts["silent_total"] - TOP_LINES)

    buttons = [
        [Button(_t(lang, "Status of {code}", code=code), f"status:{code}")]
        for code in mentioned[:MAX_BUTTONS]
    ]
    return Outgoing("\n".join(out), buttons=buttons)


def _more(lang: str, hidden: int) -> list[str]:
    """The line that counts what a capped list leaves out (none when nothing is left)."""
    if hidden <= 0:
        return []
    return [_t(lang, "· … and {n} more", n=hidden)]


# It covers every project: never in a project group, which holds its enterprise.
@router.command(
    "digest",
    roles={"leader", "office"},
    chat=ChatKind.DM,
    help=N_("The daily digest: /digest [YYYY-MM-DD]"),
)
async def digest_command(ctx: Ctx) -> None:
    """`/digest [YYYY-MM-DD]`: preview today's digest, or a past day's as it stood then."""
    arg = ctx.incoming.args.strip()
    today = ctx.local_now.date()
    day = today
    if arg:
        try:
            day = date.fromisoformat(arg)
        except ValueError:
            await ctx.reply(ctx._("Give the day as YYYY-MM-DD, e.g. /digest 2026-10-12."))
            return
        if not date_in_range(day):
            await ctx.reply(
                ctx._(
                    "Give a day between {first} and {last}, e.g. /digest 2026-10-12.",
                    first=DATE_MIN.isoformat(),
                    last=DATE_MAX.isoformat(),
                )
            )
            return
    if day >= today:
        await ctx.reply(await build_digest(ctx.uow, ctx.services, day, ctx.lang))
        return
    facts = await ctx.uow.digests.facts_of(day)
    if facts is None:
        await ctx.reply(
            ctx._(
                "No digest was kept for {day}: it was not a working day, or the bot did not"
                " run that morning. Try another day, or /digest for today's.",
                day=day.isoformat(),
            )
        )
        return
    await ctx.reply(render_digest(facts, ctx.lang, ctx.scheme))


__all__ = [
    "build_digest",
    "build_digests",
    "digest_command",
    "digest_slot",
    "render_digest",
    "router",
]
