"""Resident memory with 10,000 live conversations (内存占用基准): one `daiban run` process.

A live conversation is a person in the middle of a form: each of `--people` users sends
`/apply`, then the enterprise name, the credit code and the contact name, and stops at
"the contact person's mobile number?". Everything goes through the fake Bot API (long
polling, aiogram, delivery limits off) and the whole pipeline; each step is sent by every
person before the next step starts. The process's VmRSS (resident now) is read after
start-up, after each step, and VmHWM (its peak) at the end; a 0.2 s sampler also keeps the
highest VmRSS seen. At the end the database must hold `--people` conversations in the
`apply` form, at the mobile step, and every update must have been answered (a duplicate
answer, which at-least-once delivery allows after a timeout, is counted and shown).

Form state lives in the database (storage `conversations`), so the process should hold no
per-conversation state; the figure shows what the caches and the allocator keep.
Goal: ≤ 200 MB at 10,000 conversations.

    .venv/bin/python bench/bench_rss.py [--people 10000] [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._procs import PG_ADMIN_DEFAULT, machine_line, memory_kib, scratch_pg  # noqa: E402
from tests.fakes.fake_bot_api import FakeBotApi, Limits  # noqa: E402
from tests.transports.conftest import DaibanProcess, wait_until_polling  # noqa: E402

UNLIMITED = "1000000"
USCC = "91350100M000100Y43"  # a valid unified social credit code (check digit included)
STEPS: list[tuple[str, Callable[[int], str]]] = [
    ("/apply", lambda i: "/apply"),
    ("enterprise name", lambda i: f"Acme Building Materials No. {i} Co., Ltd."),
    ("credit code", lambda i: USCC),
    ("contact name", lambda i: f"Zhang Wei {i}"),
]


@dataclass
class Sample:
    label: str
    rss_kib: int
    seconds: float
    events: int


class Sampler:
    """Keeps the highest VmRSS of `pid`, read every `every` seconds."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.pid, self.every, self.peak = pid, every, 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(OSError):
                self.peak = max(self.peak, memory_kib(self.pid)["VmRSS"])
            await asyncio.sleep(self.every)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@contextlib.asynccontextmanager
async def database(backend: str, workdir: Path, admin_url: str) -> AsyncIterator[str]:
    if backend == "postgresql":
        async with scratch_pg(admin_url) as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{workdir / 'daiban.sqlite3'}"


async def live_conversations(url: str) -> dict[tuple[str, str], int]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT form, step, count(*) FROM conversations GROUP BY form, step")
            )
            return {(str(form), str(step)): int(n) for form, step, n in rows}
    finally:
        await engine.dispose()


async def run(
    people: int, backend: str, admin_url: str, library: str
) -> tuple[list[Sample], dict[str, int]]:
    fake = FakeBotApi(limits=Limits(None, None, None))
    await fake.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            async with database(backend, workdir, admin_url) as url:
                daiban = DaibanProcess(
                    workdir,
                    fake,
                    library,
                    DAIBAN_DATABASE_URL=url,
                    DAIBAN_TELEGRAM_RATE_GLOBAL=UNLIMITED,
                    DAIBAN_TELEGRAM_RATE_CHAT=UNLIMITED,
                    DAIBAN_TELEGRAM_RATE_GROUP=UNLIMITED,
                    DAIBAN_LOG_LEVEL="WARNING",
                    # production defaults, not the e2e suite's 2 s / 3 s: on a loaded
                    # machine those time out and redeliver (at-least-once duplicates)
                    DAIBAN_TELEGRAM_REQUEST_TIMEOUT="20",
                    DAIBAN_OUTBOX_LEASE_SECONDS="120",
                )
                daiban.upgrade()
                daiban.start()
                try:
                    await wait_until_polling(fake, daiban)
                    samples, memory = await _drive(fake, daiban, people)
                    live = await live_conversations(url)
                finally:
                    daiban.stop()
                errors = [line for line in daiban.output().splitlines() if "ERROR" in line]
    finally:
        await fake.stop()
    want = {("apply", "mobile"): people}
    assert live == want, f"conversations in the database: {live}, expected {want}"
    assert not errors, errors[:5]
    return samples, memory


