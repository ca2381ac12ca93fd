"""Difficult problems (难点问题) and the dispatch ladder (分级调度): notices and commands.

`/escalate [item] REASON [level]` raises a problem by hand; `/ack [#id]` takes it (the
ladder stops raising it for the rung's ``ack_suppresses_workdays``); `/resolve [#id]
MINUTES` closes it and pushes the meeting minutes (会议纪要) to the project group and to
every department concerned. The ladder is read from the project's snapshot (DESIGN
decision 3); `reminders/ladder.py` raises problems by itself with the same notices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from domain.bounds import row_id
from domain.scheme import Scheme
from handlers.chat import Button, Mention, Outgoing
from handlers.context import Ctx
from handlers.i18n import N_, gettext
from handlers.inbound_text import too_long
from handlers.postman import Postman
from handlers.router import Router
from storage.models import ChecklistItem, Person, Problem, Project
from storage.uow import UnitOfWork

router = Router("problems")

GROUP_LANG = "zh_CN"  # a group has no language of its own; the service writes Chinese
LOG_LINES = 3


# -- the ladder as data -------------------------------------------------------------------
@dataclass(frozen=True)
class Rung:
    """One level of a project's ladder, as snapshotted at acceptance."""

    level: int
    name: dict[str, str]
    dispatcher: dict[str, str]
    notify_roles: tuple[str, ...]
    threshold_workdays_overdue: int
    ack_timeout_workdays: int
    ack_suppresses_workdays: int


def ladder_of(project: Project, scheme: Scheme) -> list[Rung]:
    """The project's ladder (its snapshot; the live scheme only for projects without one)."""
    return ladder_from((project.snapshot or {}).get("escalation"), scheme)


def ladder_from(escalation: list[dict[str, Any]] | None, scheme: Scheme) -> list[Rung]:
    """A ladder from a snapshot's ``escalation`` list (the live scheme's when empty)."""
    raw: list[dict[str, Any]] = list(escalation or [])
    if not raw:
        raw = [
            {
                "level": lv.level,
                "name": {"zh": lv.name.zh, "en": lv.name.en},
                "dispatcher": {"zh": lv.dispatcher.zh, "en": lv.dispatcher.en},
                "notify_roles": list(lv.notify_roles),
                "threshold_workdays_overdue": lv.threshold_workdays_overdue,
                "ack_timeout_workdays": lv.ack_timeout_workdays,
                "ack_suppresses_workdays": lv.ack_suppresses_workdays,
            }
            for lv in scheme.escalation
        ]
    rungs = [
        Rung(
            int(r["level"]),
            dict(r["name"]),
            dict(r["dispatcher"]),
            tuple(r["notify_roles"]),
            int(r["threshold_workdays_overdue"]),
            int(r.get("ack_timeout_workdays", 1)),
            int(r.get("ack_suppresses_workdays", 2)),
        )
        for r in raw
    ]
    return sorted(rungs, key=lambda r: r.level)


def rung_at(ladder: list[Rung], level: int) -> Rung:
    """The rung of ``level`` (the top one if the ladder is shorter)."""
    for rung in ladder:
        if rung.level == level:
            return rung
    return ladder[-1]


def rung_above(ladder: list[Rung], level: int) -> Rung | None:
    """The next rung up, or None at the top."""
    return next((r for r in ladder if r.level > level), None)


def rung_for_overdue(ladder: list[Rung], overdue: int) -> Rung | None:
    """The highest rung whose threshold ``overdue`` working days have crossed."""
    if overdue <= 0:
        return None
    crossed = [r for r in ladder if r.threshold_workdays_overdue <= overdue]
    return crossed[-1] if crossed else None


def _label(lang: str, label: dict[str, str]) -> str:
    return label.get("en" if lang == "en" else "zh") or label.get("zh", "")


def _t(lang: str, msgid: str, **params: Any) -> str:
    text = gettext(lang, msgid)
    return text.format(**params) if params else text


def mention_line(people: list[Person]) -> tuple[str, list[Mention]]:
    """``@A @B`` and the mentions for it."""
    return " ".join(f"@{p.name}" for p in people), [Mention(p.id, p.name) for p in people]


