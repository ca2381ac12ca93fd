"""A staff member's own work in their direct chat (我的待办): `/mine`, and free text.

`/mine` lists the open items the person is responsible for (and those of the colleague
they stand in for), and the unresolved problems that are theirs: taken by them, on their
items, or on projects they are the butler of. Each item has a button that shows its card
with its moves; an open problem has an Acknowledge button for those who dispatch.

Free text from staff in a direct chat is answered here, as staff: the same list and the
way to /help. It never becomes a consultation ticket for the office (those are the
enterprises' questions, handlers/consult.py).
"""

from __future__ import annotations

from handlers.chat import Button, ChatKind, Outgoing
from handlers.context import Ctx
from handlers.i18n import N_
from handlers.render import STATE_LABELS, due_text, item_name
from handlers.roles import STAFF
from handlers.router import Router
from storage.models import ChecklistItem, Problem

router = Router("mine")

MAX_BUTTONS = 8  # per list: a chat screen, not a ledger; /status pages through the rest
DISPATCHERS = frozenset({"butler", "office", "leader"})  # who may acknowledge a problem
LABEL_CHARS = 24


async def _my_items(ctx: Ctx) -> list[tuple[ChecklistItem, bool]]:
    """Open items of the person, then of those they stand in for (flagged True)."""
    found = [(item, False) for item in await ctx.uow.items.of_assignee(ctx.person.id)]
    for role in await ctx.uow.people.roles_of(ctx.person.id):
        if role.role == "backup" and role.backup_of_id is not None:
            found += [(i, True) for i in await ctx.uow.items.of_assignee(role.backup_of_id)]
    return found


async def _my_problems(ctx: Ctx, item_ids: set[int]) -> list[Problem]:
    butler_of = {p.id for p in await ctx.uow.projects.listed(butler_id=ctx.person.id)}
    return [
        p
        for p in await ctx.uow.problems.unresolved()
        if p.owner_id == ctx.person.id or p.item_id in item_ids or p.project_id in butler_of
    ]


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


async def my_work(ctx: Ctx) -> Outgoing:
    """The person's open items and problems, with a button each (the first few)."""
    items = await _my_items(ctx)
    problems = await _my_problems(ctx, {i.id for i, _ in items})
    codes: dict[int, str] = {}
    for project_id in {i.project_id for i, _ in items} | {p.project_id for p in problems}:
        project = await ctx.uow.projects.get(project_id)
        codes[project_id] = project.code if project else "—"
    lines = [ctx._("**Your work, {name}**", name=ctx.person.name)]
    buttons: list[list[Button]] = []
    if not items and not problems:
        lines.append(ctx._("Nothing is waiting for you."))
    if items:
        lines.append(ctx._("Open items ({count}):", count=len(items)))
        for item, standing_in in items:
            line = ctx._(
                "• {project} · {item} · {state} · due {due}",
                project=codes[item.project_id],
                item=item_name(ctx, item),
                state=ctx._(STATE_LABELS.get(item.state, item.state)),
                due=due_text(ctx, item.due_on, item.due_provisional),
            )
            lines.append(line + (" · " + ctx._("as backup") if standing_in else ""))
        buttons += [
            [Button(f"{codes[i.project_id]} {_short(item_name(ctx, i))}", f"it:{i.id}:show")]
            for i, _ in items[:MAX_BUTTONS]
        ]
    if problems:
        lines.append(ctx._("Unresolved problems ({count}):", count=len(problems)))
        for problem in problems:
            lines.append(
                ctx._(
                    "• #{id} {project} · level {level} · {reason}",
                    id=problem.id,
                    project=codes[problem.project_id],
                    level=problem.level,
                    reason=_short(problem.reason),
                )
            )
        if ctx.has_role(*DISPATCHERS):
            buttons += [
                [Button(ctx._("Acknowledge #{id}", id=p.id), f"problem:ack:{p.id}")]
                for p in problems[:MAX_BUTTONS]
                if p.state == "open"
            ]
    return Outgoing("\n".join(lines), buttons=buttons)


@router.command("mine", chat=ChatKind.DM, roles=STAFF, help=N_("Your own open items and problems"))
async def mine(ctx: Ctx) -> None:
    """`/mine`: what is waiting for the sender."""
    await ctx.reply(await my_work(ctx))


@router.text(chat=ChatKind.DM, roles=STAFF)
async def staff_text(ctx: Ctx) -> None:
    """Free text from staff: answered as staff, never handed to the office as a question."""
    work = await my_work(ctx)
    intro = ctx._(
        "You are on the service's staff, so this is not sent to the office as a "
        "consultation. Here is what is waiting for you; /help lists your commands."
    )
    await ctx.reply(Outgoing(intro + "\n\n" + work.text, buttons=work.buttons))
