"""The leaders' daily digest (领导每日简报): one message per leader per working day.

Problems first (level, days open), then overdue items (top N by working days overdue,
with department), items due today, new applications and acceptances since the previous
digest, items completed the previous working day, projects by stage, and who has not
responded to nudges. Buttons lead to `/status` of each project mentioned. `/digest`
previews today's; `/digest 2026-10-12` regenerates a past day from today's records.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain.bounds import DATE_MAX, DATE_MIN, date_in_range
from handlers.chat import Button, Outgoing
from handlers.context import Ctx, Services
from handlers.i18n import gettext
from handlers.problems import Rung, department_name, ladder_from, rung_at
from handlers.router import Router
from storage.uow import UnitOfWork

router = Router("digest")

TOP_OVERDUE = 10
# Each list of the digest shows its first entries and counts the rest: at a city's scale a
# full list ran to thousands of lines, split into dozens of messages per leader.
TOP_LINES = 15
MAX_BUTTONS = 8


def _t(lang: str, msgid: str, **params: object) -> str:
    text = gettext(lang, msgid)
    return text.format(**params) if params else text


def digest_slot(services: Services, day: date) -> datetime:
    """When the digest of ``day`` is due (the scheme's digest_time, local)."""
    return datetime.combine(day, services.scheme.reports.digest_time, services.timezone)


async def build_digest(uow: UnitOfWork, services: Services, day: date, lang: str) -> Outgoing:
    """The digest of ``day`` in ``lang``, with a status button per project mentioned."""
    return (await build_digests(uow, services, day, [lang]))[lang]


async def build_digests(
    uow: UnitOfWork, services: Services, day: date, langs: list[str]
) -> dict[str, Outgoing]:
    """The digest of ``day`` in each of ``langs``: the store is read once for all."""
    langs = list(dict.fromkeys(langs))  # one per leader: each language once
    if not langs:
        return {}
    calendar, scheme = services.calendar, services.scheme
    prev = calendar.add_workdays(day, -1)
    since, until = digest_slot(services, prev), digest_slot(services, day)

    problems = await uow.problems.unresolved()
    problem_pids = sorted({p.project_id for p in problems})
    projects = await uow.due.project_labels(problem_pids)
    # Snapshotted ladders come back shared when equal (DueRepo.ladders): parse each once.
    parsed: dict[int, list[Rung]] = {}
    ladders: dict[int, list[Rung]] = {}
    for pid, raw in (await uow.due.ladders(problem_pids)).items():
        if id(raw) not in parsed:
            parsed[id(raw)] = ladder_from(raw, scheme)
        ladders[pid] = parsed[id(raw)]
    rows = []
    for problem in problems:
        rung = rung_at(ladders[problem.project_id], problem.level)
        opened = problem.opened_at.astimezone(services.timezone).date()
        needs_leader = "leader" in rung.notify_roles
        rows.append((not needs_leader, -problem.level, problem.id, problem, opened))
    rows.sort(key=lambda r: r[:3])

    due = await uow.due.running_due_by(day)
    labels = await uow.due.project_labels(sorted({i.project_id for i in due}))
    overdue = sorted(
        ((calendar.workdays_between(i.due_on, day), i) for i in due if i.due_on < day),
        key=lambda pair: (-pair[0], pair[1].item_id),
    )
    overdue = [(n, i) for n, i in overdue if n > 0]
    depts = {
        (item.department_id, lang): await department_name(uow, item.department_id, lang)
        for _, item in overdue[:TOP_OVERDUE]
        for lang in langs
    }
    today_items = [i for i in due if i.due_on == day]
    apps = await uow.due.applications_between(since, until)
    accepted = await uow.due.accepted_between(since, until)
    done = await uow.due.done_between(prev, day - timedelta(days=1))
    done_projects = await uow.due.project_labels(sorted({i.project_id for i in done}))
    by_stage = sorted((await uow.due.projects_by_stage()).items())
    silent = await _not_responding(uow, [i for _, i in overdue])

    def render(lang: str) -> Outgoing:
        mentioned: dict[int, str] = {}
        out: list[str] = ["**" + _t(lang, "Daily digest for {day}", day=day.isoformat()) + "**"]
        out.append("")
        out.append("**" + _t(lang, "Problems needing attention") + "**")
        for _, _, _, problem, opened in rows[:TOP_LINES]:
            code, name = projects[problem.project_id]
            mentioned[problem.project_id] = code
            out.append(
                _t(
                    lang,
                    "· #{id} level {level} · {project} · open {days} working days · {reason}",
                    id=problem.id,
                    level=problem.level,
                    project=name,
                    days=max(0, calendar.workdays_between(opened, day)),
                    reason=problem.reason,
                )
            )
        out += _more(lang, len(rows) - TOP_LINES)
        if not rows:
            out.append(_t(lang, "· none"))

        out += ["", "**" + _t(lang, "Overdue items ({n})", n=len(overdue)) + "**"]
        for n, item in overdue[:TOP_OVERDUE]:
            code, name = labels[item.project_id]
            mentioned[item.project_id] = code
            out.append(
                _t(
                    lang,
                    "· {item} · {project} · {dept} · {n} working days overdue",
                    item=item.name_en if lang == "en" else item.name_zh,
                    project=name,
                    dept=depts[item.department_id, lang],
                    n=n,
                )
            )
        out += _more(lang, len(overdue) - TOP_OVERDUE)
        if not overdue:
            out.append(_t(lang, "· none"))

        out += ["", "**" + _t(lang, "Due today ({n})", n=len(today_items)) + "**"]
        for item in today_items[:TOP_LINES]:
            code, name = labels[item.project_id]
            mentioned[item.project_id] = code
            out.append(f"· {item.name_en if lang == 'en' else item.name_zh} · {name}")
        out += _more(lang, len(today_items) - TOP_LINES)
        if not today_items:
            out.append(_t(lang, "· none"))

        out += ["", "**" + _t(lang, "Since the last digest") + "**"]
        out.append(_t(lang, "· new applications: {n}", n=len(apps)))
        out.append(_t(lang, "· accepted projects: {n}", n=len(accepted)))
        for project in accepted[:TOP_LINES]:
            mentioned[project.id] = project.code
            out.append(f"  · {project.name} ({project.code})")
        out += _more(lang, len(accepted) - TOP_LINES)

        done_title = _t(lang, "Completed on the previous working day ({n})", n=len(done))
        out += ["", f"**{done_title}**"]
        for item in done[:TOP_LINES]:
            name = item.name_en if lang == "en" else item.name_zh
            out.append(f"· {name} · {done_projects[item.project_id][1]}")
        out += _more(lang, len(done) - TOP_LINES)

        out += ["", "**" + _t(lang, "Projects by stage") + "**"]
        for stage_id, n in by_stage:
            try:
                label = scheme.stage(stage_id).label
                stage = label.en if lang == "en" else label.zh
            except KeyError:
                stage = stage_id
            out.append(f"· {stage}: {n}")

        out += ["", "**" + _t(lang, "Not responding to nudges") + "**"]
        out += [f"· {line}" for line in silent[:TOP_LINES]] or [_t(lang, "· none")]
        out += _more(lang, len(silent) - TOP_LINES)

        buttons = [
            [Button(_t(lang, "Status of {code}", code=code), f"status:{code}")]
            for code in list(mentioned.values())[:MAX_BUTTONS]
        ]
        return Outgoing("\n".join(out), buttons=buttons)

    return {lang: render(lang) for lang in langs}


def _more(lang: str, hidden: int) -> list[str]:
    """The line that counts what a capped list leaves out (none when nothing is left)."""
    if hidden <= 0:
        return []
    return [_t(lang, "· … and {n} more", n=hidden)]


async def _not_responding(uow: UnitOfWork, overdue: list) -> list[str]:  # type: ignore[type-arg]
    """Names of specialists with nudged overdue items they have not touched since."""
    nudged = await uow.due.first_nudges([i.item_id for i in overdue])
    pairs = [(i.item_id, i.assignee_id) for i in overdue if i.item_id in nudged and i.assignee_id]
    acted = await uow.due.last_actions_by(pairs)
    silent = [p for i, p in pairs if i not in acted or acted[i] < nudged[i]]
    known = await uow.due.person_names(sorted(set(silent)))
    names = {person_id: known[person_id] for person_id in silent if person_id in known}
    return list(names.values())


@router.command("digest", roles={"leader", "office"})
async def digest_command(ctx: Ctx) -> None:
    """`/digest [YYYY-MM-DD]`: preview today's digest or regenerate a past day's."""
    if ctx.in_group:  # it covers every project; a project group holds its enterprise
        await ctx.reply(ctx._("Send /digest in a direct chat with me."))
        return
    arg = ctx.incoming.args.strip()
    day = ctx.local_now.date()
    if arg:
        try:
            day = date.fromisoformat(arg)
        except ValueError:
            await ctx.reply(ctx._("Give the day as YYYY-MM-DD, e.g. /digest 2026-10-12."))
            return
        if not date_in_range(day):
            await ctx.reply(
                ctx._(
                    "Give a day between {first} and {last}, e.g. /digest 2026-10-12.",
                    first=DATE_MIN.isoformat(),
                    last=DATE_MAX.isoformat(),
                )
            )
            return
    await ctx.reply(await build_digest(ctx.uow, ctx.services, day, ctx.lang))
