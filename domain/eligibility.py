"""The eligibility pre-check (受理范围预审): a small rule language and its evaluator.

A scheme lists rules; each has a `Condition` over the project's facts. Conditions are
three-valued: a comparison on a fact the enterprise has not given yet is *unknown*, so
the pre-check can say "needs review" and name the facts it still needs, instead of
guessing. Rule language (YAML)::

    when: {fact: investment_wan, op: ">=", value: 100000}      # a comparison
    when: {all_of: [<condition>, ...]}                           # every one holds
    when: {any_of: [<condition>, ...]}                           # at least one holds
    when: {not: <condition>}                                     # negation
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator


class Verdict(StrEnum):
    """Outcome of the eligibility pre-check (预审结论)."""

    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    NEEDS_REVIEW = "needs_review"


FACT_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "investment_wan": ("number", ()),
    "category": ("category", ()),
    "on_key_list": ("choice", ("national", "provincial", "city", "district", "none")),
    "in_investment_library": ("bool", ()),
    "designated_by_meeting": ("bool", ()),
    "zone": ("text", ()),
    "funding": ("choice", ("government", "social")),
    "approval_level": ("choice", ("national", "provincial", "city", "district")),
    "major_investment_attraction": ("bool", ()),
    "park_entry_approved": ("bool", ()),
    "independently_sited": ("bool", ()),
    "meets_industry_policy": ("bool", ()),
}
"""Facts a rule may test: name -> (kind, the allowed values of a choice)."""

_OPS_BY_KIND = {"number": {"==", "!=", ">", ">=", "<", "<="}, "bool": {"==", "!="}}
_SET_OPS = {"==", "!=", "in", "not_in"}

ConditionValue = StrictBool | StrictInt | Decimal | str | tuple[str, ...]
KeyList = Literal["national", "provincial", "city", "district", "none"]
Level = Literal["national", "provincial", "city", "district"]


class Condition(BaseModel):
    """A test on the project's facts (条件): a comparison, or all_of / any_of / not.

    Exactly one form per condition: ``{fact, op, value}``, ``{all_of: [...]}``,
    ``{any_of: [...]}`` or ``{not: {...}}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    fact: str | None = None
    op: Literal["==", "!=", ">", ">=", "<", "<=", "in", "not_in"] | None = None
    value: ConditionValue | None = None
    all_of: tuple[Condition, ...] | None = None
    any_of: tuple[Condition, ...] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_well_typed_form(self) -> Self:
        forms = [self.fact, self.all_of, self.any_of, self.not_]
        if sum(form is not None for form in forms) != 1:
            raise ValueError("a condition is exactly one of {fact, op, value}, all_of, any_of, not")
        if self.fact is not None:
            _check_comparison(self.fact, self.op, self.value)
        elif not (self.all_of or self.any_of or self.not_):
            raise ValueError("all_of / any_of need at least one condition")
        return self

    def facts(self) -> tuple[str, ...]:
        """Every fact name this condition reads, in order, without repeats."""
        if self.fact is not None:
            return (self.fact,)
        children = self.all_of or self.any_of or ((self.not_,) if self.not_ else ())
        return tuple(dict.fromkeys(name for child in children for name in child.facts()))

    def comparisons(self) -> tuple[Condition, ...]:
        """The leaf comparisons of this condition, depth first."""
        if self.fact is not None:
            return (self,)
        children = self.all_of or self.any_of or ((self.not_,) if self.not_ else ())
        return tuple(leaf for child in children for leaf in child.comparisons())


def _check_comparison(fact: str, op: str | None, value: Any) -> None:
    if fact not in FACT_KINDS:
        raise ValueError(f"unknown fact {fact!r} (known: {', '.join(FACT_KINDS)})")
    kind, choices = FACT_KINDS[fact]
    if op is None or value is None:
        raise ValueError(f"a comparison on {fact!r} needs both op and value")
    allowed = _OPS_BY_KIND.get(kind, _SET_OPS)
    if op not in allowed:
        raise ValueError(
            f"op {op!r} not allowed on {fact!r} (allowed: {', '.join(sorted(allowed))})"
        )
    if kind == "bool" and not isinstance(value, bool):
        raise ValueError(f"{fact!r} is true/false, got {value!r}")
    if kind == "number" and (isinstance(value, bool) or not isinstance(value, int | Decimal)):
        raise ValueError(f"{fact!r} is a number, got {value!r}")
    if kind in {"choice", "category", "text"}:
        if (op in {"in", "not_in"}) != isinstance(value, tuple):
            raise ValueError(f"op {op!r} on {fact!r}: in/not_in take a list, the others one value")
        values = value if isinstance(value, tuple) else (value,)
        if not all(isinstance(one, str) for one in values):
            raise ValueError(f"{fact!r} compares with text values, got {value!r}")
        bad = [one for one in values if choices and one not in choices]
        if bad:
            raise ValueError(f"{fact!r} has no value {bad} (values: {', '.join(choices)})")


