"""The rating form (服务评价) and the follow-up of bad reviews (差评回访整改).

A rating round (reminders/rating_round.py) sends each enterprise contact a "Rate" button
for the butler and team, and each butler one for the enterprise's cooperation. The form
asks one of the five national levels (非常满意 … 非常不满意) and an optional comment. A
rating of the two lowest levels opens a follow-up for the office: call back and rectify
within the scheme's ``bad_review_rectify_workdays``; `/followup ID NOTE` closes it.
"""

from __future__ import annotations

from typing import Any

from domain.bounds import row_id
from handlers.access import RatingAsk, RatingRound
from handlers.chat import Outgoing
from handlers.context import Ctx
from handlers.forms import Choice, Field, Form, start_form, text_parser
from handlers.i18n import N_
from handlers.inbound_text import too_long
from handlers.postman import Postman
from handlers.render import Voice
from handlers.router import Router
from storage.models import Project, Rating
from storage.repos.ratings import BAD_LEVELS

router = Router("rating")

RATE_PREFIX = "rate:"
TEAM, ENTERPRISE = "team", "enterprise"

LEVEL_MSGIDS: dict[int, str] = {
    5: N_("Very satisfied"),
    4: N_("Satisfied"),
    3: N_("Fairly satisfied"),
    2: N_("Dissatisfied"),
    1: N_("Very dissatisfied"),
}
"""The national five-level scale (非常满意 … 非常不满意); 1 and 2 are bad reviews."""


def rate_payload(project_id: int, subject: str, period: str) -> str:
    """The payload of a round's "Rate" button."""
    return f"{RATE_PREFIX}{project_id}:{subject}:{period}"


def _values(ctx: Ctx) -> dict[str, Any]:
    conv = ctx.conversation
    return dict((conv.data or {}).get("values", {})) if conv is not None else {}


def _prompt(ctx: Ctx) -> str:
    values = _values(ctx)
    if values.get("subject") == ENTERPRISE:
        msgid = N_("How well did the enterprise cooperate on project {project}?")
    else:
        msgid = N_("How satisfied are you with the agency team of project {project}?")
    return ctx._(msgid, project=values.get("project_name", ""))


def _levels(_ctx: Ctx) -> list[Choice]:
    return [Choice(str(level), msgid) for level, msgid in LEVEL_MSGIDS.items()]


async def _submit(ctx: Ctx, values: dict[str, Any]) -> None:
    level = int(values["level"])
    today = ctx.local_now.date()
    bad = level in BAD_LEVELS
    due = (
        ctx.services.calendar.add_workdays(today, ctx.scheme.reports.bad_review_rectify_workdays)
        if bad
        else None
    )
    added = await ctx.uow.ratings.add(
        project_id=int(values["project_id"]),
        rater_id=ctx.person.id,
        subject=str(values["subject"]),
        period=str(values["period"]),
        level=level,
        comment=values.get("comment"),
        now=ctx.now,
        follow_up_due=due,
    )
    if not added:
        await ctx.reply(ctx._("You have already rated this for {period}.", period=values["period"]))
        return
    rating = await ctx.uow.ratings.find(
        int(values["project_id"]), ctx.person.id, str(values["subject"]), str(values["period"])
    )
    assert rating is not None
    await ctx.uow.events.append(
        "rating.given",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=rating.project_id,
        data={"rating": rating.id, "subject": rating.subject, "level": level},
    )
    await ctx.reply(ctx._("Thank you for your rating. It helps us improve the service."))
    if bad:
        post = Postman(ctx.uow, ctx.now, f"rating:r{rating.id}")
        await notify_bad_review(post, rating, ctx.person.name)


RATING = Form(
    name="rating",
    title=N_("Service rating"),
    fields=[
        Field("level", label=N_("Satisfaction"), prompt=_prompt, choices=_levels),
        Field(
            "comment",
            label=N_("Comment"),
            prompt=N_("Any comment? (optional; press Skip if none)"),
            parse=text_parser(max_length=300),
            optional=True,
        ),
    ],
    on_submit=_submit,
)


async def notify_bad_review(post: Postman, rating: Rating, rater: str) -> int:
    """Tell the office about a bad review: call back and rectify by its follow-up day."""
    uow = post.uow
    project = await uow.projects.get(rating.project_id)
    assert project is not None
    sent = 0
    for person in await uow.people.with_role("office"):
        text = _bad_review_text(person.lang, rating, project, rater)
        sent += await post.to_person(person.id, Outgoing(text), f"office:u{person.id}")
    return sent


def _bad_review_text(lang: str, rating: Rating, project: Project, rater: str) -> str:
    say = Voice(lang)
    subject = (
        N_("the agency team") if rating.subject == TEAM else N_("the enterprise's cooperation")
    )
    return say._(
        "Bad review #{id}: {rater} rated {subject} of project {code} {name} as “{level}”."
        " Comment: {comment}. Please call back and rectify by {due};"
        " then close it with /followup {id} NOTE.",
        id=rating.id,
        rater=rater,
        subject=say._(subject),
        code=project.code,
        name=project.name,
        level=say._(LEVEL_MSGIDS[rating.level]),
        comment=rating.comment or "—",
        due=rating.follow_up_due.isoformat() if rating.follow_up_due else "—",
    )


@router.button(RATE_PREFIX, scope=RatingRound(RATE_PREFIX))
async def rate_button(ctx: Ctx) -> None:
    """The round's "Rate" button: open the form for this project, subject and period (the
    scope admits only whom the open round asks)."""
    project, ask = ctx.project, ctx.target
    assert project is not None and isinstance(ask, RatingAsk)
    subject, period = ask.subject, ask.period
    if await ctx.uow.ratings.find(project.id, ctx.person.id, subject, period) is not None:
        await ctx.reply(ctx._("You have already rated this for {period}.", period=period))
        return
    values = {
        "project_id": project.id,
        "project_name": f"{project.code} {project.name}",
        "subject": subject,
        "period": period,
    }
    await start_form(ctx, RATING, values)


@router.command(
    "followup", roles={"office"}, help=N_("Close a bad review's follow-up: /followup ID NOTE")
)
async def followup(ctx: Ctx) -> None:
    """`/followup ID NOTE`: the bad review was called back and rectified (回访整改完成)."""
    words = ctx.incoming.args.split(maxsplit=1)
    raw = words[0].lstrip("#") if words else ""
    if len(words) < 2 or not (raw.isascii() and raw.isdigit()):
        pending = await ctx.uow.ratings.open_follow_ups()
        lines = [ctx._("Usage: /followup ID NOTE (what was done after the call-back).")]
        for r in pending:
            lines.append(
                ctx._(
                    "· #{id} level {level}, due {due}",
                    id=r.id,
                    level=r.level,
                    due=r.follow_up_due.isoformat() if r.follow_up_due else "—",
                )
            )
        await ctx.reply("\n".join(lines))
        return
    if await too_long(ctx, words[1].strip(), "note"):
        return
    number = row_id(raw)
    rating = await ctx.uow.ratings.get(number) if number else None
    if rating is None or rating.follow_up != "open":
        await ctx.reply(ctx._("There is no open follow-up #{id}.", id=raw[:20]))
        return
    await ctx.uow.ratings.close_follow_up(rating)
    await ctx.uow.events.append(
        "rating.followed_up",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=rating.project_id,
        data={"rating": rating.id, "note": words[1]},
    )
    await ctx.reply(
        ctx._("Follow-up #{id} is closed. Note: {note}", id=rating.id, note=words[1].strip())
    )
