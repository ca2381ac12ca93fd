"""Scheduler tick latency at 10k / 100k / 1M items (定时扫描基准), SQLite and PostgreSQL.

The scheduler's ``tick`` job (reminders/jobs.py) fires every ``tick_seconds``. Most ticks
are *idle*: stalled forms, open tickets, the report/rating/digest slots and the day's
round are each one small query or one ``job_runs`` claim that is already taken; nothing
there reads checklist items. Once per working day, the first tick at or after the
scheme's ``nudge_time`` is the *round tick*: it claims the day's round and runs it
(reminders/schedule.py ``daily_round``): the indexed scan of items due by the horizon,
the pure decisions, and then one nudge per due item and the ladder (problems opened,
raised, climbed), all written to the outbox in one transaction.

Rows of the table, per backend and size (data: bench/_seed.py, a steady-state district,
30 items per project by default, "today" a Tuesday):

- *scan*: ``DueRepo.running_due_by`` alone;
- *scan + decide*: plus ``decide_nudges`` and each overdue item's ladder rung (no writes);
- *round tick*: the real ``tick(services, 09:31)`` that runs the day's round, with what it
  wrote (outbox rows); the digest slot is claimed beforehand as if 08:30 had passed;
- *idle tick*: the real ``tick`` at the following minutes (median of ``--idle`` ticks).

    .venv/bin/python bench/bench_tick.py [--sizes 10000,100000,1000000]
        [--backends sqlite,postgresql] [--pg-url ADMIN_URL] [--runs 3] [--idle 5]
        [--round-max 100000]

The round tick is timed only up to ``--round-max`` items (it writes every nudge and
notice of the day, minutes of work at a million items); above it the round's claim is
taken as if it had run, and only the scan and the idle ticks are timed.

PostgreSQL: a scratch database ``daiban_bench_<random>`` is created next to the admin URL
(``--pg-url``, else ``DAIBAN_TEST_POSTGRES_URL``, else the local ``test`` database),
migrated, and dropped at the end. SQLite: a file in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _seed import TODAY, TZ, local, scratch_database, seed
from sqlalchemy import func, select

from domain.calendar import WorkCalendar
from domain.scheme_loader import load_scheme
from handlers.app_router import build_router
from handlers.context import Services
from reminders.digest import DIGEST_JOB
from reminders.jobs import tick
from reminders.ladder import project_ladders
from reminders.nudges import decide_nudges
from reminders.schedule import ROUND_JOB
from storage.db import Database
from storage.models import OutboxMessage
from storage.uow import UnitOfWork


def services_for(url: str) -> Services:
    scheme = load_scheme("tongzhou")
    clock = SimpleNamespace(now=lambda: local(TODAY, scheme.reminders.nudge_time))
    return Services(
        db=Database(url),
        scheme=scheme,
        calendar=WorkCalendar(),
        clock=clock,  # type: ignore[arg-type]
        router=build_router(),
        timezone=ZoneInfo(str(TZ)),
    )


async def scan_and_decide(services: Services, today: date) -> tuple[float, float, int, int]:
    """Seconds for the scan, for scan + decisions; rows scanned, decisions made."""
    calendar, scheme = services.calendar, services.scheme
    horizon = calendar.add_workdays(today, scheme.reminders.before_due_workdays)
    t0 = time.perf_counter()
    async with UnitOfWork(services.db) as uow:
        due = await uow.due.running_due_by(horizon)
        t1 = time.perf_counter()
        nudges = decide_nudges(due, today, calendar, scheme.reminders)
        overdue = [i for i in due if i.due_on < today]
        ladders = await project_ladders(uow, services, sorted({i.project_id for i in overdue}))
        late: dict[date, int] = {}
        rungs = 0
        for i in overdue:
            if i.due_on not in late:
                late[i.due_on] = calendar.workdays_between(i.due_on, today)
            rungs += ladders[i.project_id].rung_for_overdue(late[i.due_on]) is not None
    t2 = time.perf_counter()
    return t1 - t0, t2 - t0, len(due), len(nudges) + rungs


async def outbox_rows(db: Database) -> int:
    async with UnitOfWork(db) as uow:
        return int((await uow.session.execute(select(func.count(OutboxMessage.id)))).scalar_one())


async def timed_tick(services: Services, at: datetime) -> float:
    t0 = time.perf_counter()
    await tick(services, at)
    return time.perf_counter() - t0


async def measure(
    url: str, items: int, projects: int, runs: int, idle: int, round_max: int
) -> dict[str, object]:
    t0 = time.perf_counter()
    await seed(url, projects=projects, items=items)
    built = time.perf_counter() - t0
    services = services_for(url)
    try:
        scans, decides = [], []
        rows = decisions = 0
        for _ in range(runs):
            scan, decide, rows, decisions = await scan_and_decide(services, TODAY)
            scans.append(scan)
            decides.append(decide)
        # 08:30 has passed: the digest went out (bench_digest.py times that job).
        yesterday = services.calendar.add_workdays(TODAY, -1)
        async with UnitOfWork(services.db) as uow:
            for day in (yesterday, TODAY):
                await uow.jobs.claim(
                    DIGEST_JOB, day.isoformat(), local(day, services.scheme.reports.digest_time)
                )
        before = await outbox_rows(services.db)
        round_at = local(TODAY, services.scheme.reminders.nudge_time) + timedelta(minutes=1)
        round_secs = written = None
        if items <= round_max:
            round_secs = await timed_tick(services, round_at)
            written = await outbox_rows(services.db) - before
        else:  # the round's claim is taken as if it had run: the next ticks are idle ones
            async with UnitOfWork(services.db) as uow:
                await uow.jobs.claim(ROUND_JOB, TODAY.isoformat(), round_at)
        idles = [
            await timed_tick(services, round_at + timedelta(minutes=m)) for m in range(1, idle + 1)
        ]
        written_idle = await outbox_rows(services.db) - before - (written or 0)
    finally:
        await services.db.dispose()
    return {
        "built": built,
        "scan": min(scans),
        "decide": min(decides),
        "rows": rows,
        "decisions": decisions,
        "round": round_secs,
        "written": written,
        "idle": statistics.median(idles),
        "idle_max": max(idles),
        "written_idle": written_idle,
    }


async def run(args: argparse.Namespace) -> list[tuple[str, int, int, dict[str, object]]]:
    results = []
    for backend in args.backends.split(","):
        for items in (int(s) for s in args.sizes.split(",")):
            projects = max(1, items // args.items_per_project)
            async with scratch_database(backend, args.pg_url) as url:
                r = await measure(url, items, projects, args.runs, args.idle, args.round_max)
            results.append((backend, items, projects, r))
            print(f"  {backend} {items:,} items: {r}", file=sys.stderr, flush=True)
    return results


def round_cell(r: dict[str, object]) -> str:
    if r["round"] is None:
        return "not run"
    return f"{r['round']:.2f} ({r['written']:,})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--items-per-project", type=int, default=30)
    parser.add_argument("--pg-url", default=None, help="PostgreSQL admin URL")
    parser.add_argument("--runs", type=int, default=3, help="scan repetitions (best shown)")
    parser.add_argument("--idle", type=int, default=5, help="idle ticks after the round")
    parser.add_argument(
        "--round-max", type=int, default=100_000, help="time the round tick up to this size"
    )
    args = parser.parse_args()
    results = asyncio.run(run(args))
    print()
    print("    " + " ".join(["python", *sys.argv]))
    print()
    print(
        "| backend | items | projects | seed s | scan s (rows) | scan + decide s (decisions)"
        " | round tick s (outbox rows) | idle tick s, median (max) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for backend, items, projects, r in results:
        print(
            f"| {backend} | {items:,} | {projects:,} | {r['built']:.1f}"
            f" | {r['scan']:.3f} ({r['rows']:,}) | {r['decide']:.3f} ({r['decisions']:,})"
            f" | {round_cell(r)} | {r['idle']:.3f} ({r['idle_max']:.3f}) |"
        )


if __name__ == "__main__":
    main()
