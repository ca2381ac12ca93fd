"""Where things stand (`/status`, 进度): in a project group, or in a DM scoped by role.

A project group sees its stage, progress, items due this week, overdue items (working
days late, department, who) and open problems. In a DM a specialist sees their items
across projects, a butler their projects, the office and leaders every project (filters
``zone=…``, ``stage=…``, ``overdue``). Long lists page with buttons, one screen each.
"""

from __future__ import annotations

from datetime import timedelta

from domain.bounds import row_id
from domain.items import workdays_overdue
from handlers.access import OnProject
from handlers.chat import Button, ChatKind, Outgoing
from handlers.context import Ctx
from handlers.i18n import N_
from handlers.problem_card import gather_items, reason_today
from handlers.projects import item_state
from handlers.render import (
    STATE_LABELS,
    counts,
    due_text,
    item_name,
    item_number,
    progress_bar,
    stage_name,
)
from handlers.router import Router
from storage.models import ChecklistItem, Project

router = Router("status")

PAGE_SIZE = 8


def overdue_days(ctx: Ctx, item: ChecklistItem) -> int:
    """Working days the item is past due today (0: on time, paused or closed)."""
    return workdays_overdue(item_state(item), ctx.local_now.date(), ctx.services.calendar)


async def _department(ctx: Ctx, department_id: int | None) -> str:
    for d in await ctx.uow.departments.all():
        if d.id == department_id:
            return d.name_en if ctx.lang == "en" else d.name_zh
    return "—"


async def _who(ctx: Ctx, person_id: int | None) -> str:
    person = await ctx.uow.people.get(person_id) if person_id else None
    return person.name if person else ctx._("unassigned")


async def project_status(ctx: Ctx, project: Project) -> str:
    """The group's status screen of one project."""
    items = await ctx.uow.items.of_project(project.id)
    done, total = counts(items)
    today = ctx.local_now.date()
    week_end = today + timedelta(days=6 - today.weekday())
    lines = [
        f"**{project.code} {project.name}**",
        ctx._("Stage: {stage}", stage=stage_name(ctx, ctx.scheme, project.stage)),
        ctx._("Progress: {bar}", bar=progress_bar(done, total)),
    ]
    running = [i for i in items if i.state not in ("done", "not_applicable")]
    due_week = [
        i
        for i in running
        if i.paused_on is None and i.due_on is not None and today <= i.due_on <= week_end
    ]
    overdue = [(i, overdue_days(ctx, i)) for i in running]
    overdue = [(i, d) for i, d in overdue if d > 0]
    lines.append(ctx._("Due this week: {count}", count=len(due_week)))
    for item in due_week[:PAGE_SIZE]:
        due = due_text(ctx, item.due_on, item.due_provisional)
        who = await _who(ctx, item.assignee_id)
        lines.append(f"• {item_number(item)}. {item_name(ctx, item)} — {due} · {who}")
    lines.append(ctx._("Overdue: {count}", count=len(overdue)))
    for item, days in overdue[:PAGE_SIZE]:
        lines.append(
            ctx._(
                "• {number}. {item} — {days} working days late · {department} · {who}",
                number=item_number(item),
                item=item_name(ctx, item),
                days=days,
                department=await _department(ctx, item.department_id),
                who=await _who(ctx, item.assignee_id),
            )
        )
    problems = await ctx.uow.items.open_problems(project.id)
    lines.append(ctx._("Open problems: {count}", count=len(problems)))
    today = ctx.local_now.date()
    for problem in problems[:3]:
        facts = await gather_items(ctx.post, problem, today, ctx.services.calendar)
        lines.append(f"• #{problem.id} L{problem.level}: {reason_today(ctx, problem, facts)[:160]}")
    return "\n".join(lines)


async def project_line(ctx: Ctx, project: Project) -> str:
    """One project in one line: code, name, stage, progress, overdue count."""
    items = await ctx.uow.items.of_project(project.id)
    done, total = counts(items)
    late = sum(1 for i in items if overdue_days(ctx, i) > 0)
    line = ctx._(
        "{code} {name} · {stage} · {bar}",
        code=project.code,
        name=project.name,
        stage=stage_name(ctx, ctx.scheme, project.stage),
        bar=progress_bar(done, total),
    )
    if late:
        line += " · " + ctx._("{count} overdue", count=late)
    if project.status == "archived":
        line += " · " + ctx._("archived")
    return line


