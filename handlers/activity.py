"""Government–enterprise activities (政企互动活动): staff record them for the quarterly
statistics (季度统计; Guangzhou: 政企互动情况统计表, filed within the first 5 working
days of each quarter).

`/activity` in a direct chat asks the kind, the date, how many enterprises and people
took part, how many questions were answered, and the topics; the row counts for the
recording person's department.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.identifiers import Validated, parse_date
from handlers.chat import ChatKind
from handlers.context import Ctx
from handlers.forms import Choice, Err, Field, FieldResult, Form, Ok, clean_text, start_form
from handlers.i18n import N_
from handlers.router import Router
from handlers.validation import validator_parser

router = Router("activity")

STAFF = {"specialist", "backup", "butler", "office"}
KINDS = {
    "face_to_face": N_("Face-to-face meeting (面对面)"),
    "training": N_("Training or briefing (宣讲培训)"),
    "site_visit": N_("Site visit (上门服务)"),
    "other": N_("Other activity"),
}
MAX_COUNT = 100_000
MAX_TOPICS = 300
DAYS_BACK = 400  # a quarter past plus its filing days, with room for a late entry


def _held_on(ctx: Ctx, raw: str) -> FieldResult:
    today = ctx.local_now.date()

    def validate(text: str) -> Validated[str]:
        parsed = parse_date(text, today)
        if parsed.error or parsed.value is None:
            return Validated(None, parsed.error, parsed.detail)
        earliest = today - timedelta(days=DAYS_BACK)
        if not earliest <= parsed.value <= today:
            detail = {"earliest": earliest.isoformat(), "latest": today.isoformat()}
            return Validated(None, "date.range", detail)
        return Validated(parsed.value.isoformat(), None, {})

    return validator_parser(validate)(ctx, raw)


def _count(least: int) -> Any:
    def parse(ctx: Ctx, raw: str) -> FieldResult:
        text = clean_text(raw).replace(",", "").replace("，", "")
        for unit in ("家", "人", "个", "次", "条"):
            text = text.removesuffix(unit)
        if not text.isascii() or not text.isdigit() or not least <= int(text) <= MAX_COUNT:
            return Err(
                ctx._(
                    "Please give a whole number from {least} to {most}, e.g. 12.",
                    least=least,
                    most=MAX_COUNT,
                )
            )
        return Ok(int(text))

    return parse


def _topics(ctx: Ctx, raw: str) -> FieldResult:
    text = " ".join(clean_text(raw).split())
    if len(text) < 2:
        return Err(ctx._("Please name the topics in a few words, e.g. 施工许可办理流程."))
    if len(text) > MAX_TOPICS:
        return Err(
            ctx._(
                "That is {length} characters; at most {limit} fit here. Please shorten it.",
                length=len(text),
                limit=MAX_TOPICS,
            )
        )
    return Ok(text)


async def _save(ctx: Ctx, values: dict[str, Any]) -> None:
    roles = await ctx.uow.people.roles_of(ctx.person.id)
    department_id = next((r.department_id for r in roles if r.department_id), None)
    await ctx.uow.activities.add(
        person_id=ctx.person.id,
        department_id=department_id,
        kind=values["kind"],
        held_on=parse_date(values["held_on"], ctx.local_now.date()).value,
        enterprises=values["enterprises"],
        participants=values["participants"],
        questions=values["questions"],
        topics=values["topics"],
        created_at=ctx.now,
    )
    kind = KINDS[values["kind"]]
    await ctx.reply(
        ctx._(
            "Recorded: {kind} on {day}, {enterprises} enterprises, {participants} participants,"
            " {questions} questions answered. It counts in the quarterly statistics.",
            kind=ctx._(kind),
            day=values["held_on"],
            enterprises=values["enterprises"],
            participants=values["participants"],
            questions=values["questions"],
        )
    )


ACTIVITY = Form(
    name="activity",
    roles=frozenset(STAFF),
    title=N_("Government–enterprise activity (政企互动)"),
    fields=[
        Field(
            "kind",
            label=N_("Kind"),
            prompt=N_("What kind of activity was it?"),
            choices=lambda ctx: [Choice(value, label) for value, label in KINDS.items()],
            show=lambda ctx, value: ctx._(KINDS[value]),
        ),
        Field(
            "held_on",
            label=N_("Date"),
            prompt=N_("On which day was it held? (e.g. 2026-11-20)"),
            parse=_held_on,
        ),
        Field(
            "enterprises",
            label=N_("Enterprises"),
            prompt=N_("How many enterprises took part?"),
            parse=_count(0),
        ),
        Field(
            "participants",
            label=N_("Participants"),
            prompt=N_("How many people took part in all?"),
            parse=_count(1),
        ),
        Field(
            "questions",
            label=N_("Questions answered"),
            prompt=N_("How many questions were answered?"),
            parse=_count(0),
        ),
        Field(
            "topics",
            label=N_("Topics"),
            prompt=N_("The topics, in a few words?"),
            parse=_topics,
        ),
    ],
    on_submit=_save,
)


# A form is personal: never in a project group, which holds its enterprise.
@router.command(
    "activity",
    roles=STAFF,
    chat=ChatKind.DM,
    help=N_("Record a government–enterprise activity (政企互动) for the quarter"),
)
async def activity(ctx: Ctx) -> None:
    """`/activity`: record a government–enterprise activity for the quarterly statistics."""
    await start_form(ctx, ACTIVITY)
