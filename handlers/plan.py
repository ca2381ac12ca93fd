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
    PlanChange,
    PlanError,
    Redate,
    replan,
)
from handlers.access import OnProject
from handlers.context import Ctx
from handlers.handbook import handbook_text
from handlers.i18n import N_
from handlers.projects import project_plan, sync_rows, write_items
from handlers.router import Router
from handlers.stage_advance import advance_when_stage_closed
from storage.models import Project

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


# -- /plan ---------------------------------------------------------------------------
async def _item_code(ctx: Ctx, project: Project, word: str) -> str:
    """The catalogue code of the item `word` names: its number in the handbook, its name
    (either language) or its code; the word itself when nothing matches."""
    wanted = word.strip().casefold()
    for row in await ctx.uow.items.of_project(project.id):
        if wanted in {str(row.sort + 1), row.code, row.name_zh.casefold(), row.name_en.casefold()}:
            return row.code
    for item in ctx.scheme.checklist:
        if wanted in {item.id, item.name.zh.casefold(), item.name.en.casefold()}:
            return item.id
    return word


def _name(ctx: Ctx, code: str) -> str:
    """An item's name in the sender's language (what they typed, for an unknown code)."""
    try:
        return ctx.label(ctx.scheme.item(code).name)
    except KeyError:
        return code


USAGE = N_(
    "Use: /plan add ITEM REASON · /plan drop ITEM REASON · /plan redate ITEM YYYY-MM-DD REASON"
)


@router.command(
    "plan",
    roles={"butler"},
    scope=OnProject("butler"),
    help=N_("The project handbook; add, drop or re-date items"),
)
async def plan_command(ctx: Ctx) -> None:
    """`/plan` shows the handbook; `/plan add|drop|redate …` changes the plan (butler)."""
    project, args = ctx.project, ctx.args
    assert project is not None
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
    verb = words[0].lower()
    needed = 4 if verb == "redate" else 3
    if verb not in ("add", "drop", "redate") or len(words) < needed:
        await ctx.reply(ctx._(USAGE))
        return
    code = await _item_code(ctx, project, words[1])
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
        detail = {**err.detail, "item": _name(ctx, err.detail.get("item", code))}
        await ctx.reply(ctx._(PLAN_ERRORS.get(err.code, USAGE), **detail))
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
    name = _name(ctx, code)
    text = {
        "add": ctx._("Item {item} added to the plan. Reason: {reason}", item=name, reason=reason),
        "drop": ctx._(
            "Item {item} dropped from the plan. Reason: {reason}", item=name, reason=reason
        ),
        "redate": ctx._(
            "Item {item} is now due {date}. Reason: {reason}",
            item=name,
            date=words[2],
            reason=reason,
        ),
    }[verb]
    if moved:
        text += "\n" + ctx._(
            "Items pushed later as a result: {items}", items="、".join(_name(ctx, m) for m in moved)
        )
    await ctx.reply(text)
    if isinstance(change, DropItem) and row is not None:
        # Dropping the last open item of the stage closes the stage like 办结 would.
        await advance_when_stage_closed(ctx, project, row)
