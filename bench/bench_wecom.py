"""WeCom delivery with 2 replicas on PostgreSQL (企业微信多副本投递基准), issue 16.

A scratch database `daiban_bench_<random>` on the admin URL's server, migrated; the fake
WeCom of `tests/fakes/fake_wecom.py` in this process, which drops over-limit messages
silently as WeCom does; `--replicas` delivery workers, each with its own engine (its own
connection pool) and its own WeCom transport whose limits, token and progress live in the
shared database (`StoreState`), as `daiban run` wires them. `--messages` outbox rows for
`--members` members (round-robin) are queued, then the workers run until the fake has
received (or dropped) every one.

WeCom's minute is shortened to `--minute` seconds for the fake and the transports alike,
so that a run takes seconds. Two limits are measured:

- `30`: WeCom's own, 30 a minute per member; 1,000 messages to 50 members is 20 each, so
  nothing waits on the limit: this row shows the sending rate and that nothing is lost;
- `--paced` (default 5): a member's limit well below their share, so every member's
  messages are paced over several windows: the row shows how close the replicas together
  keep to the limit. "% of limit": the messages after each member's first window
  (N − L), divided by the time from that member's first to last delivery, against the
  limit L per window; averaged over the members (100 % = exactly at the limit).

Violations are messages the fake received over a limit (dropped: they never arrive),
lost are rows that never reached the fake, duplicates are texts delivered twice.

    .venv/bin/python bench/bench_wecom.py [--replicas 2] [--messages 1000] [--members 50]
        [--minute 60] [--paced 5] [--admin-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from bench._procs import PG_ADMIN_DEFAULT, machine_line, scratch_pg  # noqa: E402
from bot.app import SystemClock  # noqa: E402
from bot.outbox import DeliveryWorker  # noqa: E402
from bot.transports.wecom_client import WeComApi  # noqa: E402
from bot.transports.wecom_state import StoreState  # noqa: E402
from bot.transports.wecom_transport import WeComTransport  # noqa: E402
from handlers.chat import Outgoing  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.uow import UnitOfWork  # noqa: E402
from tests.fakes.fake_wecom import AGENT_ID, CORP_ID, SECRET, FakeWeCom  # noqa: E402


@dataclass
class Result:
    limit: int
    messages: int
    seconds: float
    delivered: int
    violations: int
    lost: int
    duplicates: int
    pace: float | None  # fraction of the limit kept while paced (None: never paced)
    per_replica: dict[str, int]  # rows sent, by the worker that sent them


async def _lang(_userid: str) -> str:
    return "zh_CN"


async def run_once(
    admin_url: str, replicas: int, messages: int, members: int, limit: int, minute: float
) -> Result:
    fake = FakeWeCom(member_per_minute=limit, minute=minute)
    await fake.start()
    try:
        async with scratch_pg(admin_url) as url:
            await upgrade(url)
            dbs = [Database(url) for _ in range(replicas)]
            apis, workers = [], []
            for db in dbs:
                state = StoreState(db)
                api = WeComApi(fake.url, CORP_ID, SECRET, AGENT_ID, tokens=state)
                transport = WeComTransport(
                    api,
                    robot_keys={},
                    lang_of=_lang,
                    default_lang="zh_CN",
                    member_per_minute=limit,
                    state=state,
                    minute=minute,
                )
                apis.append(api)
                workers.append(
                    DeliveryWorker(
                        db, {"wecom": transport}, SystemClock(), lease=timedelta(seconds=60)
                    )
                )
            now = datetime.now(UTC)
            async with UnitOfWork(dbs[0]) as uow:
                for n in range(messages):
                    await uow.outbox.enqueue(
                        platform="wecom",
                        chat_external_id=f"member{n % members:03d}",
                        payload=Outgoing(f"提醒 {n}").to_payload(),
                        dedupe_key=f"bench-wecom:{n}",
                        now=now,
                    )
            stop = asyncio.Event()
            started = time.monotonic()
            runs = [asyncio.create_task(w.run_forever(stop, idle=0.05)) for w in workers]
            deadline = started + 30 + 2 * minute * messages / members / max(limit, 1)
            while time.monotonic() < deadline:  # the fake's lists are the signal
                if len(fake.sent) + len(fake.dropped) >= messages:
                    break
                await asyncio.sleep(0.02)
            seconds = time.monotonic() - started
            stop.set()
            await asyncio.gather(*runs)
            per_replica = await sent_by_worker(url)
            for api in apis:
                await api.close()
            for db in dbs:
                await db.dispose()
    finally:
        await fake.stop()
    texts = Counter(s.content for s in fake.sent)
    expected = {f"提醒 {n}" for n in range(messages)}
    return Result(
        limit=limit,
        messages=messages,
        seconds=seconds,
        delivered=len(fake.sent),
        violations=fake.violations,
        lost=len(expected - set(texts)),
        duplicates=sum(c - 1 for c in texts.values() if c > 1),
        pace=_pace(fake, limit, minute),
        per_replica=per_replica,
    )


async def sent_by_worker(url: str) -> dict[str, int]:
    """Outbox rows sent, by the worker (replica) that claimed them last."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT claimed_by, count(*) FROM outbox WHERE status = 'sent' GROUP BY 1")
            )
            return {str(worker): int(count) for worker, count in rows}
    finally:
        await engine.dispose()


def _pace(fake: FakeWeCom, limit: int, minute: float) -> float | None:
    """Mean over members of (N − L) / (last − first delivery) ÷ (L / minute)."""
    times: dict[str, list[float]] = defaultdict(list)
    for sent in fake.sent:
        times[sent.target].append(sent.at)
    ratios = [
        ((len(t) - limit) / (max(t) - min(t))) / (limit / minute)
        for t in times.values()
        if len(t) > limit and max(t) > min(t)
    ]
    return statistics.mean(ratios) if ratios else None


def table(results: list[Result], replicas: int, minute: float) -> str:
    lines = [
        f"| replicas | limit per member per minute ({minute:g} s) | messages | seconds | "
        "delivered msg/s | % of limit | violations | lost | duplicates | sent by replica |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        pace = "– (never waits)" if r.pace is None else f"{100 * r.pace:.1f} %"
        lines.append(
            f"| {replicas} | {r.limit} | {r.messages} | {r.seconds:.1f} | "
            f"{r.delivered / r.seconds:.1f} | {pace} | {r.violations} | {r.lost} | "
            f"{r.duplicates} | {' / '.join(str(n) for n in sorted(r.per_replica.values()))} |"
        )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--minute", type=float, default=60.0)
    parser.add_argument("--paced", type=int, default=5)
    parser.add_argument("--admin-url", default=PG_ADMIN_DEFAULT)
    args = parser.parse_args()
    print(machine_line(with_postgres=True))
    results = []
    for limit in (30, args.paced):
        results.append(
            await run_once(
                args.admin_url, args.replicas, args.messages, args.members, limit, args.minute
            )
        )
    print(table(results, args.replicas, args.minute))
    print(
        f"\n    .venv/bin/python bench/bench_wecom.py --replicas {args.replicas} "
        f"--messages {args.messages} --members {args.members} --minute {args.minute:g} "
        f"--paced {args.paced}"
    )


if __name__ == "__main__":
    asyncio.run(main())
