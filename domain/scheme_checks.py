"""Cross-reference checks of a scheme (引用校验): ids resolve, no cycles, ladder in order.

Each problem carries the path of the offending value (``("checklist", 3, "department")``)
so the loader can point at the YAML line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from domain.scheme import ChecklistItem, Scheme

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a scheme, at a path inside it (问题)."""

    loc: Loc
    message: str

    @property
    def path(self) -> str:
        """The path written the way the YAML reads: ``checklist[3].department``."""
        return format_loc(self.loc)


def format_loc(loc: Iterable[str | int]) -> str:
    """Join a path as ``a.b[3].c``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _known(ids: Iterable[str]) -> str:
    names = list(ids)
    return ", ".join(names[:12]) + (", …" if len(names) > 12 else "")


def reference_problems(scheme: Scheme) -> tuple[Problem, ...]:
    """Every broken reference, duplicate id, prerequisite cycle and ladder-order problem."""
    problems: list[Problem] = []
    for name in ("service_kinds", "departments", "categories", "stages", "checklist", "faq"):
        problems += _duplicates(name, [entry.id for entry in getattr(scheme, name)])
    problems += _duplicates("eligibility", [rule.id for rule in scheme.eligibility])
    problems += _checklist_problems(scheme)
    problems += _cycle_problems(scheme.checklist)
    problems += _ladder_problems(scheme)
    problems += _eligibility_problems(scheme)
    problems += _authorization_problems(scheme)
    return tuple(problems)


def _duplicates(section: str, ids: list[str]) -> list[Problem]:
    first: dict[str, int] = {}
    problems = []
    for index, one in enumerate(ids):
        if one in first:
            where = format_loc((section, first[one]))
            problems.append(
                Problem((section, index, "id"), f"duplicate id {one!r} (first at {where})")
            )
        first.setdefault(one, index)
    return problems


def _checklist_problems(scheme: Scheme) -> list[Problem]:
    departments = [d.id for d in scheme.departments]
    stages = [s.id for s in scheme.stages]
    categories = [c.id for c in scheme.categories]
    items = {item.id: item for item in scheme.checklist}
    problems: list[Problem] = []
    for index, item in enumerate(scheme.checklist):
        at: Loc = ("checklist", index)
        if item.department not in departments:
            problems.append(
                Problem(
                    (*at, "department"),
                    f"unknown department {item.department!r} (known: {_known(departments)})",
                )
            )
        if item.stage not in stages:
            problems.append(
                Problem((*at, "stage"), f"unknown stage {item.stage!r} (known: {_known(stages)})")
            )
        for pos, category in enumerate(item.categories):
            if category not in categories:
                problems.append(
                    Problem(
                        (*at, "categories", pos),
                        f"unknown category {category!r} (known: {_known(categories)})",
                    )
                )
        for pos, needed in enumerate(item.prerequisites):
            where: Loc = (*at, "prerequisites", pos)
            if needed not in items:
                problems.append(Problem(where, f"unknown checklist item {needed!r}"))
            elif (
                item.stage in stages
                and items[needed].stage in stages
                and (stages.index(items[needed].stage) > stages.index(item.stage))
            ):
                problems.append(
                    Problem(
                        where,
                        f"prerequisite {needed!r} is in the later stage "
                        f"{items[needed].stage!r}, after {item.stage!r}",
                    )
                )
        materials = [material.id for material in item.materials]
        problems += _duplicates(format_loc((*at, "materials")), materials)
    return problems


def _cycle_problems(checklist: Sequence[ChecklistItem]) -> list[Problem]:
    index = {item.id: pos for pos, item in enumerate(checklist)}
    state: dict[str, str] = {}  # "open" while on the DFS stack, "done" after
    problems: list[Problem] = []

    def visit(item_id: str, trail: list[str]) -> None:
        state[item_id] = "open"
        item = checklist[index[item_id]]
        for pos, needed in enumerate(item.prerequisites):
            if needed not in index:
                continue
            if state.get(needed) == "open":
                cycle = [*trail[trail.index(needed) :], item_id, needed]
                problems.append(
                    Problem(
                        ("checklist", index[item_id], "prerequisites", pos),
                        f"prerequisite cycle: {' -> '.join(cycle)}",
                    )
                )
            elif needed not in state:
                visit(needed, [*trail, item_id])
        state[item_id] = "done"

    for item in checklist:
        if item.id not in state:
            visit(item.id, [])
    return problems


def _ladder_problems(scheme: Scheme) -> list[Problem]:
    problems: list[Problem] = []
    previous: int | None = None
    for pos, level in enumerate(scheme.escalation):
        if level.level != pos + 1:
            problems.append(
                Problem(("escalation", pos, "level"), f"levels count 1, 2, 3…: expected {pos + 1}")
            )
        threshold = level.threshold_workdays_overdue
        if previous is not None and threshold <= previous:
            problems.append(
                Problem(
                    ("escalation", pos, "threshold_workdays_overdue"),
                    f"thresholds must strictly increase: {threshold} after {previous}",
                )
            )
        previous = threshold
    return problems


def _eligibility_problems(scheme: Scheme) -> list[Problem]:
    problems: list[Problem] = []
    last = len(scheme.eligibility) - 1
    categories = [c.id for c in scheme.categories]
    for pos, rule in enumerate(scheme.eligibility):
        if rule.when is None and pos != last:
            problems.append(
                Problem(("eligibility", pos), "only the last rule may omit `when` (the fallback)")
            )
        if rule.when is not None and pos == last:
            problems.append(
                Problem(("eligibility", pos), "the last rule is the fallback: it has no `when`")
            )
        leaves = rule.when.comparisons() if rule.when is not None else ()
        for leaf in leaves:
            if leaf.fact != "category":
                continue
            values = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
            for value in values:
                if value not in categories:
                    problems.append(
                        Problem(
                            ("eligibility", pos, "when"),
                            f"unknown category {value!r} (known: {_known(categories)})",
                        )
                    )
    return problems


def _authorization_problems(scheme: Scheme) -> list[Problem]:
    kinds = [kind.id for kind in scheme.service_kinds]
    flagged = {kind.id for kind in scheme.service_kinds if kind.requires_written_authorization}
    listed = scheme.acceptance.requires_written_authorization_for
    problems: list[Problem] = []
    for pos, kind_id in enumerate(listed):
        where: Loc = ("acceptance", "requires_written_authorization_for", pos)
        if kind_id not in kinds:
            problems.append(
                Problem(where, f"unknown service kind {kind_id!r} (known: {_known(kinds)})")
            )
    if kinds and flagged != set(listed) & set(kinds):
        problems.append(
            Problem(
                ("acceptance", "requires_written_authorization_for"),
                "must list exactly the service kinds marked requires_written_authorization: "
                f"{sorted(flagged)}",
            )
        )
    return problems
