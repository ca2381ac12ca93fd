"""Noise per person (消息噪声基准): one simulated month of a seeded district.

A district of ``--projects`` projects (bench/_seed.py: a butler per 20 projects, a
specialist per 5 who is also the backup on 5 more, 3 office accounts, leaders) lives
through the working days from ``--start``. Each morning, before the scheduler's tick,
items finish with realistic lateness: every running item gets a finishing day drawn once
(55% up to 5 working days early, 25% 1–3 days late, 12% 4–10 days late, 8% not within
the month); then the real ``tick`` runs at the round's time (the digest, reports, the
daily round: nudges and the ladder), exactly as production does. The messages the day
wrote to the outbox are counted per person (DMs) and per project group.

Printed: messages per person per working day (max, p95, median over every person of the
role and every day, zero days included) for each role, the group messages per project
per day, and the check that nothing is lost: every item overdue that morning appears on
a line of some message of that day (a DM line naming its project and item, or a line of
its project group's message).

    .venv/bin/python bench/bench_noise.py [--projects 300] [--items-per-project 30]
        [--start 2026-11-02] [--days 21] [--backend sqlite]

Measure "before" by running this same file against another checkout's code:
``(cd /path/to/other && .venv/bin/python /path/to/bench_noise.py)`` imports that
checkout's packages (the working directory comes first on ``sys.path``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import sys
import time as clock
from collections import Counter, defaultdict
from datetime import date, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

# The checkout whose code is measured: the working directory (see the docstring).
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, os.getcwd())

from _seed import TZ, local, scratch_database, seed
from sqlalchemy import select, update

from domain.calendar import WorkCalendar
from domain.scheme_loader import load_scheme
from handlers.app_router import build_router
from handlers.context import Services
from reminders.jobs import tick
from storage.db import Database
from storage.models import (
    Chat,
    ChecklistItem,
    OutboxMessage,
    PersonRole,
    Project,
)
from storage.repos.due import RUNNING_STATES
from storage.uow import UnitOfWork

ROLES = ("specialist", "butler", "office", "leader")


def finishing_day(rng: random.Random, due: date, calendar: WorkCalendar) -> date | None:
    """When a running item is ticked off: early, on time or late, or not this month."""
    roll = rng.random()
    if roll < 0.55:
        return calendar.add_workdays(due, -rng.randint(0, 5))
    if roll < 0.80:
        return calendar.add_workdays(due, rng.randint(1, 3))
    if roll < 0.92:
        return calendar.add_workdays(due, rng.randint(4, 10))
    return None


def percentile(values: list[int], share: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0


class District:
    """The seeded database, its services, and what the month's messages said."""

    def __init__(self, url: str, start: date) -> None:
        scheme = load_scheme("tongzhou")
        self.now = local(start, time(9))
        self.services = Services(
            db=Database(url),
            scheme=scheme,
            calendar=WorkCalendar(),
            clock=SimpleNamespace(now=lambda: self.now),  # type: ignore[arg-type]
            router=build_router(),
            timezone=ZoneInfo(str(TZ)),
        )
        self.finish: dict[int, date | None] = {}
        self.role_of: dict[int, str] = {}
        self.group_project: dict[str, int] = {}
        self.project_name: dict[int, str] = {}
        self.last_outbox = 0

    async def read(self, rng: random.Random) -> None:
        async with UnitOfWork(self.services.db) as uow:
            s = uow.session
            for person_id, role in await s.execute(select(PersonRole.person_id, PersonRole.role)):
                self.role_of.setdefault(person_id, role)
            for chat_id, project_id in await s.execute(
                select(Chat.external_id, Chat.project_id).where(Chat.kind == "group")
            ):
                self.group_project[chat_id] = project_id
            for pid, name in await s.execute(select(Project.id, Project.name)):
                self.project_name[pid] = name
            rows = await s.execute(
                select(ChecklistItem.id, ChecklistItem.due_on)
                .where(ChecklistItem.state.in_(RUNNING_STATES))
                .order_by(ChecklistItem.id)
            )
            for item_id, due in rows:
                self.finish[item_id] = finishing_day(rng, due, self.services.calendar)

    async def finish_items(self, day: date) -> int:
        done = [i for i, d in self.finish.items() if d is not None and d <= day]
        async with UnitOfWork(self.services.db) as uow:
            for start in range(0, len(done), 500):
                await uow.session.execute(
                    update(ChecklistItem)
                    .where(ChecklistItem.id.in_(done[start : start + 500]))
                    .values(state="done", done_on=day)
                )
        for item_id in done:
            del self.finish[item_id]
        return len(done)

    async def overdue(self, day: date) -> list[tuple[int, str]]:
        """(project, item name) of every item overdue this morning, as the scan sees it."""
        async with UnitOfWork(self.services.db) as uow:
            items = await uow.due.running_due_by(day)
        return [(i.project_id, i.name_zh) for i in items if i.due_on < day]

    async def messages(self) -> list[tuple[int | None, str, str, str]]:
        """(person, chat, text, cause) of the outbox rows written since the last call; the
        cause is the first word of the dedupe key: nudge, ladder, digest, …"""
        async with UnitOfWork(self.services.db) as uow:
            rows = (
                await uow.session.execute(
                    select(
                        OutboxMessage.id,
                        OutboxMessage.person_id,
                        OutboxMessage.chat_external_id,
                        OutboxMessage.payload,
                        OutboxMessage.dedupe_key,
                    )
                    .where(OutboxMessage.id > self.last_outbox)
                    .order_by(OutboxMessage.id)
                )
            ).all()
        if rows:
            self.last_outbox = rows[-1][0]
        return [
            (person, chat, payload.get("text") or "", key.split(":")[0])
            for _, person, chat, payload, key in rows
        ]


