"""Inbound events/s at 1, 2 and 4 replicas on PostgreSQL (副本扩展基准).

For each replica count N: a new scratch database `daiban_bench_<random>` on the admin
URL's server, migrated with `daiban db upgrade`; N `daiban run` processes in webhook mode
on it (aiogram, delivery limits off, each on its own web port); the fake Bot API (limits
off) in this process receives their answers. The driver plays Telegram behind a reverse
proxy: it POSTs `/help` updates round-robin to the replicas' webhook endpoints, at most
`--concurrency` requests in flight (Telegram's default `max_connections` is 40), retrying
any non-200 answer as Telegram would. Every user first sends one update (warm-up: person
rows exist, pools are open); then `--updates` more are timed.

- accepted/s: updates ÷ seconds until every POST was answered 200 (handled and recorded);
- answered/s: updates ÷ seconds until the fake received every reply (through each
  replica's outbox worker; any replica may deliver any reply).

The run also checks that every update was answered exactly once, and measures the cores
used by the replicas, PostgreSQL (all its processes), this driver and everything else on
the machine. Goal: 2 replicas answer ≥ 1.6× the rate of one.

What does not depend on the machine's two cores (issue 19): CPU milliseconds per answered
update in the replicas, in PostgreSQL and in total; PostgreSQL lock waits (backends of the
bench database seen waiting on a lock, sampled every `--sample-ms`) and claim conflicts
(outbox rows claimed more than once) per 1,000 updates; and from them the projected
scale-out on a machine with enough cores (bench/README.md, docs/deploy.md).

    .venv/bin/python bench/bench_replicas.py [--replicas 1 2 4] [--updates 1500]
        [--users 150] [--concurrency 40] [--rounds 2] [--admin-url postgresql+asyncpg://…/test]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._procs import (  # noqa: E402
    PG_ADMIN_DEFAULT,
    CpuMeter,
    machine_line,
    median,
    postgres_pids,
    scratch_pg,
    wait_healthy,
)
from tests.fakes.fake_bot_api import FakeBotApi, Limits  # noqa: E402
from tests.transports.conftest import DaibanProcess  # noqa: E402

UNLIMITED = "1000000"
SECRET = "bench-webhook-secret"
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
IDLE_SECONDS = 3.0  # the replicas' idle CPU is measured this long before the burst
SAMPLE_EVERY = 0.01  # seconds between reads of pg_stat_activity (`--sample-ms`)


@dataclass
class Result:
    replicas: int
    updates: int
    accepted_s: float
    answered_s: float
    retries: Counter[int]
    duplicates: int
    missing: int
    cores: dict[str, float]
    transactions: int  # PostgreSQL commits + rollbacks in the bench database while timed
    lock_waits: Counter[str]  # samples of a backend waiting on a lock, by wait event/query
    samples: int  # how many times pg_stat_activity was read
    reclaimed: int  # outbox rows claimed more than once (a claim conflict or a take-over)
    idle_cores: float  # the replicas' CPU while idle (polling, heartbeats, scheduler)

    @property
    def answered_rate(self) -> float:
        return self.updates / self.answered_s

    @property
    def accepted_rate(self) -> float:
        return self.updates / self.accepted_s


class Updates:
    """Telegram updates from a fixed set of private-chat users, with increasing ids."""

    def __init__(self, fake: FakeBotApi, users: int) -> None:
        self.people = [fake.user(7001 + i, f"u{i}", "en") for i in range(users)]
        self.chats = [fake.private_chat(p) for p in self.people]
        self._ids = itertools.count(50_001)
        self._messages = itertools.count(1)

    def text(self, index: int, text: str) -> dict[str, Any]:
        person = self.people[index % len(self.people)]
        message: dict[str, Any] = {
            "message_id": next(self._messages),
            "from": person,
            "chat": self.chats[index % len(self.chats)],
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return {"update_id": next(self._ids), "message": message}


async def post_all(
    urls: list[str], updates: list[dict[str, Any]], concurrency: int
) -> tuple[float, Counter[int]]:
    """POST every update round-robin; seconds until all were accepted, non-200 statuses seen."""
    retries: Counter[int] = Counter()
    work = iter(enumerate(updates))
    headers = {SECRET_HEADER: SECRET}
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=120)

    async def lane(session: aiohttp.ClientSession) -> None:
        for index, update in work:
            url = urls[index % len(urls)]
            for attempt in range(20):
                try:
                    async with session.post(url, json=update, headers=headers) as resp:
                        if resp.status == 200:
                            break
                        retries[resp.status] += 1
                except (aiohttp.ClientError, TimeoutError):
                    retries[0] += 1
                await asyncio.sleep(0.05 * (attempt + 1))
                url = urls[(index + attempt + 1) % len(urls)]  # another replica, as a proxy
            else:
                raise RuntimeError(f"update {update['update_id']} was never accepted")

    started = time.monotonic()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(lane(session) for _ in range(concurrency)))
    return time.monotonic() - started, retries


async def wait_answers(fake: FakeBotApi, count: int, alive: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while len(fake.sent) < count:
        assert alive(), "a replica exited"
        assert time.monotonic() < deadline, f"{len(fake.sent)} of {count} answers after {within}s"
        await asyncio.sleep(0.02)


def _replica(workdir: Path, fake: FakeBotApi, db_url: str, library: str) -> DaibanProcess:
    workdir.mkdir()
    replica = DaibanProcess(
        workdir,
        fake,
        library,
        DAIBAN_DATABASE_URL=db_url,
        DAIBAN_TELEGRAM_MODE="webhook",
        DAIBAN_TELEGRAM_WEBHOOK_SECRET=SECRET,
        DAIBAN_TELEGRAM_RATE_GLOBAL=UNLIMITED,
        DAIBAN_TELEGRAM_RATE_CHAT=UNLIMITED,
        DAIBAN_TELEGRAM_RATE_GROUP=UNLIMITED,
        DAIBAN_LOG_LEVEL="WARNING",
        DAIBAN_TELEGRAM_REQUEST_TIMEOUT="20",  # production defaults, not the e2e suite's
        DAIBAN_OUTBOX_LEASE_SECONDS="120",
    )
    replica.env["DAIBAN_TELEGRAM_WEBHOOK_URL"] = (
        f"http://127.0.0.1:{replica.web_port}{WEBHOOK_PATH}"
    )
    return replica


async def run_replicas(
    admin_url: str, n: int, updates: int, users: int, concurrency: int, library: str
) -> Result:
    fake = FakeBotApi(limits=Limits(None, None, None))
    await fake.start()
    replicas: list[DaibanProcess] = []
    try:
        async with scratch_pg(admin_url) as db_url:
            with tempfile.TemporaryDirectory() as tmp:
                replicas = [_replica(Path(tmp) / f"r{i}", fake, db_url, library) for i in range(n)]
                replicas[0].upgrade()
                for replica in replicas:
                    replica.start()
                try:
                    for replica in replicas:
                        await wait_healthy(replica.web_port, replica.alive)
                    return await _measure(
                        fake, replicas, updates, users, concurrency, admin_url, db_url
                    )
                except BaseException:
                    for replica in replicas:
                        tail = replica.output()[-3000:]
                        if tail.strip():
                            print(
                                f"--- replica log {replica.workdir.name}:\n{tail}", file=sys.stderr
                            )
                    raise
                finally:
                    for replica in replicas:
                        replica.stop()
    finally:
        await fake.stop()


async def transactions(admin_url: str, db_url: str) -> int:
    """Commits + rollbacks PostgreSQL has counted for the database of `db_url`."""
    engine = create_async_engine(admin_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            row = await conn.execute(
                text(
                    "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = :name"
                ),
                {"name": make_url(db_url).database},
            )
            return int(row.scalar_one())
    finally:
        await engine.dispose()


LOCK_WAITS = text(
    "SELECT wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 40) "
    "FROM pg_stat_activity WHERE datname = :name AND wait_event_type = 'Lock'"
)


async def sample_lock_waits(
    admin_url: str, db_url: str, every: float, stop: asyncio.Event
) -> tuple[Counter[str], int]:
    """Backends of the bench database waiting on a lock, sampled until `stop`."""
    seen: Counter[str] = Counter()
    samples = 0
    engine = create_async_engine(admin_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            name = {"name": make_url(db_url).database}
            while not stop.is_set():
                for event, query in await conn.execute(LOCK_WAITS, name):
                    seen[f"{event}: {query}"] += 1
                samples += 1
                await conn.commit()  # a fresh snapshot of the statistics
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), every)
    finally:
        await engine.dispose()
    return seen, samples


async def reclaimed_rows(db_url: str) -> int:
    """Outbox rows claimed more than once (every claim adds one attempt)."""
    engine = create_async_engine(db_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            row = await conn.execute(text("SELECT count(*) FROM outbox WHERE attempts > 1"))
            return int(row.scalar_one())
    finally:
        await engine.dispose()


async def _measure(
    fake: FakeBotApi,
    replicas: list[DaibanProcess],
    updates: int,
    users: int,
    concurrency: int,
    admin_url: str,
    db_url: str,
) -> Result:
    def alive() -> bool:
        return all(r.alive() for r in replicas)

    urls = [f"http://127.0.0.1:{r.web_port}{WEBHOOK_PATH}" for r in replicas]
    source = Updates(fake, users)
    # Warm-up: every user once (person rows, pools, imports), not timed.
    await post_all(urls, [source.text(i, "/help") for i in range(users)], concurrency)
    await wait_answers(fake, users, alive, within=300)
    await asyncio.sleep(1.5)  # backends report their statistics about once a second
    xacts_before = await transactions(admin_url, db_url)
    fake.sent.clear()
    fake.calls.clear()

    batch = [source.text(i, "/help") for i in range(updates)]
    idle = CpuMeter({"replicas": lambda: [r.proc.pid for r in replicas if r.proc is not None]})
    idle.start()
    await asyncio.sleep(IDLE_SECONDS)
    idle_cores = idle.stop()["replicas"]
    meter = CpuMeter(
        {
            "replicas": lambda: [r.proc.pid for r in replicas if r.proc is not None],
            "postgres": postgres_pids,
            "driver": lambda: [os.getpid()],
        }
    )
    stop_sampling = asyncio.Event()
    sampling = asyncio.create_task(
        sample_lock_waits(admin_url, db_url, SAMPLE_EVERY, stop_sampling)
    )
    meter.start()
    started = time.monotonic()
    accepted_s, retries = await post_all(urls, batch, concurrency)
    await wait_answers(fake, updates, alive, within=600)
    answered_s = max(s.at for s in fake.sent) - started
    cores = meter.stop()
    stop_sampling.set()
    lock_waits, samples = await sampling
    await asyncio.sleep(1.5)  # anything sent twice would arrive now; statistics flushed
    xacts = await transactions(admin_url, db_url) - xacts_before
    per_chat = Counter(s.chat_id for s in fake.sent)
    expected = Counter(source.chats[i % users]["id"] for i in range(updates))
    duplicates = sum(max(0, per_chat[c] - expected[c]) for c in per_chat)
    missing = sum(max(0, expected[c] - per_chat[c]) for c in expected)
    return Result(
        len(replicas), updates, accepted_s, answered_s, retries, duplicates, missing, cores,
        xacts, lock_waits, samples, await reclaimed_rows(db_url), idle_cores,
    )  # fmt: skip


def table(rounds: dict[int, list[Result]]) -> list[str]:
    """One row per replica count: its best round (the least disturbed), all rounds listed."""
    best = {n: max(rs, key=lambda r: r.answered_rate) for n, rs in rounds.items()}
    base = best[min(best)].answered_rate
    lines = [
        "| replicas | answered/s (best) | × fewest | every round | accepted/s | cores: replicas "
        "| PostgreSQL | driver + fake | other | machine busy (of 2) | CPU ms / update: replicas "
        "| PostgreSQL | driver | PG xacts / update | retried | dup / missing |",
        "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: | ---: | --- |",
    ]
    for n, r in best.items():
        c = r.cores
        every = ", ".join(f"{x.answered_rate:.0f}" for x in rounds[n])
        retried = sum(sum(x.retries.values()) for x in rounds[n])
        dup = sum(x.duplicates for x in rounds[n])
        missing = sum(x.missing for x in rounds[n])
        ms = {g: c[g] * c["wall"] / r.updates * 1000 for g in ("replicas", "postgres", "driver")}
        lines.append(
            f"| {n} | {r.answered_rate:.1f} | {r.answered_rate / base:.2f}× | {every} "
            f"| {r.accepted_rate:.1f} | {c['replicas']:.2f} | {c['postgres']:.2f} "
            f"| {c['driver']:.2f} | {c['other']:.2f} | {c['machine']:.2f} "
            f"| {ms['replicas']:.1f} | {ms['postgres']:.1f} | {ms['driver']:.1f} "
            f"| {r.transactions / r.updates:.2f} | {retried} "
            f"| {dup} / {missing} |"
        )
    return lines


def cpu_table(rounds: dict[int, list[Result]]) -> list[str]:
    """What does not depend on the core count, per replica count (medians of the rounds)."""
    lines = [
        "| replicas | CPU ms / update: replicas | PostgreSQL | total (replicas + PG) "
        "| × at 1 replica (replicas) | replicas net of idle | × at 1 replica (net) "
        "| PG lock-wait samples / 1,000 updates "
        "| claim conflicts / 1,000 updates | PG xacts / update |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    per: dict[int, tuple[float, float]] = {}
    net: dict[int, float] = {}
    for n, rs in rounds.items():
        def ms(r: Result, group: str) -> float:
            return r.cores[group] * r.cores["wall"] / r.updates * 1000

        per[n] = (
            median(ms(r, "replicas") for r in rs),
            median(ms(r, "postgres") for r in rs),
        )
        net[n] = median(
            (r.cores["replicas"] - r.idle_cores) * r.cores["wall"] / r.updates * 1000 for r in rs
        )
    base = per[min(per)][0]
    net_base = net[min(net)]
    for n, rs in rounds.items():
        replicas, pg = per[n]
        waits = median(sum(r.lock_waits.values()) / r.updates * 1000 for r in rs)
        conflicts = median(r.reclaimed / r.updates * 1000 for r in rs)
        xacts = median(r.transactions / r.updates for r in rs)
        lines.append(
            f"| {n} | {replicas:.1f} | {pg:.1f} | {replicas + pg:.1f} | {replicas / base:.2f}× "
            f"| {net[n]:.1f} | {net[n] / net_base:.2f}× "
            f"| {waits:.1f} | {conflicts:.1f} | {xacts:.2f} |"
        )
    seen: Counter[str] = Counter()
    for rs in rounds.values():
        for r in rs:
            seen.update(r.lock_waits)
    if seen:
        lines.append("")
        lines.append("Lock waits seen (samples): " + "; ".join(
            f"{what} ×{n}" for what, n in seen.most_common(6)
        ))  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--updates", type=int, default=1500)
    parser.add_argument("--users", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--library", choices=["aiogram", "ptb"], default="aiogram")
    parser.add_argument("--sample-ms", type=float, default=10.0, help="lock-wait sampling")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("DAIBAN_TEST_POSTGRES_URL", PG_ADMIN_DEFAULT),
        help="an admin URL on the PostgreSQL server (the scratch databases go next to it)",
    )
    args = parser.parse_args()
    global SAMPLE_EVERY
    SAMPLE_EVERY = args.sample_ms / 1000
    print(machine_line(with_postgres=True))
    rounds: dict[int, list[Result]] = {n: [] for n in args.replicas}
    for round_no in range(args.rounds):
        for n in args.replicas:  # interleaved, so a neighbour's burst hits one round
            result = asyncio.run(
                run_replicas(
                    args.admin_url, n, args.updates, args.users, args.concurrency, args.library
                )
            )
            print(
                f"  round {round_no + 1}, {n} replica(s): {result.answered_rate:.1f} answered/s,"
                f" other load {result.cores['other']:.2f} cores",
                file=sys.stderr,
            )
            rounds[n].append(result)
    print(f"load average after: {machine_line().split('load average ')[1]}")
    print("$ .venv/bin/python bench/bench_replicas.py " + " ".join(sys.argv[1:]))
    print()
    print("\n".join(table(rounds)))
    print()
    print("\n".join(cpu_table(rounds)))
    if rounds.get(1) and rounds.get(2):
        one = max(r.answered_rate for r in rounds[1])
        two = max(r.answered_rate for r in rounds[2])
        verdict = "met" if two / one >= 1.6 else "not met"
        print(f"\n2 replicas ÷ 1 replica = {two / one:.2f}× (goal ≥ 1.6×): {verdict}")


if __name__ == "__main__":
    main()
