"""The eligibility pre-check (受理范围预审): a short form, then the scheme's verdict.

Only the facts the active scheme's rules read are asked (Tongzhou: meeting designation,
investment library, investment; Guangzhou: key list, funding, approval level; …). Every
question accepts "not sure": the rules then say which fact the office must check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from domain.application import facts_asked
from domain.eligibility import FACT_KINDS, ProjectFacts, Verdict, evaluate_eligibility
from domain.identifiers import format_amount, parse_amount
from handlers.chat import Button, Outgoing
from handlers.context import Ctx
from handlers.forms import Choice, Field, Form, Ok, start_form, text_parser
from handlers.i18n import N_
from handlers.roles import STAFF
from handlers.router import Router
from handlers.validation import validator_parser

router = Router("eligibility")

UNSURE = "unsure"

FACT_LABELS = {
    "investment_wan": N_("Total investment"),
    "category": N_("Project category"),
    "on_key_list": N_("Key-project list"),
    "in_investment_library": N_("In the investment library"),
    "designated_by_meeting": N_("Designated by a government meeting"),
    "zone": N_("Location"),
    "funding": N_("Funding"),
    "approval_level": N_("Approval authority"),
    "major_investment_attraction": N_("Major investment-attraction project"),
    "park_entry_approved": N_("Park entry approved"),
    "independently_sited": N_("Independently sited"),
    "meets_industry_policy": N_("Meets industry, land and environment policy"),
}

FACT_PROMPTS = {
    "investment_wan": N_(
        "The project's total investment, in 万元 or 亿元 (e.g. 8亿元 or 80000万元)? Press Skip "
        "if it is not known yet."
    ),
    "category": N_("Which category is the project?"),
    "on_key_list": N_("Is the project on a key-project list? Which one?"),
    "in_investment_library": N_(
        "Is the project in the government's yearly fixed-asset investment library "
        "(固定资产投资项目库)?"
    ),
    "designated_by_meeting": N_(
        "Has a government meeting designated it a key project (会议研究确定)?"
    ),
    "zone": N_("Where is the project (district, zone or park)?"),
    "funding": N_("How is the project funded?"),
    "approval_level": N_("Which level of government holds the approval authority for it?"),
    "major_investment_attraction": N_(
        "Is it a major project brought in by investment attraction (招商引资重大项目)?"
    ),
    "park_entry_approved": N_("Has the government approved its entry into an industrial park?"),
    "independently_sited": N_("Is it an independently sited project (独立选址)?"),
    "meets_industry_policy": N_(
        "Does it meet the national industry, land, environment, safety and energy policies?"
    ),
}

CHOICE_LABELS = {
    "national": N_("National"),
    "provincial": N_("Provincial"),
    "city": N_("City"),
    "district": N_("District / county"),
    "none": N_("None"),
    "government": N_("Government investment"),
    "social": N_("Social (private) investment"),
    "yes": N_("Yes"),
    "no": N_("No"),
    UNSURE: N_("Not sure"),
}

OP_SIGNS = {"==": "=", "!=": "≠", ">": ">", ">=": "≥", "<": "<", "<=": "≤"}


def _fixed(values: Sequence[str]) -> Callable[[Ctx], list[Choice]]:
    return lambda ctx: [Choice(v, CHOICE_LABELS[v]) for v in (*values, UNSURE)]


def _categories(ctx: Ctx) -> list[Choice]:
    items = [Choice(c.id, ctx.label(c.label)) for c in ctx.scheme.categories]
    return [*items, Choice(UNSURE, CHOICE_LABELS[UNSURE])]


def _amount(ctx: Ctx, raw: str) -> Any:
    # Kept as text: form state is JSON, and a float would lose the 万元 precision.
    result = validator_parser(parse_amount)(ctx, raw)
    return Ok(str(result.value)) if isinstance(result, Ok) else result


def _show_amount(ctx: Ctx, value: Any) -> str:
    return format_amount(Decimal(str(value)), ctx.lang)


def _asked(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda values: name in values.get("_asks", ())


def _field(name: str) -> Field:
    kind, choices = FACT_KINDS[name]
    common: dict[str, Any] = {
        "label": FACT_LABELS[name],
        "prompt": FACT_PROMPTS[name],
        "when": _asked(name),
    }
    if kind == "number":
        return Field(name, parse=_amount, show=_show_amount, optional=True, **common)
    if kind == "category":
        return Field(name, choices=_categories, **common)
    if kind == "bool":
        return Field(name, choices=_fixed(("yes", "no")), **common)
    if kind == "choice":
        return Field(name, choices=_fixed(choices), **common)
    return Field(name, parse=text_parser(max_length=100), optional=True, **common)


def facts_from(values: dict[str, Any]) -> ProjectFacts:
    """The answers as `ProjectFacts`; "not sure" and skipped answers stay unknown."""
    facts: dict[str, Any] = {}
    for name in values.get("_asks", ()):
        value = values.get(name)
        if value is None or value == UNSURE or name not in FACT_KINDS:
            continue
        kind = FACT_KINDS[name][0]
        if kind == "bool":
            facts[name] = value == "yes"
        elif kind == "number":
            facts[name] = Decimal(str(value))
        else:
            facts[name] = value
    return ProjectFacts(**facts)


def _shown_fact(ctx: Ctx, name: str, value: Any) -> str:
    if value is None:
        return ctx._("not known")
    if isinstance(value, bool):
        answer = "yes" if value else "no"
        return ctx._(CHOICE_LABELS[answer])
    if isinstance(value, Decimal | int) and FACT_KINDS[name][0] == "number":
        return format_amount(Decimal(value), ctx.lang)
    if FACT_KINDS[name][0] == "category":
        try:
            return ctx.label(ctx.scheme.category(str(value)).label)
        except KeyError:
            return str(value)
    if isinstance(value, tuple | list):
        return "、".join(_shown_fact(ctx, name, v) for v in value)
    return ctx._(CHOICE_LABELS[value]) if value in CHOICE_LABELS else str(value)


async def _verdict(ctx: Ctx, values: dict[str, Any]) -> None:
    facts = facts_from(values)
    result = evaluate_eligibility(ctx.scheme.eligibility, facts)
    rule = next(r for r in ctx.scheme.eligibility if r.id == result.rule_id)
    heading = {
        Verdict.ELIGIBLE: N_("✅ Your project is within the scope of the service."),
        Verdict.NOT_ELIGIBLE: N_("❌ Your project is not within the scope of the service."),
        Verdict.NEEDS_REVIEW: N_("❓ The {office} has to check this case."),
    }[result.verdict]
    rule_line = (
        ctx._("To be checked: {rule}", rule=ctx.label(result.label))
        if result.verdict is Verdict.NEEDS_REVIEW
        else ctx._("Rule: {rule}", rule=ctx.label(result.label))
    )
    lines = [ctx._(heading), rule_line]
    comparisons = rule.when.comparisons() if rule.when is not None else ()
    for leaf in comparisons:
        assert leaf.fact is not None
        actual = getattr(facts, leaf.fact)
        if actual is None:
            continue
        label = ctx._(FACT_LABELS[leaf.fact])
        if FACT_KINDS[leaf.fact][0] == "number" and leaf.op in OP_SIGNS:
            holds = _holds(actual, leaf.op, Decimal(str(leaf.value)))
            sign = OP_SIGNS[leaf.op] if holds else _negate(leaf.op)
            expected = format_amount(Decimal(str(leaf.value)), ctx.lang)
            lines.append(f"• {label} {_shown_fact(ctx, leaf.fact, actual)} {sign} {expected}")
        else:
            lines.append(f"• {label}: {_shown_fact(ctx, leaf.fact, actual)}")
    if result.verdict is Verdict.NEEDS_REVIEW and result.missing_facts:
        missing = "、".join(ctx._(FACT_LABELS.get(f, f)) for f in result.missing_facts)
        lines.append(ctx._("Not known or unclear: {facts}.", facts=missing))
    if result.verdict is Verdict.NEEDS_REVIEW:
        lines.append(ctx._("The {office} will decide when you apply."))
    if result.hint is not None:
        lines.append(ctx._("What you can do: {hint}", hint=ctx.label(result.hint)))
    await ctx.uow.events.append(
        "eligibility.checked",
        at=ctx.now,
        actor_id=ctx.person.id,
        data={
            "verdict": result.verdict.value,
            "rule": result.rule_id,
            "missing": list(result.missing_facts),
        },
    )
    rows = []
    if result.verdict is not Verdict.NOT_ELIGIBLE:
        rows.append([Button(ctx._("Apply for the service"), "menu:apply")])
    rows.append([Button(ctx._("Ask a question"), "menu:consult")])
    await ctx.reply(Outgoing("\n".join(lines), buttons=rows))


def _holds(actual: Decimal, op: str, expected: Decimal) -> bool:
    return {
        "==": actual == expected,
        "!=": actual != expected,
        ">": actual > expected,
        ">=": actual >= expected,
        "<": actual < expected,
        "<=": actual <= expected,
    }[op]


def _negate(op: str) -> str:
    return {"==": "≠", "!=": "=", ">": "≤", ">=": "<", "<": "≥", "<=": ">"}[op]


ELIGIBILITY = Form(
    name="eligibility",
    title=N_("Eligibility pre-check"),
    fields=[_field(name) for name in FACT_KINDS],
    on_submit=_verdict,
)


@router.command(
    "check",
    help=N_("Check whether your project qualifies for the service"),
    not_for=STAFF,  # a question an enterprise asks; staff check with the office's rules
)
@router.button("menu:check")
async def check(ctx: Ctx) -> None:
    asks = [name for name in facts_asked(ctx.scheme.eligibility) if name in FACT_KINDS]
    if not asks:
        await _verdict(ctx, {"_asks": []})
        return
    await start_form(ctx, ELIGIBILITY, {"_asks": asks})
