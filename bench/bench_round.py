"""The daily round under load (每日巡检基准): how long it runs, and how long people wait for an
answer while it does, at 10k / 100k items on SQLite and PostgreSQL.

A steady-state district (bench/_seed.py) is seeded into a scratch database; `daiban run`
serves it against the fake Telegram Bot API (Telegram's limits) in a time zone where it is
night, so that its own scheduler stays quiet. Known users send `/help` at a steady rate
(`--rate` a second, each user at most once every two seconds). Meanwhile the day's round
runs through its public entry, `daiban jobs run tick --at <the nudge time + 1 min>` (the
`tick` of reminders/jobs.py, whatever the round does inside), as a separate process.

Reported per backend and size: the round's process time (and net of a process that only
starts and runs an idle tick), the outbox rows it wrote, and the answer latency of the
messages sent while the round ran (p50, p99, max), with the latency of the same stream
before the round as the baseline.

    .venv/bin/python bench/bench_round.py [--sizes 10000,100000]
        [--backends sqlite,postgresql] [--rate 10] [--users 40] [--pg-url ADMIN_URL]

The machine is shared: keep to one run of each size and compare rows of one table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _seed import TODAY, local, scratch_database, seed  # noqa: E402
from sqlalchemy import text  # noqa: E402

from domain.scheme_loader import load_scheme  # noqa: E402
from reminders.digest import DIGEST_JOB  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.uow import UnitOfWork  # noqa: E402
from tests.fakes.fake_bot_api import FakeBotApi, Limits, Sent  # noqa: E402
from tests.faults.harness import base_env, night_timezone  # noqa: E402
from tests.transports.conftest import DaibanProcess, wait_until_polling  # noqa: E402

FIRST_USER = 9_000_000
BASELINE_SECONDS = 5.0


class Stream:
    """`/help` from `users` known users at `rate` a second; each answer's latency."""

    def __init__(self, fake: FakeBotApi, users: int, rate: float) -> None:
        self.fake = fake
        self.people = [fake.user(FIRST_USER + n, f"用户{n}", "zh-hans") for n in range(users)]
        self.rate = rate
        self.pushed: dict[int, list[float]] = {p["id"]: [] for p in self.people}
        self.answered: dict[int, int] = {p["id"]: 0 for p in self.people}
        self.latencies: list[tuple[float, float]] = []  # (pushed at, seconds to answer)
        fake.on_sent.append(self._on_sent)
        self._stop = asyncio.Event()

    def _on_sent(self, sent: Sent) -> None:
        pushed = self.pushed.get(sent.chat_id)
        if pushed is None:
            return
        n = self.answered[sent.chat_id]
        if n < len(pushed):
            self.answered[sent.chat_id] = n + 1
            self.latencies.append((pushed[n], sent.at - pushed[n]))

    async def run(self) -> None:
        n = 0
        start = time.monotonic()
        while not self._stop.is_set():
            person = self.people[n % len(self.people)]
            self.pushed[person["id"]].append(time.monotonic())
            await self.fake.push_text(person, "/help")
            n += 1
            await asyncio.sleep(max(0.0, start + n / self.rate - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()

    def unanswered(self) -> int:
        return sum(len(p) for p in self.pushed.values()) - len(self.latencies)

    def between(self, start: float, end: float) -> list[float]:
        return sorted(s for at, s in self.latencies if start <= at <= end)


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))] if values else float("nan")


async def register_chats(fake: FakeBotApi, url: str) -> None:
    """The seeded people's and groups' chats exist in the fake (nudges find them)."""
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            ids = [
                int(r[0])
                for r in await conn.execute(
                    text("SELECT external_id FROM accounts UNION SELECT external_id FROM chats")
                )
            ]
    finally:
        await db.dispose()
    for chat_id in ids:
        if chat_id < 0:
            fake.group_chat(chat_id, f"群{chat_id}")
        else:
            fake.private_chat(fake.user(chat_id, f"人{chat_id}"))


async def skip_digest(url: str) -> None:
    """08:30 has passed: the digest went out (bench_digest.py times that job)."""
    scheme = load_scheme("tongzhou")
    db = Database(url)
    try:
        async with UnitOfWork(db) as uow:
            await uow.jobs.claim(
                DIGEST_JOB, TODAY.isoformat(), local(TODAY, scheme.reports.digest_time)
            )
    finally:
        await db.dispose()


