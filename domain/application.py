"""Pure rules of the application and its acceptance (代办申请与受理). No I/O, no clock.

Which documents a project of a category needs (申请材料), which facts the eligibility
pre-check must ask, how numbers are written (application, project, service card — 一企一卡)
and what a project keeps of the scheme when it is accepted (DESIGN decision 3, 快照).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from domain.ladder import Ladder
from domain.scheme import EligibilityRule, Label, Scheme

AUTHORIZATION_KEY = "written_authorization"
"""The material key of the written authorization (书面委托) some schemes need for 代办."""


@dataclass(frozen=True, slots=True)
class MaterialRef:
    """A document the enterprise supplies, keyed ``item/material`` (ids repeat across items)."""

    key: str
    name: Label
    how_to_obtain: Label | None
    item_id: str | None


def materials_for(scheme: Scheme, category: str) -> tuple[MaterialRef, ...]:
    """Every document the category's checklist items need, in catalogue order.

    A document named the same in two items (the business licence, say) is asked once.
    """
    seen: set[tuple[str, str]] = set()
    out: list[MaterialRef] = []
    for item in scheme.items_for(category):
        for material in item.materials:
            if (material.id, material.name.zh) in seen:
                continue
            seen.add((material.id, material.name.zh))
            out.append(
                MaterialRef(
                    f"{item.id}/{material.id}", material.name, material.how_to_obtain, item.id
                )
            )
    return tuple(out)


def materials_now_and_later(
    scheme: Scheme, category: str, stage: str | None
) -> tuple[tuple[MaterialRef, ...], tuple[MaterialRef, ...]]:
    """The documents of the project's current and next stage (asked now), and the rest
    (listed once, for later), each in catalogue order. A document that an item of those
    stages needs is asked now, whichever item first named it. An unknown stage asks all."""
    every = materials_for(scheme, category)
    order = [s.id for s in scheme.stages]
    if stage not in order:
        return every, ()
    here = order.index(stage)
    soon = set(order[here : here + 2])
    needed_soon = {
        (material.id, material.name.zh)
        for item in scheme.items_for(category)
        if item.stage in soon
        for material in item.materials
    }

    def is_soon(ref: MaterialRef) -> bool:
        return (ref.key.split("/", 1)[-1], ref.name.zh) in needed_soon

    return tuple(m for m in every if is_soon(m)), tuple(m for m in every if not is_soon(m))


def needs_written_authorization(scheme: Scheme, kinds: Iterable[str]) -> bool:
    """Whether any requested service kind needs the enterprise's written authorization."""
    wanted = set(kinds)
    by_acceptance = wanted & set(scheme.acceptance.requires_written_authorization_for)
    by_kind = any(k.requires_written_authorization for k in scheme.service_kinds if k.id in wanted)
    return bool(by_acceptance) or by_kind


def authorization_kinds(scheme: Scheme) -> tuple[str, ...]:
    """The service kinds that need written authorization in this scheme."""
    kinds = [k.id for k in scheme.service_kinds if k.requires_written_authorization]
    kinds += list(scheme.acceptance.requires_written_authorization_for)
    return tuple(dict.fromkeys(kinds))


def material(scheme: Scheme, key: str, authorization: Label | None = None) -> MaterialRef | None:
    """The material with this key (``item/material``), or the written authorization."""
    if key == AUTHORIZATION_KEY:
        name = scheme.acceptance.application_form or authorization
        return None if name is None else MaterialRef(key, name, None, None)
    item_id, _, material_id = key.partition("/")
    for item in scheme.checklist:
        if item.id != item_id:
            continue
        for entry in item.materials:
            if entry.id == material_id:
                return MaterialRef(key, entry.name, entry.how_to_obtain, item.id)
    return None


def facts_asked(rules: Sequence[EligibilityRule]) -> tuple[str, ...]:
    """The facts the rules read, in the order the rules first read them."""
    names: list[str] = []
    for rule in rules:
        if rule.when is not None:
            names += rule.when.facts()
    return tuple(dict.fromkeys(names))


def application_number(application_id: int, year: int) -> str:
    """The number the enterprise quotes: ``A2026-0007``."""
    return f"A{year}-{application_id:04d}"


def project_code(year: int, sequence: int) -> str:
    """A project's code: ``P2026-0001`` (the year's running number)."""
    return f"P{year}-{sequence:04d}"


def service_card_number(prefix: str, year: int, sequence: int) -> str:
    """The service card (一企一卡) number: ``SYVIP-2026-0001``."""
    return f"{prefix}-{year}-{sequence:04d}"


def project_snapshot(scheme: Scheme, category: str) -> dict[str, Any]:
    """What the project keeps of the scheme at acceptance: its checklist and the ladder.

    Later edits to the scheme never change deadlines already promised (DESIGN decision 3).
    """
    items = scheme.items_for(category)
    applicable = {item.id for item in items}
    return {
        "scheme": scheme.id,
        "category": category,
        "category_limit_workdays": scheme.category(category).limit_workdays,
        "checklist": [
            {
                "id": item.id,
                "name": {"zh": item.name.zh, "en": item.name.en},
                "department": item.department,
                "stage": item.stage,
                "limit_workdays": item.limit_workdays,
                "prerequisites": [p for p in item.prerequisites if p in applicable],
                "materials": [
                    {
                        "id": m.id,
                        "name": {"zh": m.name.zh, "en": m.name.en},
                        "how_to_obtain": {"zh": m.how_to_obtain.zh, "en": m.how_to_obtain.en},
                    }
                    for m in item.materials
                ],
            }
            for item in items
        ],
        "escalation": Ladder.from_scheme(scheme.escalation).to_snapshot(),
    }


__all__ = [
    "AUTHORIZATION_KEY",
    "MaterialRef",
    "application_number",
    "authorization_kinds",
    "facts_asked",
    "material",
    "materials_for",
    "needs_written_authorization",
    "project_code",
    "project_snapshot",
    "service_card_number",
]
