"""The project handbook (一项目一册) and the butler's plan changes (`/plan add|drop|redate`).

The plan was snapshotted onto the project at binding; every change goes through
`domain.planning.replan` (which only ever pushes other items later) and is logged with
the butler's reason. Rows of items not yet started follow the new plan's dates.
"""

from __future__ import annotations

from datetime import date

from domain.bounds import DATE_MAX, DATE_MIN, date_in_range
from domain.planning import (
    AddItem,
    DropItem,
    Plan,
    PlanChange,
    PlanError,
    Redate,
    key_dates,
    replan,
)
from domain.scheme import Scheme
from handlers.context import Ctx
from handlers.i18n import N_
from handlers.office import Speaks
from handlers.router import Router
from handlers.team import my_project, project_plan, write_items
from storage.models import ChecklistItem, Project
from storage.uow import UnitOfWork

router = Router("plan")

PLAN_ERRORS = {
    "plan.unknown_item": N_("Item {item} is not in the plan."),
    "plan.duplicate_item": N_("Item {item} is already in the plan."),
    "plan.unknown_stage": N_("Item {item} belongs to a stage this project has passed."),
    "plan.prerequisite_later_stage": N_("Item {item} would wait for an item of a later stage."),
    "plan.due_before_start": N_(
        "Item {item} cannot be due on {due_on}: its prerequisites are due only on {start}."
    ),
    "plan.negative_limit": N_("Item {item} has a negative time limit."),
    "plan.cycle": N_("Item {item} would wait for itself."),
}


def item_name(say: Speaks, item: ChecklistItem) -> str:
    """An item's name in the reader's language."""
    return item.name_en if say.lang == "en" else item.name_zh


def stage_name(say: Speaks, scheme: Scheme, stage: str) -> str:
    """A stage's name in the reader's language (its id if the scheme lost it)."""
    try:
        return say.label(scheme.stage(stage).label)
    except KeyError:
        return stage


def due_text(say: Speaks, due: date | None, provisional: bool) -> str:
    """A due date, marked provisional (待定) when it relies on an unknown calendar year."""
    if due is None:
        return "—"
    shown = due.isoformat()
    return shown + say._(" (provisional)") if provisional else shown


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
            dept = (
                (department.name_en if say.lang == "en" else department.name_zh)
                if department
                else "—"
            )
            lines.append(
                say._(
                    "• {item} ({code}) — {department}, {who}, due {due}",
                    item=item_name(say, item),
                    code=item.code,
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


async def sync_rows(uow: UnitOfWork, project: Project, plan: Plan, touched: set[str]) -> None:
    """Move rows to the plan's dates: items not yet started, and the items `touched`."""
    for row in await uow.items.of_project(project.id):
        if row.code not in plan or row.state == "not_applicable":
            continue
        if row.state != "not_started" and row.code not in touched:
            continue
        planned = plan.item(row.code)
        row.planned_start = planned.planned_start
        row.due_on, row.due_provisional = planned.due_on, planned.provisional
    await uow.flush()


# -- /plan ---------------------------------------------------------------------------
USAGE = N_(
    "Use: /plan add ITEM REASON · /plan drop ITEM REASON · /plan redate ITEM YYYY-MM-DD REASON"
)


@router.command("plan", roles={"butler"})
async def plan_command(ctx: Ctx) -> None:
    """`/plan` shows the handbook; `/plan add|drop|redate …` changes the plan (butler)."""
    project, args = await my_project(ctx, ctx.incoming.args, "butler")
    if project is None:
        return
    plan = project_plan(project)
    if plan is None:
        await ctx.reply(
            ctx._("Project {code} has no plan yet: bind its group first.", code=project.code)
        )
        return
    words = args.split()
    if not words:
        items = await ctx.uow.items.of_project(project.id)
        await ctx.reply(await handbook_text(ctx, ctx.uow, ctx.scheme, project, plan, items))
        return
    if project.butler_id != ctx.person.id:
        await ctx.reply(
            ctx._("Only the butler of project {code} changes its plan.", code=project.code)
        )
        return
    verb = words[0].lower()
    needed = 4 if verb == "redate" else 3
    if verb not in ("add", "drop", "redate") or len(words) < needed:
        await ctx.reply(ctx._(USAGE))
        return
    code = words[1]
    reason = " ".join(words[needed - 1 :])
    change: PlanChange
    if verb == "add":
        try:
            catalogue = ctx.scheme.item(code)
        except KeyError:
            await ctx.reply(ctx._("There is no item {item} in the scheme's catalogue.", item=code))
            return
        change = AddItem.from_checklist(catalogue)
    elif verb == "drop":
        change = DropItem(code)
    else:
        try:
            day = date.fromisoformat(words[2])
        except ValueError:
            await ctx.reply(ctx._("Write the date as YYYY-MM-DD, e.g. 2026-12-31."))
            return
        if not date_in_range(day):
            await ctx.reply(
                ctx._(
                    "The date must lie between {first} and {last}; {day} cannot be meant.",
                    first=DATE_MIN.isoformat(),
                    last=DATE_MAX.isoformat(),
                    day=day.isoformat(),
                )
            )
            return
        change = Redate(code, day)
    try:
        new_plan = replan(plan, [change], ctx.services.calendar)
    except PlanError as err:
        await ctx.reply(ctx._(PLAN_ERRORS.get(err.code, USAGE), **err.detail))
        return
    snapshot = {**(project.snapshot or {}), "plan": new_plan.to_json()}
    if isinstance(change, AddItem):
        catalogue = ctx.scheme.item(code)
        added = dict(snapshot.get("added_names", {}))
        added[code] = {"zh": catalogue.name.zh, "en": catalogue.name.en}
        snapshot["added_names"] = added
    project.snapshot = snapshot
    if isinstance(change, AddItem):
        rows = await ctx.uow.items.of_project(project.id)
        await write_items(ctx.uow, project, new_plan, only={code}, start_sort=len(rows))
    if isinstance(change, DropItem):
        row = await ctx.uow.items.by_code(project.id, code)
        if row is not None:
            row.state = "not_applicable"
            row.paused_on = None
    await sync_rows(ctx.uow, project, new_plan, {code} if verb == "redate" else set())
    row = await ctx.uow.items.by_code(project.id, code)
    await ctx.uow.events.append(
        f"plan.{verb}",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=project.id,
        item_id=row.id if row else None,
        data={"item": code, "reason": reason, "due_on": words[2] if verb == "redate" else None},
    )
    moved = [
        p.item_id
        for p in new_plan.items
        if p.item_id in plan and p.item_id != code and p.due_on != plan.item(p.item_id).due_on
    ]
    text = {
        "add": ctx._("Item {item} added to the plan. Reason: {reason}", item=code, reason=reason),
        "drop": ctx._(
            "Item {item} dropped from the plan. Reason: {reason}", item=code, reason=reason
        ),
        "redate": ctx._(
            "Item {item} is now due {date}. Reason: {reason}",
            item=code,
            date=words[2],
            reason=reason,
        ),
    }[verb]
    if moved:
        text += "\n" + ctx._("Items pushed later as a result: {items}", items="、".join(moved))
    await ctx.reply(text)