async def _drive(
    fake: FakeBotApi, daiban: DaibanProcess, people: int
) -> tuple[list[Sample], dict[str, int]]:
    assert daiban.proc is not None
    pid = daiban.proc.pid
    await asyncio.sleep(1.0)  # settle after the first getUpdates
    samples = [Sample("after start-up (ready, idle)", memory_kib(pid)["VmRSS"], 0.0, 0)]
    users = [fake.user(100_000 + i, f"P{i}", "en") for i in range(people)]
    answers: Counter[int] = Counter()
    fake.on_sent.append(lambda sent: answers.update([sent.chat_id]))
    sampler = Sampler(pid)
    sampler.start()
    try:
        for number, (label, say) in enumerate(STEPS, start=1):
            started = time.monotonic()
            for i, user in enumerate(users):
                await fake.push_text(user, say(i))
            await fake.wait_for(
                lambda n=number: all(answers[u["id"]] >= n for u in users) or not daiban.alive(),
                within=3600,
                step=0.5,
            )
            assert daiban.alive(), daiban.output()[-3000:]
            seconds = time.monotonic() - started
            rss = memory_kib(pid)["VmRSS"]
            samples.append(Sample(f"step {number}: everyone sent {label}", rss, seconds, people))
            print(
                f"  step {number} ({label}): {seconds:.0f} s, RSS {rss / 1024:.0f} MiB",
                file=sys.stderr,
            )
        await asyncio.sleep(2.0)  # anything sent twice would arrive now
        memory = memory_kib(pid)
    finally:
        await sampler.stop()
    memory["sampled peak VmRSS"] = sampler.peak
    memory["duplicates"] = sum(max(0, n - len(STEPS)) for n in answers.values())
    last = fake.sent_to(users[-1]["id"])[-1].text
    assert "mobile" in last, last
    print(
        f"  end: VmRSS {memory['VmRSS'] / 1024:.1f} MiB, VmHWM {memory['VmHWM'] / 1024:.1f} MiB,"
        f" sampled peak {sampler.peak / 1024:.1f} MiB, duplicate answers {memory['duplicates']}",
        file=sys.stderr,
    )
    return samples, memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--library", nargs="+", choices=["aiogram", "ptb"], default=["aiogram", "ptb"]
    )
    parser.add_argument(
        "--admin-url", default=os.environ.get("DAIBAN_TEST_POSTGRES_URL", PG_ADMIN_DEFAULT)
    )
    args = parser.parse_args()
    print(machine_line(with_postgres=args.backend == "postgresql"))
    runs = {}
    for library in args.library:
        print(f"{library}:", file=sys.stderr)
        runs[library] = asyncio.run(run(args.people, args.backend, args.admin_url, library))
    print("$ .venv/bin/python bench/bench_rss.py " + " ".join(sys.argv[1:]))
    print()
    print(f"`daiban run` (long polling, {args.backend}), {args.people} people, VmRSS in MiB:")
    print()
    print("| moment | " + " | ".join(f"{lib} MiB | {lib} events/s" for lib in runs) + " |")
    print("| --- |" + " ---: | ---: |" * len(runs))
    first = next(iter(runs.values()))[0]
    for index, sample in enumerate(first):
        cells = []
        for samples, _ in runs.values():
            s = samples[index]
            rate = f"{s.events / s.seconds:.0f}" if s.seconds else "–"
            cells.append(f"{s.rss_kib / 1024:.1f} | {rate}")
        print(f"| {sample.label} | " + " | ".join(cells) + " |")
    for key, label in (
        ("sampled peak VmRSS", "peak (sampled every 0.2 s)"),
        ("VmHWM", "peak (VmHWM)"),
    ):
        print(
            f"| {label} | " + " | ".join(f"{m[key] / 1024:.1f} | " for _, m in runs.values()) + " |"
        )
    print()
    for library, (samples, memory) in runs.items():
        peak_mb = memory["VmHWM"] * 1024 / 1e6
        verdict = "met" if peak_mb <= 200 else "not met"
        print(
            f"{library}: {args.people} live conversations, RSS {memory['VmRSS'] / 1024:.1f} MiB"
            f" (start-up {samples[0].rss_kib / 1024:.1f} MiB), peak {memory['VmHWM'] / 1024:.1f}"
            f" MiB = {peak_mb:.0f} MB; goal ≤ 200 MB: {verdict};"
            f" duplicate answers {memory['duplicates']}"
        )


if __name__ == "__main__":
    main()
