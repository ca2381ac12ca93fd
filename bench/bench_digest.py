"""Digest generation for 10,000 projects and 100 leaders (领导简报基准), SQLite and PostgreSQL.

Times the real digest job, ``reminders.digest.send_digests`` at the scheme's digest time:
claim the day's slot, build the digest and write one outbox row per leader, in one
transaction. The data is bench/_seed.py's steady-state district (30 items per project by
default: problems on the ladder, overdue items, yesterday's nudges and completions,
yesterday's applications and acceptances). Each run is the digest of the next working
day, so every run claims a fresh slot. Also timed: ``build_digest`` alone, once (what
``/digest`` shows a leader).

    .venv/bin/python bench/bench_digest.py [--projects 10000] [--leaders 100]
        [--backends sqlite,postgresql] [--pg-url ADMIN_URL] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _seed import TODAY, local, scratch_database, seed
from bench_tick import outbox_rows, services_for

from handlers.digest import build_digest
from reminders.digest import send_digests
from storage.uow import UnitOfWork


async def measure(
    url: str, projects: int, items: int, leaders: int, runs: int
) -> dict[str, object]:
    t0 = time.perf_counter()
    seeded = await seed(url, projects=projects, items=items, leaders=leaders)
    built = time.perf_counter() - t0
    services = services_for(url)
    try:
        t0 = time.perf_counter()
        async with UnitOfWork(services.db) as uow:
            preview = await build_digest(uow, services, TODAY, "zh_CN")
        one = time.perf_counter() - t0
        secs, cpu, written = [], [], []
        day = TODAY
        for _ in range(runs):
            before = await outbox_rows(services.db)
            at = local(day, services.scheme.reports.digest_time)
            t0, c0 = time.perf_counter(), time.process_time()
            sent = await send_digests(services, at)
            secs.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            assert sent, f"the digest of {day} did not run"
            written.append(await outbox_rows(services.db) - before)
            day = services.calendar.add_workdays(day, 1)
    finally:
        await services.db.dispose()
    return {
        "built": built,
        "one": one,
        "lines": preview.text.count("\n") + 1,
        "secs": secs,
        "cpu": cpu,
        "written": written,
        "problems": seeded.counts.get("problems", 0),
    }


async def run(args: argparse.Namespace) -> list[tuple[str, dict[str, object]]]:
    results = []
    for backend in args.backends.split(","):
        async with scratch_database(backend, args.pg_url) as url:
            r = await measure(
                url, args.projects, args.projects * args.items_per_project, args.leaders, args.runs
            )
        results.append((backend, r))
        print(f"  {backend}: {r}", file=sys.stderr, flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--items-per-project", type=int, default=30)
    parser.add_argument("--leaders", type=int, default=100)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=None, help="PostgreSQL admin URL")
    parser.add_argument("--runs", type=int, default=3, help="digest days (one slot each)")
    args = parser.parse_args()
    results = asyncio.run(run(args))
    print()
    print("    " + " ".join(["python", *sys.argv]))
    print()
    print(
        "| backend | projects | items | leaders | open problems | one digest s (lines)"
        " | digest job s, best (all runs) | bot process CPU s, best | outbox rows per run |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for backend, r in results:
        secs = r["secs"]
        assert isinstance(secs, list)
        print(
            f"| {backend} | {args.projects:,} | {args.projects * args.items_per_project:,}"
            f" | {args.leaders} | {r['problems']:,} | {r['one']:.3f} ({r['lines']})"
            f" | {min(secs):.3f} ({', '.join(f'{s:.2f}' for s in secs)})"
            f" | {min(r['cpu']):.3f} | {', '.join(str(n) for n in r['written'])} |"  # type: ignore[attr-defined]
        )


if __name__ == "__main__":
    main()
