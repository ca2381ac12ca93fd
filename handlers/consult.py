"""Consultation (咨询): questions answered from the scheme's FAQ, or by a person (首问负责).

Any free text in a direct chat that is no form answer and no command lands here (this
router is included last). A good match answers at once, with up to two "did you mean"
buttons and "ask a person". A miss, or "ask a person", opens a ticket: every office
member gets it with "Take it"; the first to press owns it and answers through a one-field
form; the answer is relayed to the asker word for word.
"""

from __future__ import annotations

from typing import Any

from domain.bounds import row_id
from domain.faq import FaqIndex
from domain.scheme import FaqEntry, Scheme
from handlers.access import Mine
from handlers.chat import Button, ChatKind, Outgoing
from handlers.context import Ctx
from handlers.forms import Field, Form, clean_text, start_form, text_parser
from handlers.i18n import N_
from handlers.render import Voice
from handlers.router import Router
from storage.models import Ticket

router = Router("consult")

MAX_QUESTION = 2000
_INDEXES: dict[int, tuple[Scheme, FaqIndex]] = {}


def faq_index(scheme: Scheme) -> FaqIndex:
    """The FAQ index of `scheme`, built once per scheme object."""
    cached = _INDEXES.get(id(scheme))
    if cached is None or cached[0] is not scheme:
        cached = (scheme, FaqIndex(scheme.faq))
        _INDEXES[id(scheme)] = cached
    return cached[1]


def _entry(scheme: Scheme, entry_id: str) -> FaqEntry | None:
    return next((e for e in scheme.faq if e.id == entry_id), None)


def _answer_message(ctx: Ctx, entry: FaqEntry, ticket_id: int, also: list[str]) -> Outgoing:
    lines = [f"**{ctx.label(entry.question)}**", ctx.label(entry.answer)]
    rows: list[list[Button]] = []
    others = [e for e in (_entry(ctx.scheme, i) for i in also) if e is not None]
    if others:
        lines.append(ctx._("Did you mean:"))
        rows += [[Button(ctx.label(e.question), f"faq:{e.id}:{ticket_id}")] for e in others]
    if ctx.scheme.hotline:
        lines.append(ctx._("Hotline: {hotline}", hotline=ctx.scheme.hotline))
    rows.append([Button(ctx._("Ask a person"), f"ticket:ask:{ticket_id}")])
    return Outgoing("\n".join(lines), buttons=rows)


@router.button("menu:consult")
async def consult_menu(ctx: Ctx) -> None:
    lines = [ctx._("Type your question in this chat, in Chinese or English.")]
    lines += [
        ctx._("For example: {question}", question=ctx.label(e.question)) for e in ctx.scheme.faq[:2]
    ]
    lines.append(
        ctx._("If the answer does not help, press “Ask a person” and the {office} replies.")
    )
    await ctx.reply("\n".join(lines))


@router.button("faq:")
async def did_you_mean(ctx: Ctx) -> None:
    _, entry_id, ticket_id = [*(ctx.incoming.payload or "").split(":"), "", ""][:3]
    entry, number = _entry(ctx.scheme, entry_id), row_id(ticket_id)
    if entry is None or number is None:
        await ctx.reply(ctx._("That answer is no longer available. Please type your question."))
        return
    await ctx.reply(_answer_message(ctx, entry, number, []))


@router.button("ticket:ask:", scope=Mine("ticket"))
async def ask_a_person(ctx: Ctx) -> None:
    """The "Ask a person" button under an answer: the asker's own question only."""
    ticket = ctx.target
    assert isinstance(ticket, Ticket)
    if not await ctx.uow.tickets.open(ticket.id, ctx.now):
        await ctx.reply(
            ctx._("Your question #{number} is already with the {office}.", number=ticket.id)
        )
        return
    await _hand_to_office(ctx, ticket)


async def _hand_to_office(ctx: Ctx, ticket: Ticket) -> None:
    await ctx.uow.events.append(
        "consult.ticket_opened",
        at=ctx.now,
        actor_id=ctx.person.id,
        data={"ticket_id": ticket.id, "faq_entry": ticket.faq_entry},
    )
    hours = ctx.scheme.consultation.ticket_reminder_work_hours
    await ctx.reply(
        ctx._(
            "Your question has been passed to the {office} as #{number}. A staff member "
            "will answer here; you will not need to ask again.",
            number=ticket.id,
        )
    )
    for member in await ctx.uow.people.with_role("office"):
        if member.id == ctx.person.id:
            continue
        text = Voice(member.lang, ctx.scheme)._(
            N_(
                "**New question #{number}** from {name}:\n{question}\nThe first to press “Take it” "
                "answers it (within {hours} working hours, please)."
            ),
            number=ticket.id,
            name=ctx.person.name,
            question=ticket.question,
            hours=hours,
        )
        button = Button(Voice(member.lang, ctx.scheme)._(N_("Take it")), f"ticket:take:{ticket.id}")
        await ctx.post.to_person(member.id, Outgoing(text, buttons=[[button]]))


