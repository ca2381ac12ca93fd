"""The project handbook (一项目一册): items by stage with department, who and due date.

Posted when a group is bound (team.py) and shown by `/plan` (plan.py).
"""

from __future__ import annotations

from domain.planning import Plan, key_dates
from domain.scheme import Scheme
from handlers.render import (
    Speaks,
    department_label,
    due_text,
    item_name,
    item_number,
    stage_name,
)
from storage.models import ChecklistItem, Project
from storage.uow import UnitOfWork


async def handbook_text(
    say: Speaks,
    uow: UnitOfWork,
    scheme: Scheme,
    project: Project,
    plan: Plan,
    items: list[ChecklistItem],
) -> str:
    """The handbook (一项目一册): items by stage with department, who and due date, and
    each stage's key date (关键时间节点)."""
    departments = {d.id: d for d in await uow.departments.all()}
    names: dict[int, str] = {}
    for item in items:
        if item.assignee_id is not None and item.assignee_id not in names:
            person = await uow.people.get(item.assignee_id)
            names[item.assignee_id] = person.name if person else "—"
    keys = key_dates(plan)
    lines = [
        say._(
            "**Project handbook (一项目一册) — {code} {name}**",
            code=project.code,
            name=project.name,
        )
    ]
    live = [i for i in items if i.state != "not_applicable"]
    for stage in plan.stages:
        group = [i for i in live if i.stage == stage]
        if not group:
            continue
        key = keys.get(stage)
        lines.append("")
        lines.append(
            say._(
                "**{stage}** — key date {date}",
                stage=stage_name(say, scheme, stage),
                date=due_text(say, key.on, key.provisional) if key else "—",
            )
        )
        for item in group:
            department = departments.get(item.department_id) if item.department_id else None
            dept = department_label(say, department)
            lines.append(
                say._(
                    "• {number}. {item} — {department}, {who}, due {due}",
                    number=item_number(item),
                    item=item_name(say, item),
                    department=dept,
                    who=names.get(item.assignee_id or 0, say._("unassigned")),
                    due=due_text(say, item.due_on, item.due_provisional),
                )
            )
    if plan.provisional:
        lines.append("")
        lines.append(
            say._(
                "Dates marked provisional count through a year whose holidays are not yet "
                "published; they will be confirmed."
            )
        )
    return "\n".join(lines)
