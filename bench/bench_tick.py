"""How long one tick takes to decide what is due (到期扫描基准).

Builds a SQLite database with N projects and M checklist items (due dates spread over a
year around "today", a tenth of them done, a twentieth paused for 补正), then times the
indexed scan `DueRepo.running_due_by` plus the pure decisions (`decide_nudges`, the ladder
rung per overdue item). Nothing is sent. Not a test: it prints a table.

    .venv/bin/python bench/bench_tick.py [--projects 10000] [--items 300000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain.application import project_snapshot
from domain.calendar import WorkCalendar
from domain.scheme_loader import load_scheme
from handlers.problems import rung_for_overdue
from reminders.ladder import project_ladders
from reminders.nudges import decide_nudges
from storage.db import Database
from storage.migrate import upgrade
from storage.uow import UnitOfWork

TODAY = date(2026, 10, 12)


def populate(path: Path, projects: int, items: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    scheme = load_scheme("tongzhou")
    import json

    snap = json.dumps(project_snapshot(scheme, "building"), ensure_ascii=False)
    con = sqlite3.connect(path)
    con.executemany(
        "INSERT INTO projects (id, code, name, category, stage, status, snapshot, created_at)"
        " VALUES (?, ?, ?, 'building', 'planning_permit', 'accepted', ?, '2026-01-01 00:00:00')",
        ((i, f"B-{i:06d}", f"项目{i}", snap) for i in range(1, projects + 1)),
    )
    rows = []
    for n in range(1, items + 1):
        due = TODAY + timedelta(days=rng.randint(-60, 300))
        roll = rng.random()
        state = "done" if roll < 0.10 else "correction_needed" if roll < 0.15 else "in_review"
        paused = due.isoformat() if state == "correction_needed" else None
        rows.append(
            (
                n,
                rng.randint(1, projects),
                f"item{n % 30}",
                "事项",
                "item",
                "planning_permit",
                10,
                "[]",
                state,
                due.isoformat(),
                paused,
                0,
                0,
                0,
                0,
            )
        )
    con.executemany(
        "INSERT INTO checklist_items (id, project_id, code, name_zh, name_en, stage,"
        " limit_workdays, prerequisites, state, due_on, paused_on, due_provisional,"
        " paused_workdays, sort, corrections) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    con.commit()
    con.close()


async def measure(url: str, runs: int) -> list[tuple[str, float, int]]:
    scheme = load_scheme("tongzhou")
    calendar = WorkCalendar()
    db = Database(url)
    services = SimpleNamespace(scheme=scheme)
    results: list[tuple[str, float, int]] = []
    horizon = calendar.add_workdays(TODAY, scheme.reminders.before_due_workdays)
    for run in range(runs):
        t0 = time.perf_counter()
        async with UnitOfWork(db) as uow:
            due = await uow.due.running_due_by(horizon)
            t1 = time.perf_counter()
            nudges = decide_nudges(due, TODAY, calendar, scheme.reminders)
            overdue = [i for i in due if i.due_on < TODAY]
            ladders = await project_ladders(uow, services, sorted({i.project_id for i in overdue}))
            late: dict[date, int] = {}
            rungs = 0
            for i in overdue:
                if i.due_on not in late:
                    late[i.due_on] = calendar.workdays_between(i.due_on, TODAY)
                rungs += rung_for_overdue(ladders[i.project_id], late[i.due_on]) is not None
        t2 = time.perf_counter()
        results.append((f"run {run + 1}: scan", t1 - t0, len(due)))
        results.append((f"run {run + 1}: scan + decide", t2 - t0, len(nudges) + rungs))
    await db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        asyncio.run(upgrade(url))
        t0 = time.perf_counter()
        populate(path, args.projects, args.items)
        print(
            f"built {args.projects} projects, {args.items} items in {time.perf_counter() - t0:.1f}s"
        )
        rows = asyncio.run(measure(url, args.runs))
    print(f"{'step':<26} {'seconds':>8} {'rows/decisions':>15}")
    for name, secs, n in rows:
        print(f"{name:<26} {secs:>8.3f} {n:>15}")
    best = min(s for name, s, _ in rows if "decide" in name)
    print(f"best full decision: {best:.3f}s (today {TODAY}, SQLite, one process)")


if __name__ == "__main__":
    main()