# -- who hears about a problem -------------------------------------------------------------
async def audience(
    post: Postman, project: Project, item: ChecklistItem | None, roles: tuple[str, ...]
) -> list[Person]:
    """The persons behind ``roles`` for this project: butler, office, leader, specialist…"""
    ids: list[int] = []
    for role in roles:
        if role == "butler" and project.butler_id is not None:
            ids.append(project.butler_id)
        if role in {"office", "leader"}:
            ids += [p.id for p in await post.with_role(role)]
        if role in {"butler", "enterprise", "specialist", "backup"}:
            ids += await post.member_ids(project.id, role)
        if role == "specialist" and item is not None and item.assignee_id is not None:
            ids.append(item.assignee_id)
    people: list[Person] = []
    for person_id in dict.fromkeys(ids):
        person = await post.person(person_id)
        if person is not None and person.active:
            people.append(person)
    return people


async def problem_facts(
    uow: UnitOfWork,
    project: Project,
    item: ChecklistItem | None,
    problem: Problem,
    lang: str,
    overdue: int,
) -> str:
    """The facts a dispatcher needs: project, item, department, days overdue, nudges, log."""
    lines = [_t(lang, "Project: {name} ({code})", name=project.name, code=project.code)]
    if item is not None:
        dept = await department_name(uow, item.department_id, lang)
        nudges = (await uow.due.nudge_counts([item.id])).get(item.id, 0)
        lines += [
            _t(lang, "Item: {item}", item=item.name_en if lang == "en" else item.name_zh),
            _t(lang, "Department: {dept}", dept=dept),
            _t(lang, "Working days overdue: {n}", n=overdue),
            _t(lang, "Nudges already sent: {n}", n=nudges),
        ]
        events = await uow.due.item_events(project.id, item.id, LOG_LINES)
        if events:
            lines.append(_t(lang, "Latest work-log entries:"))
            for ev in events:
                note = ev.data.get("note") or ev.data.get("reason") or ev.data.get("to") or ""
                lines.append(f"  · {ev.at.date().isoformat()} {ev.kind} {note}".rstrip())
    lines.append(_t(lang, "Reason: {reason}", reason=problem.reason))
    return "\n".join(lines)


async def department_name(uow: UnitOfWork, department_id: int | None, lang: str) -> str:
    """A department's name in ``lang``, or a dash."""
    if department_id is None:
        return "—"
    return await uow.departments.name(department_id, lang) or "—"


async def notify_problem(
    post: Postman,
    scheme: Scheme,
    problem: Problem,
    *,
    overdue: int = 0,
    climbed: bool = False,
) -> int:
    """Tell the rung's people (DM, with an Acknowledge button) and the project group."""
    uow = post.uow
    project = await post.project(problem.project_id)
    rung = rung_at(ladder_of(project, scheme), problem.level)
    item = await uow.items.get(problem.item_id) if problem.item_id is not None else None
    sent = 0
    key = f"p{problem.id}:L{problem.level}"
    facts: dict[str, str] = {}  # by language: the same for every reader of it
    for person in await audience(post, project, item, rung.notify_roles):
        lang = person.lang
        head = (
            N_("Problem #{id} climbed to level {level}: {name} ({dispatcher}).")
            if climbed
            else N_("Problem #{id} at level {level}: {name} ({dispatcher}).")
        )
        text = _t(
            lang,
            head,
            id=problem.id,
            level=rung.level,
            name=_label(lang, rung.name),
            dispatcher=_label(lang, rung.dispatcher),
        )
        if lang not in facts:
            facts[lang] = await problem_facts(uow, project, item, problem, lang, overdue)
        out = Outgoing(
            f"**{text}**\n{facts[lang]}",
            buttons=[
                [
                    Button(_t(lang, "Acknowledge"), f"problem:ack:{problem.id}"),
                    Button(_t(lang, "Project status"), f"status:{project.code}"),
                ]
            ],
        )
        sent += await post.to_person(person.id, out, f"{key}:u{person.id}")
    group = _t(
        GROUP_LANG,
        "Problem #{id} is now at level {level} ({dispatcher}): {reason}",
        id=problem.id,
        level=rung.level,
        dispatcher=_label(GROUP_LANG, rung.dispatcher),
        reason=problem.reason,
    )
    sent += await post.to_project_groups(project.id, Outgoing(group), key)
    return sent


