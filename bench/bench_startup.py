"""Start-up time (启动时间): from spawning the process to ready, median of N runs, SQLite.

- `python -c pass`: the interpreter alone, the floor under every other row;
- `daiban --help`: interpreter plus the CLI's imports (`python -m bot.cli --help`);
- `daiban run`, emulator mode (no messenger configured): spawn → `/healthz` answers 200;
- `daiban run`, Telegram long polling (aiogram, then python-telegram-bot) against the
  fake Bot API in this process: spawn → `/healthz` 200, and spawn → first `getUpdates`
  (the moment it can receive);
- the CPU seconds the process itself used until ready (user + system, from /proc): unlike
  the wall time, hardly affected by other processes on a shared machine;
- stop: SIGTERM → the process has exited (scheduler, outbox worker, web server closed).

The SQLite file is migrated once beforehand (`daiban db upgrade` is not part of start-up;
its own time is shown in the last row). Readiness is polled every 10 ms.

    .venv/bin/python bench/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._procs import cpu_seconds, machine_line, median, wait_healthy  # noqa: E402
from tests.fakes.fake_bot_api import FakeBotApi  # noqa: E402
from tests.transports.conftest import DaibanProcess  # noqa: E402

Row = tuple[str, list[float], list[float]]  # what, wall seconds, CPU seconds


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_command(args: list[str], runs: int) -> tuple[list[float], list[float]]:
    times, cpu = [], []
    for _ in range(runs):
        started, used = time.monotonic(), children_cpu()
        subprocess.run(args, cwd=ROOT, check=True, capture_output=True, timeout=120)
        times.append(time.monotonic() - started)
        cpu.append(children_cpu() - used)
    return times, cpu


def own_cpu(daiban: DaibanProcess) -> float:
    assert daiban.proc is not None
    return cpu_seconds(daiban.proc.pid)


def stop_seconds(daiban: DaibanProcess) -> float:
    assert daiban.proc is not None
    started = time.monotonic()
    daiban.proc.send_signal(signal.SIGTERM)
    daiban.proc.wait(timeout=60)
    return time.monotonic() - started


def emulator_process(workdir: Path) -> DaibanProcess:
    """A `daiban run` with no messenger: the browser emulator is on."""
    stand_in = SimpleNamespace(token="unused", url="http://127.0.0.1:9")
    daiban = DaibanProcess(workdir, stand_in, "aiogram", DAIBAN_LOG_LEVEL="WARNING")  # type: ignore[arg-type]
    for key in ("DAIBAN_TELEGRAM_TOKEN", "DAIBAN_TELEGRAM_API_URL", "DAIBAN_TELEGRAM_LIBRARY"):
        del daiban.env[key]
    return daiban


async def time_emulator(workdir: Path, runs: int) -> tuple[list[float], list[float], list[float]]:
    daiban = emulator_process(workdir)
    ready, cpu, stops = [], [], []
    for _ in range(runs):
        daiban.start()
        try:
            ready.append(await wait_healthy(daiban.web_port, daiban.alive))
            cpu.append(own_cpu(daiban))
        finally:
            stops.append(stop_seconds(daiban))
    assert "Open http://" in daiban.output(), daiban.output()[-2000:]
    return ready, cpu, stops


async def _first_poll(fake: FakeBotApi, alive: Callable[[], bool], started: float) -> float:
    while not any(method == "getupdates" for method, _ in fake.calls):
        assert alive(), "the process exited before polling"
        assert time.monotonic() - started < 120, "no getUpdates after 120 s"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def time_telegram(
    workdir: Path, library: str, runs: int
) -> tuple[list[float], list[float], list[float], list[float]]:
    fake = FakeBotApi()
    await fake.start()
    healthy, polling, cpu, stops = [], [], [], []
    try:
        daiban = DaibanProcess(workdir, fake, library, DAIBAN_LOG_LEVEL="WARNING")
        for _ in range(runs):
            fake.calls.clear()
            started = time.monotonic()
            daiban.start()
            try:
                poll_task = asyncio.create_task(_first_poll(fake, daiban.alive, started))
                await wait_healthy(daiban.web_port, daiban.alive)
                healthy.append(time.monotonic() - started)
                cpu.append(own_cpu(daiban))
                polling.append(await poll_task)
            finally:
                stops.append(stop_seconds(daiban))
    finally:
        await fake.stop()
    return healthy, polling, cpu, stops


def upgrade_times(workdir: Path, runs: int) -> tuple[list[float], list[float]]:
    times, cpu = [], []
    for i in range(runs):
        target = workdir / f"fresh{i}"
        target.mkdir()
        daiban = emulator_process(target)
        started, used = time.monotonic(), children_cpu()
        daiban.upgrade()
        times.append(time.monotonic() - started)
        cpu.append(children_cpu() - used)
    return times, cpu


async def measure(runs: int) -> list[Row]:
    rows: list[Row] = [
        (
            "`python -c pass` (interpreter only)",
            *time_command([sys.executable, "-c", "pass"], runs),
        ),
        ("`daiban --help`", *time_command([sys.executable, "-m", "bot.cli", "--help"], runs)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        emulator_dir = base / "emulator"
        emulator_dir.mkdir()
        emulator_process(emulator_dir).upgrade()
        ready, cpu, stops = await time_emulator(emulator_dir, runs)
        rows.append(("`daiban run`, emulator: spawn → /healthz 200", ready, cpu))
        all_stops = list(stops)
        for library in ("aiogram", "ptb"):
            workdir = base / library
            workdir.mkdir()
            emulator_process(workdir).upgrade()
            healthy, polling, cpu, stops = await time_telegram(workdir, library, runs)
            rows.append((f"`daiban run`, Telegram {library}: spawn → /healthz 200", healthy, cpu))
            rows.append(
                (f"`daiban run`, Telegram {library}: spawn → first getUpdates", polling, [])
            )
            all_stops += stops
        rows.append(("`daiban run` stop: SIGTERM → exited (all modes)", all_stops, []))
        rows.append(("`daiban db upgrade` of a new SQLite file", *upgrade_times(base, runs)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows = asyncio.run(measure(args.runs))
    print(machine_line())
    print("$ .venv/bin/python bench/bench_startup.py " + " ".join(sys.argv[1:]))
    print()
    print("| what | median s | min s | max s | median CPU s of the process | runs |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, times, cpu in rows:
        used = f"{median(cpu):.2f}" if cpu else "–"
        print(
            f"| {name} | {median(times):.2f} | {min(times):.2f} | {max(times):.2f} | {used} "
            f"| {len(times)} |"
        )


if __name__ == "__main__":
    main()
