"""What a day's digest says (简报事实), gathered from the store once and kept.

The leaders' digest is rendered from these facts: plain JSON (ids, names, counts, days),
the same for every language. The digest job keeps them per day, so `/digest 2026-10-12`
shows the day as things stood then, whatever changed since.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from domain.ladder import ladders_by_project
from handlers.context import Services
from handlers.i18n import LANGS
from handlers.postman import Postman
from handlers.problem_card import gather_items, reason_today
from handlers.render import Voice, department_name
from storage.uow import UnitOfWork

TOP_OVERDUE = 10
# Each list of the digest shows its first entries and counts the rest: at a city's scale a
# full list ran to thousands of lines, split into dozens of messages per leader.
TOP_LINES = 15

Facts = dict[str, Any]


def digest_slot(services: Services, day: date) -> datetime:
    """When the digest of ``day`` is due (the scheme's digest_time, local)."""
    return datetime.combine(day, services.scheme.reports.digest_time, services.timezone)


def _names(zh: str, en: str) -> dict[str, str]:
    return {"zh_CN": zh, "en": en}


async def gather_facts(uow: UnitOfWork, services: Services, day: date) -> Facts:
    """Everything the digest of ``day`` shows, read from the store as it is now."""
    calendar, scheme = services.calendar, services.scheme
    prev = calendar.add_workdays(day, -1)
    since, until = digest_slot(services, prev), digest_slot(services, day)

    problems = await uow.problems.unresolved()
    problem_pids = sorted({p.project_id for p in problems})
    projects = await uow.due.project_labels(problem_pids)
    ladders = ladders_by_project(await uow.due.ladders(problem_pids), scheme)
    rows = []
    for problem in problems:
        rung = ladders[problem.project_id].rung_at(problem.level)
        opened = problem.opened_at.astimezone(services.timezone).date()
        needs_leader = "leader" in rung.notify_roles
        rows.append((not needs_leader, -problem.level, problem.id, problem, opened))
    rows.sort(key=lambda r: r[:3])
    problem_lines = []
    lookups = Postman(uow, until, "digest-facts")  # reads people and accounts once; sends nothing
    for _, _, _, problem, opened in rows[:TOP_LINES]:
        code, name = projects[problem.project_id]
        items = await gather_items(lookups, problem, day, calendar)
        problem_lines.append(
            {
                "id": problem.id,
                "level": problem.level,
                "code": code,
                "project": name,
                "days": max(0, calendar.workdays_between(opened, day)),
                # Recomputed for the day (days overdue, nudges so far), in each language.
                "reason": {lang: reason_today(Voice(lang), problem, items) for lang in LANGS},
            }
        )

    due = await uow.due.running_due_by(day)
    labels = await uow.due.project_labels(sorted({i.project_id for i in due}))
    overdue = sorted(
        ((calendar.workdays_between(i.due_on, day), i) for i in due if i.due_on < day),
        key=lambda pair: (-pair[0], pair[1].item_id),
    )
    overdue = [(n, i) for n, i in overdue if n > 0]
    overdue_lines = []
    for n, item in overdue[:TOP_OVERDUE]:
        code, name = labels[item.project_id]
        depts = {lang: await department_name(uow, item.department_id, lang) for lang in LANGS}
        overdue_lines.append(
            {
                "item": _names(item.name_zh, item.name_en),
                "code": code,
                "project": name,
                "dept": depts,
                "days": n,
            }
        )
    today_items = [i for i in due if i.due_on == day]
    today_lines = [
        {
            "item": _names(i.name_zh, i.name_en),
            "code": labels[i.project_id][0],
            "project": labels[i.project_id][1],
        }
        for i in today_items[:TOP_LINES]
    ]
    apps = await uow.due.applications_between(since, until)
    accepted = await uow.due.accepted_between(since, until)
    done = await uow.due.done_between(prev, day - timedelta(days=1))
    done_projects = await uow.due.project_labels(sorted({i.project_id for i in done}))
    silent = await _not_responding(uow, [i for _, i in overdue])
    return {
        "day": day.isoformat(),
        "problems": problem_lines,
        "problems_total": len(rows),
        "overdue": overdue_lines,
        "overdue_total": len(overdue),
        "today": today_lines,
        "today_total": len(today_items),
        "applications": len(apps),
        "accepted": [{"code": p.code, "project": p.name} for p in accepted[:TOP_LINES]],
        "accepted_total": len(accepted),
        "done": [
            {"item": _names(i.name_zh, i.name_en), "project": done_projects[i.project_id][1]}
            for i in done[:TOP_LINES]
        ],
        "done_total": len(done),
        "by_stage": sorted((await uow.due.projects_by_stage()).items()),
        "silent": silent[:TOP_LINES],
        "silent_total": len(silent),
    }


async def _not_responding(uow: UnitOfWork, overdue: list) -> list[str]:  # type: ignore[type-arg]
    """Names of specialists with nudged overdue items they have not touched since."""
    nudged = await uow.due.first_nudges([i.item_id for i in overdue])
    pairs = [(i.item_id, i.assignee_id) for i in overdue if i.item_id in nudged and i.assignee_id]
    acted = await uow.due.last_actions_by(pairs)
    silent = [p for i, p in pairs if i not in acted or acted[i] < nudged[i]]
    known = await uow.due.person_names(sorted(set(silent)))
    names = {person_id: known[person_id] for person_id in silent if person_id in known}
    return list(names.values())


__all__ = ["TOP_LINES", "TOP_OVERDUE", "Facts", "digest_slot", "gather_facts"]