# -- commands --------------------------------------------------------------------------
STAFF_ESCALATE = {"butler", "office"}
STAFF_DISPATCH = {"butler", "office", "leader"}
_LEVEL = re.compile(r"^(?:L|l|level)?(\d)$")
_ID = re.compile(r"^#?(\d+)$")


async def _project_of_chat(ctx: Ctx) -> Project | None:
    chat = await ctx.uow.chats.get(ctx.incoming.platform, ctx.incoming.chat_id)
    if chat is None or chat.project_id is None:
        return None
    return (await ctx.uow.due.projects([chat.project_id])).get(chat.project_id)


async def _may_dispatch(ctx: Ctx, project: Project) -> bool:
    """The office and leaders act on every project's problems, a butler only on their own."""
    if ctx.has_role("office", "leader") or project.butler_id == ctx.person.id:
        return True
    await ctx.reply(
        ctx._(
            "Only the butler of project {code}, the service office or a leader can act on its "
            "problems.",
            code=project.code,
        )
    )
    return False


@router.command("escalate", roles=STAFF_ESCALATE)
async def escalate(ctx: Ctx) -> None:
    """`/escalate [item] REASON [level]` in a project group: raise a problem by hand."""
    project = await _project_of_chat(ctx)
    if project is None:
        await ctx.reply(ctx._("Send /escalate in the project's group chat."))
        return
    if not await _may_dispatch(ctx, project):
        return
    words = ctx.incoming.args.split()
    item = None
    if words:
        item = await ctx.uow.items.by_code(project.id, words[0])
        if item is not None:
            words = words[1:]
    ladder = ladder_of(project, ctx.scheme)
    level: int | None = None
    if len(words) > 1 and (found := _LEVEL.match(words[-1])):
        level = int(found.group(1))
        words = words[:-1]
    reason = " ".join(words).strip()
    if await too_long(ctx, reason, "reason"):
        return
    if not reason:
        await ctx.reply(
            ctx._("Usage: /escalate [item code] REASON [level 1–{top}]", top=ladder[-1].level)
        )
        return
    if level is not None and level not in {r.level for r in ladder}:
        await ctx.reply(ctx._("There is no level {level} on this project's ladder.", level=level))
        return
    existing = await ctx.uow.problems.unresolved_for_item(item.id) if item else None
    post = Postman(ctx.uow, ctx.now, f"in:{ctx.incoming.platform}:{ctx.incoming.event_id}")
    if existing is not None:
        above = rung_above(ladder, existing.level)
        target = level or (above.level if above else existing.level)
        if target > existing.level:
            await ctx.uow.problems.raise_to(existing, target, ctx.now)
        problem = existing
    else:
        problem = await ctx.uow.problems.open(
            project_id=project.id,
            item_id=item.id if item else None,
            level=level or ladder[0].level,
            reason=reason,
            auto=False,
            opened_by_id=ctx.person.id,
            now=ctx.now,
        )
    await ctx.uow.events.append(
        "problem.escalated",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=project.id,
        item_id=problem.item_id,
        data={"problem": problem.id, "level": problem.level, "reason": reason},
    )
    await notify_problem(post, ctx.scheme, problem)
    await ctx.reply(
        ctx._("Problem #{id} raised to level {level}.", id=problem.id, level=problem.level)
    )


async def _pick_problem(ctx: Ctx, words: list[str]) -> tuple[Problem | None, list[str]]:
    if words and (found := _ID.match(words[0])):
        problem_id = row_id(found.group(1))  # a typo of 20 digits names no problem
        return (await ctx.uow.problems.get(problem_id) if problem_id else None), words[1:]
    project = await _project_of_chat(ctx)
    if project is not None:
        open_ones = await ctx.uow.problems.unresolved_for_project(project.id)
        return (open_ones[0] if open_ones else None), words
    return None, words