# The office answers in a direct chat, like every office card (never into a group).
@router.button("ticket:take:", roles={"office"}, chat=ChatKind.DM)
async def take(ctx: Ctx) -> None:
    raw = (ctx.incoming.payload or "").removeprefix("ticket:take:")
    number = row_id(raw)
    ticket = await ctx.uow.tickets.get(number, for_update=True) if number else None
    if ticket is None:
        await ctx.reply(ctx._("This question no longer exists."))
        return
    if not await ctx.uow.tickets.take(ticket.id, ctx.person.id, ctx.now):
        ticket = await ctx.uow.tickets.get(ticket.id)
        assert ticket is not None
        if ticket.owner_id == ctx.person.id and ticket.status == "taken":
            await start_form(ctx, TICKET_ANSWER, {"ticket_id": ticket.id})
            return
        owner = await ctx.uow.people.get(ticket.owner_id) if ticket.owner_id else None
        when = ticket.taken_at.astimezone(ctx.services.timezone) if ticket.taken_at else None
        await ctx.reply(
            ctx._(
                "Question #{number} was already taken by {name} at {time}.",
                number=ticket.id,
                name=owner.name if owner else "—",
                time=when.strftime("%Y-%m-%d %H:%M") if when else "—",
            )
        )
        return
    await ctx.uow.events.append(
        "consult.ticket_taken", at=ctx.now, actor_id=ctx.person.id, data={"ticket_id": ticket.id}
    )
    asker = await ctx.uow.people.get(ticket.asker_id)
    await ctx.reply(
        ctx._(
            "You own question #{number} from {name}:\n{question}",
            number=ticket.id,
            name=asker.name if asker else "—",
            question=ticket.question,
        )
    )
    await start_form(ctx, TICKET_ANSWER, {"ticket_id": ticket.id})


async def _send_answer(ctx: Ctx, values: dict[str, Any]) -> None:
    ticket_id = int(values["ticket_id"])
    ticket = await ctx.uow.tickets.get(ticket_id, for_update=True)
    if ticket is None or not await ctx.uow.tickets.answer(
        ticket_id, ctx.person.id, values["answer"], ctx.now
    ):
        await ctx.reply(ctx._("Question #{number} is not yours to answer.", number=ticket_id))
        return
    await ctx.uow.events.append(
        "consult.ticket_answered",
        at=ctx.now,
        actor_id=ctx.person.id,
        data={"ticket_id": ticket_id},
    )
    asker = await ctx.uow.people.get(ticket.asker_id)
    if asker is not None:
        text = Voice(asker.lang, ctx.scheme)._(
            N_(
                "**Answer to your question #{number}** (“{question}”) from {name} of the "
                "{office}:\n{answer}"
            ),
            number=ticket_id,
            question=_short(ticket.question),
            name=ctx.person.name,
            answer=values["answer"],
        )
        await ctx.post.to_person(asker.id, Outgoing(text, notice="answer"))
    await ctx.reply(
        ctx._(
            "Your answer to question #{number} was sent to {name}.",
            number=ticket_id,
            name=asker.name if asker else "—",
        )
    )


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


TICKET_ANSWER = Form(
    name="ticket_answer",
    title=N_("Answer a question"),
    fields=[
        Field(
            "answer",
            label=N_("Answer"),
            prompt=N_("Your answer, exactly as the enterprise should read it:"),
            parse=text_parser(max_length=2000),
        )
    ],
    on_submit=_send_answer,
    roles=frozenset({"office"}),
)


@router.text(chat=ChatKind.DM)
async def question(ctx: Ctx) -> None:
    """Free text in a direct chat: a question for the knowledge base (registered last)."""
    text = clean_text(ctx.incoming.text)
    if not text:
        await ctx.reply(ctx._("Please type your question. Send /help to see what you can do."))
        return
    text = text[:MAX_QUESTION]
    result = faq_index(ctx.scheme).match(text)
    best = _entry(ctx.scheme, result.best.entry_id) if result.best else None
    ticket = await ctx.uow.tickets.add(
        ctx.person.id,
        text,
        status="faq" if best else "open",
        faq_entry=best.id if best else None,
        now=ctx.now,
    )
    if best is None:
        await _hand_to_office(ctx, ticket)
        return
    await ctx.uow.events.append(
        "consult.answered_from_faq",
        at=ctx.now,
        actor_id=ctx.person.id,
        data={"ticket_id": ticket.id, "faq_entry": best.id},
    )
    await ctx.reply(_answer_message(ctx, best, ticket.id, [m.entry_id for m in result.also]))
