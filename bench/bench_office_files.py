"""The office's files at district size (办公文件基准): `/ledger` and `/report 月报`.

Times what the chat commands do inside their event's transaction: the ledger's rows and
its XLSX (``handlers/ledger.py``), and the month's report with its XLSX
(``handlers/period_report.py``), on bench/_seed.py's steady-state district.

    .venv/bin/python bench/bench_office_files.py [--projects 1000] [--backends sqlite]
        [--pg-url ADMIN_URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _seed import TODAY, scratch_database, seed
from bench_tick import services_for

from handlers.ledger import ledger_file, ledger_rows
from handlers.period_report import build_report, period_of, report_xlsx
from storage.uow import UnitOfWork


async def measure(url: str, projects: int, items: int) -> dict[str, float | int]:
    await seed(url, projects=projects, items=items)
    services = services_for(url)
    now = datetime.combine(TODAY, datetime.min.time(), services.timezone).replace(hour=10)
    try:
        t0 = time.perf_counter()
        async with UnitOfWork(services.db) as uow:
            rows = await ledger_rows(uow, services.scheme, services.calendar, now, "zh_CN")
        rows_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        ledger = ledger_file(rows, "xlsx", services.scheme, "zh_CN")
        xlsx_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        async with UnitOfWork(services.db) as uow:
            report = await build_report(
                uow, services, "monthly", period_of("monthly", TODAY), "zh_CN", TODAY
            )
        report_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        data = report_xlsx(report)
        report_xlsx_s = time.perf_counter() - t0
    finally:
        await services.db.dispose()
    return {
        "rows": len(rows),
        "ledger_rows_s": rows_s,
        "ledger_xlsx_s": xlsx_s,
        "ledger_kb": len(ledger) // 1024,
        "report_s": report_s,
        "report_xlsx_s": report_xlsx_s,
        "report_kb": len(data) // 1024,
    }


async def run(args: argparse.Namespace) -> list[tuple[str, dict[str, float | int]]]:
    results = []
    for backend in args.backends.split(","):
        async with scratch_database(backend, args.pg_url) as url:
            r = await measure(url, args.projects, args.projects * args.items_per_project)
        results.append((backend, r))
        print(f"  {backend}: {r}", file=sys.stderr, flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=1_000)
    parser.add_argument("--items-per-project", type=int, default=30)
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--pg-url", default=None, help="PostgreSQL admin URL")
    args = parser.parse_args()
    results = asyncio.run(run(args))
    print()
    print("    " + " ".join(["python", *sys.argv]))
    print()
    print(
        "| backend | projects | ledger rows s | ledger XLSX s (KB) | monthly report s"
        " | report XLSX s (KB) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for backend, r in results:
        print(
            f"| {backend} | {r['rows']:,} | {r['ledger_rows_s']:.2f} | "
            f"{r['ledger_xlsx_s']:.2f} ({r['ledger_kb']}) | {r['report_s']:.2f} | "
            f"{r['report_xlsx_s']:.2f} ({r['report_kb']}) |"
        )


if __name__ == "__main__":
    main()