class ProjectFacts(BaseModel):
    """What the pre-check knows about a project (项目基本情况); None means not yet asked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    investment_wan: Decimal | None = None
    category: str | None = None
    on_key_list: KeyList | None = None
    in_investment_library: bool | None = None
    designated_by_meeting: bool | None = None
    zone: str | None = None
    funding: Literal["government", "social"] | None = None
    approval_level: Level | None = None
    major_investment_attraction: bool | None = None
    park_entry_approved: bool | None = None
    independently_sited: bool | None = None
    meets_industry_policy: bool | None = None


class Label(Protocol):
    """A text in both languages (a scheme's `domain.scheme.Label`)."""

    @property
    def zh(self) -> str: ...
    @property
    def en(self) -> str: ...


class EligibilityRule(Protocol):
    """What the evaluator reads of a scheme's rule (`domain.scheme.EligibilityRule`); the
    scheme builds on this module's conditions, so this module names it only by shape."""

    @property
    def id(self) -> str: ...
    @property
    def verdict(self) -> Verdict: ...
    @property
    def when(self) -> Condition | None: ...
    @property
    def label(self) -> Label: ...
    @property
    def hint(self) -> Label | None: ...


@dataclass(frozen=True, slots=True)
class EligibilityResult:
    """The pre-check's answer: verdict, the deciding rule and the facts that decided it."""

    verdict: Verdict
    rule_id: str
    label: Label
    hint: Label | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    missing_facts: tuple[str, ...] = ()


def holds(condition: Condition, facts: ProjectFacts) -> bool | None:
    """Whether `condition` holds for `facts`: True, False, or None when a fact is missing."""
    if condition.all_of is not None:
        results = [holds(child, facts) for child in condition.all_of]
        return False if False in results else (None if None in results else True)
    if condition.any_of is not None:
        results = [holds(child, facts) for child in condition.any_of]
        return True if True in results else (None if None in results else False)
    if condition.not_ is not None:
        inner = holds(condition.not_, facts)
        return None if inner is None else not inner
    assert condition.fact is not None
    actual = getattr(facts, condition.fact)
    return None if actual is None else _compare(actual, condition.op, condition.value)


def _compare(actual: Any, op: str | None, expected: Any) -> bool:
    if isinstance(actual, Decimal):
        expected = Decimal(str(expected))
    match op:
        case "==":
            return bool(actual == expected)
        case "!=":
            return bool(actual != expected)
        case ">":
            return bool(actual > expected)
        case ">=":
            return bool(actual >= expected)
        case "<":
            return bool(actual < expected)
        case "<=":
            return bool(actual <= expected)
        case "in":
            return actual in expected
        case _:
            return actual not in expected


def evaluate_eligibility(
    rules: Sequence[EligibilityRule], facts: ProjectFacts
) -> EligibilityResult:
    """Try `rules` in order; the first that holds decides.

    If an earlier rule with a different verdict could not be evaluated because facts are
    missing, the answer is needs_review on that earlier rule, naming the missing facts.
    """
    blocked: EligibilityRule | None = None
    missing: list[str] = []
    consulted: list[str] = []  # facts of the rules tried so far: they decide a fallback
    for rule in rules:
        outcome = True if rule.when is None else holds(rule.when, facts)
        if outcome is None:
            assert rule.when is not None
            blocked = blocked or rule
            missing += [name for name in rule.when.facts() if getattr(facts, name) is None]
            continue
        if not outcome:
            assert rule.when is not None
            consulted += rule.when.facts()
            continue
        if blocked is not None and blocked.verdict != rule.verdict:
            return _result(blocked, Verdict.NEEDS_REVIEW, facts, missing)
        if rule.when is None:
            return _result(rule, rule.verdict, facts, missing, consulted)
        return _result(rule, rule.verdict, facts, [])
    if blocked is not None:
        return _result(blocked, Verdict.NEEDS_REVIEW, facts, missing)
    raise ValueError("eligibility rules must end with a rule without `when`")


def _result(
    rule: EligibilityRule,
    verdict: Verdict,
    facts: ProjectFacts,
    missing: list[str],
    consulted: Sequence[str] = (),
) -> EligibilityResult:
    names = rule.when.facts() if rule.when is not None else tuple(dict.fromkeys(consulted))
    return EligibilityResult(
        verdict=verdict,
        rule_id=rule.id,
        label=rule.label,
        hint=rule.hint,
        facts={name: getattr(facts, name) for name in names},
        missing_facts=tuple(dict.fromkeys(missing)),
    )