async def _ack(ctx: Ctx, problem: Problem | None) -> None:
    if problem is None or problem.state == "resolved":
        await ctx.reply(ctx._("No open problem found. Give its number, e.g. /ack #12."))
        return
    project = (await ctx.uow.due.projects([problem.project_id]))[problem.project_id]
    if not await _may_dispatch(ctx, project):
        return
    rung = rung_at(ladder_of(project, ctx.scheme), problem.level)
    until = ctx.services.calendar.add_workdays(ctx.local_now.date(), rung.ack_suppresses_workdays)
    await ctx.uow.problems.ack(problem, ctx.person.id, until, ctx.now)
    await ctx.uow.events.append(
        "problem.acked",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=problem.project_id,
        item_id=problem.item_id,
        data={"problem": problem.id, "until": until.isoformat()},
    )
    text = ctx._(
        "Problem #{id} acknowledged by {name}; it will not be raised automatically until {until}.",
        id=problem.id,
        name=ctx.person.name,
        until=until.isoformat(),
    )
    await ctx.reply(text)
    if not ctx.in_group:
        post = Postman(ctx.uow, ctx.now, f"in:{ctx.incoming.platform}:{ctx.incoming.event_id}")
        await post.to_project_groups(problem.project_id, Outgoing(text), "ack")


@router.command("ack", roles=STAFF_DISPATCH)
async def ack_command(ctx: Ctx) -> None:
    """`/ack [#id]`: take a problem."""
    problem, _ = await _pick_problem(ctx, ctx.incoming.args.split())
    await _ack(ctx, problem)


@router.button("problem:ack:", roles=STAFF_DISPATCH)
async def ack_button(ctx: Ctx) -> None:
    """The Acknowledge button under a problem notice."""
    raw = (ctx.incoming.payload or "").rsplit(":", 1)[-1]
    problem_id = row_id(raw)
    await _ack(ctx, await ctx.uow.problems.get(problem_id) if problem_id else None)


@router.command("resolve", roles=STAFF_DISPATCH)
async def resolve(ctx: Ctx) -> None:
    """`/resolve [#id] MINUTES`: close a problem and push the minutes (会议纪要)."""
    problem, words = await _pick_problem(ctx, ctx.incoming.args.split())
    minutes = " ".join(words).strip()
    if problem is None or problem.state == "resolved":
        await ctx.reply(ctx._("No open problem found. Give its number, e.g. /resolve #12 MINUTES."))
        return
    project = (await ctx.uow.due.projects([problem.project_id]))[problem.project_id]
    if not await _may_dispatch(ctx, project):
        return
    if not minutes:
        await ctx.reply(ctx._("Write the meeting minutes after /resolve, e.g. /resolve #12 …"))
        return
    if await too_long(ctx, minutes, "minutes"):
        return
    await ctx.uow.problems.resolve(problem, ctx.person.id, minutes, ctx.now)
    await ctx.uow.events.append(
        "problem.resolved",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=problem.project_id,
        item_id=problem.item_id,
        data={"problem": problem.id, "minutes": minutes},
    )
    post = Postman(ctx.uow, ctx.now, f"in:{ctx.incoming.platform}:{ctx.incoming.event_id}")

    def notice(lang: str) -> Outgoing:
        return Outgoing(
            _t(
                lang,
                "Problem #{id} of {project} is resolved. Meeting minutes (会议纪要):\n{minutes}",
                id=problem.id,
                project=project.name,
                minutes=minutes,
            )
        )

    await post.to_project_groups(project.id, notice(GROUP_LANG), "minutes")
    for person in await concerned_departments(ctx.uow, project, problem):
        await post.to_person(person.id, notice(person.lang), f"minutes:u{person.id}")
    await ctx.reply(ctx._("Problem #{id} closed; the minutes were sent.", id=problem.id))


async def concerned_departments(
    uow: UnitOfWork, project: Project, problem: Problem
) -> list[Person]:
    """The department people a problem concerns: its item's specialist and their colleagues
    on the team, or every department member of the team for a project-wide problem."""
    item = await uow.items.get(problem.item_id) if problem.item_id is not None else None
    members = await uow.due.members(project.id, ("specialist", "backup"))
    if item is not None:
        members = [m for m in members if m.department_id == item.department_id]
    ids = [m.person_id for m in members]
    if item is not None and item.assignee_id is not None:
        ids.insert(0, item.assignee_id)
    people = [await uow.people.get(i) for i in dict.fromkeys(ids)]
    return [p for p in people if p is not None and p.active]