async def job(url: str, at: datetime, log: Path) -> float:
    """`daiban jobs run tick --at AT` as its own process; its wall seconds."""
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "jobs", "run", "tick", "--at", at.isoformat(),
        env=base_env(url),
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await proc.communicate()  # the fake and the stream keep running meanwhile
    took = time.monotonic() - started
    await asyncio.to_thread(log.write_bytes, output)
    assert proc.returncode == 0, output.decode(errors="replace")[-2000:]
    return took


async def outbox_states(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            rows = await conn.execute(text("SELECT status, count(*) FROM outbox GROUP BY 1"))
            return {str(status): int(n) for status, n in rows}
    finally:
        await db.dispose()


async def outbox_count(url: str) -> int:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one())
    finally:
        await db.dispose()


async def measure(backend: str, items: int, args: argparse.Namespace) -> dict[str, object]:
    async with scratch_database(backend, args.pg_url) as url:
        seeded = time.monotonic()
        await seed(url, projects=max(1, items // 30), items=items)
        seeded = time.monotonic() - seeded
        await skip_digest(url)
        fake = FakeBotApi(limits=Limits())
        await fake.start()
        await register_chats(fake, url)
        workdir = Path(args.scratch) / f"{backend}-{items}"
        workdir.mkdir(parents=True, exist_ok=True)
        daiban = DaibanProcess(
            workdir,
            fake,
            "aiogram",
            DAIBAN_DATABASE_URL=url,
            DAIBAN_TIMEZONE=night_timezone(),
            DAIBAN_OUTBOX_LEASE_SECONDS="120",
            DAIBAN_LOG_LEVEL="WARNING",
        )
        stream = Stream(fake, args.users, args.rate)
        try:
            daiban.start()
            await wait_until_polling(fake, daiban)
            for person in stream.people:  # known users: their first contact is not timed
                await fake.push_text(person, "/start")
            await fake.wait_for(
                lambda: sum(1 for s in fake.sent if s.chat_id >= FIRST_USER) >= args.users, 60
            )
            flowing = asyncio.create_task(stream.run())
            await asyncio.sleep(BASELINE_SECONDS)
            before = await outbox_count(url)
            round_at = local(TODAY, load_scheme("tongzhou").reminders.nudge_time)
            start = time.monotonic()
            took = await job(url, round_at + timedelta(minutes=1), workdir / "round.log")
            end = time.monotonic()
            written = await outbox_count(url) - before
            idle = await job(url, round_at + timedelta(minutes=2), workdir / "idle.log")
            stream.stop()
            await flowing
            with contextlib.suppress(AssertionError):  # reported below, not a crash
                await fake.wait_for(lambda: stream.unanswered() == 0, within=args.drain)
            late = stream.unanswered()
            states = await outbox_states(url)
        finally:
            stream.stop()
            daiban.stop()
            await fake.stop()
    during = stream.between(start, end)
    baseline = stream.between(start - BASELINE_SECONDS, start)
    return {
        "seed": seeded,
        "round": took,
        "net": took - idle,
        "written": written,
        "n": len(during),
        "p50": percentile(during, 0.5),
        "p99": percentile(during, 0.99),
        "max": max(during, default=float("nan")),
        "late": late,
        "states": states,
        "base_p50": percentile(baseline, 0.5),
        "base_max": max(baseline, default=float("nan")),
    }


async def run(args: argparse.Namespace) -> list[tuple[str, int, dict[str, object]]]:
    results = []
    for backend in args.backends.split(","):
        for items in (int(s) for s in args.sizes.split(",")):
            r = await measure(backend, items, args)
            results.append((backend, items, r))
            print(f"  {backend} {items:,}: {r}", file=sys.stderr, flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rate", type=float, default=10.0, help="user messages a second")
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument(
        "--drain", type=float, default=180, help="seconds to wait for the last answers"
    )
    parser.add_argument("--pg-url", default=None, help="PostgreSQL admin URL")
    parser.add_argument("--keep", default=None, help="keep the processes' logs in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        args.scratch = args.keep or scratch
        results = asyncio.run(run(args))
    print()
    print("    " + " ".join(["python", *sys.argv]))
    print()
    print(
        "| backend | items | round process s (net of an idle tick) | outbox rows written "
        "| answers during the round | p50 s | p99 s | max s | before the round: p50 (max) s "
        "| unanswered after the drain |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for backend, items, r in results:
        print(
            f"| {backend} | {items:,} | {r['round']:.1f} ({r['net']:.1f}) | {r['written']:,} "
            f"| {r['n']} | {r['p50']:.2f} | {r['p99']:.2f} | {r['max']:.2f} "
            f"| {r['base_p50']:.2f} ({r['base_max']:.2f}) | {r['late']} |"
        )


if __name__ == "__main__":
    main()