def covered(
    missing_from: list[tuple[int, str]],
    messages: list[tuple[int | None, str, str, str]],
    district: District,
) -> int:
    """How many overdue items appear on no line of the day's messages."""
    by_project_lines: dict[int, list[str]] = defaultdict(list)  # lines that name the project
    for _, chat, text, _ in messages:
        group_of = district.group_project.get(chat)
        for line in text.splitlines():
            if group_of is not None:
                by_project_lines[group_of].append(line)
            for pid in {int(m) for m in re.findall(r"项目(\d+)", line)}:
                by_project_lines[pid].append(line)
    lost = 0
    for project_id, item in missing_from:
        pattern = re.compile(re.escape(item) + r"(?!\d)")
        if not any(pattern.search(line) for line in by_project_lines.get(project_id, [])):
            lost += 1
    return lost


async def simulate(args: argparse.Namespace) -> dict[str, object]:
    rng = random.Random(11)
    start = date.fromisoformat(args.start)
    t0 = clock.perf_counter()
    async with scratch_database(args.backend, args.pg_url) as url:
        await seed(
            url,
            projects=args.projects,
            items=args.projects * args.items_per_project,
            leaders=3,
            today=start,
        )
        district = District(url, start)
        try:
            await district.read(rng)
            calendar = district.services.calendar
            per_day: dict[tuple[int, date], int] = Counter()
            per_cause: dict[tuple[int, date, str], int] = Counter()
            group_day: dict[tuple[str, date], int] = Counter()
            overdue_total = lost_total = 0
            days: list[date] = []
            day = start
            # The day before the month: what the seed's yesterday left (its digest and
            # round) is not this month's noise.
            district.now = local(calendar.add_workdays(start, -1), time(18))
            await tick(district.services, district.now)
            await district.messages()
            while len(days) < args.days:
                if calendar.is_workday(day):
                    days.append(day)
                    await district.finish_items(day)
                    late = await district.overdue(day)
                    for hh, mm in ((9, 31), (11, 0), (15, 0)):
                        district.now = local(day, time(hh, mm))
                        await tick(district.services, district.now)
                    sent = await district.messages()
                    for person, chat, _, cause in sent:
                        if person is not None:
                            per_day[(person, day)] += 1
                            per_cause[(person, day, cause)] += 1
                        elif chat in district.group_project:
                            group_day[(chat, day)] += 1
                    overdue_total += len(late)
                    lost_total += covered(late, sent, district)
                    print(
                        f"  {day}: {len(sent)} messages, {len(late)} overdue items",
                        file=sys.stderr,
                        flush=True,
                    )
                day += timedelta(days=1)
            by_role: dict[str, list[int]] = {role: [] for role in ROLES}
            causes = sorted({c for _, _, c in per_cause})
            by_cause: dict[tuple[str, str], list[int]] = defaultdict(list)
            for person, role in district.role_of.items():
                if role in by_role:
                    by_role[role] += [per_day.get((person, d), 0) for d in days]
                    for c in causes:
                        by_cause[(role, c)] += [per_cause.get((person, d, c), 0) for d in days]
            groups = [group_day.get((g, d), 0) for g in district.group_project for d in days]
        finally:
            await district.services.db.dispose()
    return {
        "days": len(days),
        "by_role": by_role,
        "by_cause": by_cause,
        "groups": groups,
        "overdue": overdue_total,
        "lost": lost_total,
        "seconds": clock.perf_counter() - t0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=300)
    parser.add_argument("--items-per-project", type=int, default=30)
    parser.add_argument("--start", default="2026-11-02")
    parser.add_argument("--days", type=int, default=21, help="working days simulated")
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--pg-url", default=None)
    args = parser.parse_args()
    r = asyncio.run(simulate(args))
    print()
    print("    " + " ".join(["python", *sys.argv]) + f"   # code: {os.getcwd()}")
    print()
    print(f"{r['days']} working days, {args.projects} projects, {r['seconds']:.0f} s")
    print()
    print("| recipient | accounts | max / day | p95 / day | median / day | days over 3 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    by_role: dict[str, list[int]] = r["by_role"]  # type: ignore[assignment]
    days = int(r["days"])  # type: ignore[call-overload]
    for role, values in by_role.items():
        if not values:
            continue
        over = sum(v > 3 for v in values)
        print(
            f"| {role} | {len(values) // max(1, days)} | {max(values)} |"
            f" {percentile(values, 0.95)} | {statistics.median(values):g} | {over} |"
        )
    groups: list[int] = r["groups"]  # type: ignore[assignment]
    print(
        f"| project group | {len(groups) // max(1, days)} | {max(groups)} |"
        f" {percentile(groups, 0.95)} | {statistics.median(groups):g} | — |"
    )
    print()
    print("Where they come from (max / p95 per account per day, by the dedupe key's cause):")
    print()
    by_cause: dict[tuple[str, str], list[int]] = r["by_cause"]  # type: ignore[assignment]
    causes = sorted({c for _, c in by_cause})
    print("| recipient | " + " | ".join(causes) + " |")
    print("| --- |" + " ---: |" * len(causes))
    for role in ROLES:
        cells = [
            f"{max(by_cause[(role, c)], default=0)} / {percentile(by_cause[(role, c)], 0.95)}"
            for c in causes
        ]
        print(f"| {role} | " + " | ".join(cells) + " |")
    print()
    print(
        f"Overdue item-mornings: {r['overdue']:,}; not on any line of that day's messages:"
        f" {r['lost']:,}"
    )


if __name__ == "__main__":
    main()