def _filters(args: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for word in args.split():
        key, sep, value = word.partition("=")
        if sep and key in ("zone", "stage"):
            found[key] = value
        elif word == "overdue":
            found["overdue"] = "1"
    return found


async def dm_status(ctx: Ctx, args: str, page: int) -> Outgoing:
    """The DM status screen for the sender's role, one page of it."""
    lines: list[str]
    if ctx.has_role("office", "leader"):
        f = _filters(args)
        projects = await ctx.uow.projects.listed(zone=f.get("zone"), stage=f.get("stage"))
        if "overdue" in f:
            kept = []
            for p in projects:
                if any(overdue_days(ctx, i) > 0 for i in await ctx.uow.items.of_project(p.id)):
                    kept.append(p)
            projects = kept
        header = ctx._(
            "All projects ({count}). Filters: zone=…, stage=…, overdue", count=len(projects)
        )
        rows = [
            await project_line(ctx, p) for p in projects[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        ]
        total = len(projects)
    elif ctx.has_role("butler"):
        projects = await ctx.uow.projects.listed(butler_id=ctx.person.id)
        header = ctx._("Your projects ({count}):", count=len(projects))
        rows = [
            await project_line(ctx, p) for p in projects[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        ]
        total = len(projects)
    elif ctx.has_role("specialist", "backup"):
        items = await ctx.uow.items.of_assignee(ctx.person.id)
        header = ctx._("Your open items ({count}):", count=len(items))
        rows = []
        for item in items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
            project = await ctx.uow.projects.get(item.project_id)
            line = (
                f"{project.code if project else '—'} · {item_name(ctx, item)} · "
                f"{ctx._(STATE_LABELS.get(item.state, item.state))} · "
                f"{due_text(ctx, item.due_on, item.due_provisional)}"
            )
            days = overdue_days(ctx, item)
            if days:
                line += " · " + ctx._("{days} working days late", days=days)
            rows.append(line)
        total = len(items)
    else:
        projects = await ctx.uow.members.projects_of(ctx.person.id)
        header = ctx._("Your projects ({count}):", count=len(projects))
        rows = [
            await project_line(ctx, p) for p in projects[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        ]
        total = len(projects)
    lines = [header, *rows] if rows else [header, ctx._("Nothing to show.")]
    pages = max(1, -(-total // PAGE_SIZE))
    buttons: list[Button] = []
    if page > 0:
        buttons.append(Button(ctx._("◀ Previous"), f"st:{page - 1}:{args}"))
    if page + 1 < pages:
        buttons.append(Button(ctx._("Next ▶"), f"st:{page + 1}:{args}"))
    if pages > 1:
        lines.append(ctx._("Page {page} of {pages}", page=page + 1, pages=pages))
    return Outgoing("\n".join(lines), buttons=[buttons] if buttons else [])


@router.command(
    "status", chat=ChatKind.GROUP, scope=OnProject(), help=N_("Where projects and items stand")
)
async def status(ctx: Ctx) -> None:
    """`/status` in a project group: the project's status, for its team."""
    assert ctx.project is not None
    await ctx.reply(await project_status(ctx, ctx.project))


@router.command("status", chat=ChatKind.DM)
async def status_dm(ctx: Ctx) -> None:
    """`/status` in a DM: what concerns the sender (their items, projects, or all)."""
    await ctx.reply(await dm_status(ctx, ctx.incoming.args.strip(), 0))


# The pages are a DM screen: in a group they would list the sender's projects.
@router.button("st:", chat=ChatKind.DM)
async def status_page(ctx: Ctx) -> None:
    page, _, args = (ctx.incoming.payload or "").removeprefix("st:").partition(":")
    await ctx.reply(await dm_status(ctx, args, row_id(page) or 0))


# Under problem notices and digests, which go to people: in a group it would show its project.
@router.button("status:", chat=ChatKind.DM, scope=OnProject(via="code"))
async def status_of_project(ctx: Ctx) -> None:
    """The "Project status" button, for the project's team, the office and leaders."""
    assert ctx.project is not None
    await ctx.reply(await project_status(ctx, ctx.project))


__all__ = ["dm_status", "project_status", "router"]
