"""Shared helpers for the process benchmarks (进程测量): CPU, RSS, the machine, PostgreSQL.

Reads Linux's /proc directly (no psutil): CPU seconds and resident memory of a process,
the machine's busy time, the PostgreSQL server's processes. `scratch_pg` creates a
uniquely named database next to an admin URL and drops it afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.pg import scratch_pg_database

CLK_TCK = os.sysconf("SC_CLK_TCK")
PG_ADMIN_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


# -- one process -----------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of `pid` (all its threads); 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (peak resident) of `pid`, in KiB."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            values[key] = int(rest.split()[0])
    return values


def postgres_pids() -> list[int]:
    """Every process named `postgres` (server, backends, WAL writer, checkpointer …)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
    return pids


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores, everyone's processes)."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in first[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


@dataclass
class CpuMeter:
    """CPU seconds of named process groups over a stretch of wall time.

    Groups are given as callables returning pids, read at start and at stop; a pid seen
    only at stop counts from zero (it started in between), one gone by then is lost (so
    the figure is a lower bound; PostgreSQL backends live as long as the pools do).
    """

    groups: dict[str, Callable[[], Iterable[int]]]
    _start: dict[str, dict[int, float]] = field(default_factory=dict)
    _wall: float = 0.0
    _busy: float = 0.0

    def _read(self) -> dict[str, dict[int, float]]:
        out = {}
        for name, pids in self.groups.items():
            out[name] = {pid: cpu_seconds(pid) for pid in pids()}
        return out

    def start(self) -> None:
        self._start = self._read()
        self._wall = time.monotonic()
        self._busy = machine_busy_seconds()

    def stop(self) -> dict[str, float]:
        """Cores used per group (CPU seconds ÷ wall seconds), `machine`, `other`, `wall` (s)."""
        end = self._read()
        wall = time.monotonic() - self._wall
        busy = machine_busy_seconds() - self._busy
        cores = {}
        for name, pids in end.items():
            before = self._start.get(name, {})
            used = sum(max(0.0, sec - before.get(pid, 0.0)) for pid, sec in pids.items())
            cores[name] = used / wall
        cores["machine"] = busy / wall
        cores["other"] = max(0.0, cores["machine"] - sum(cores[n] for n in end))
        cores["wall"] = wall
        return cores


# -- the machine -------------------------------------------------------------------------
def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def postgres_version() -> str:
    try:
        out = subprocess.run(
            ["psql", "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except OSError:
        return "?"
    return out.stdout.strip().removeprefix("psql (PostgreSQL) ") or "?"


def machine_line(with_postgres: bool = False) -> str:
    """One line naming the machine, for the top of a benchmark's output."""
    parts = [
        f"nproc {os.cpu_count()}",
        cpu_model(),
        f"Python {platform.python_version()}",
        f"load average {load_average()}",
    ]
    if with_postgres:
        parts.insert(3, f"PostgreSQL {postgres_version()}")
    return " · ".join(parts)


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


# -- PostgreSQL scratch database ---------------------------------------------------------
def scratch_pg(admin_url: str) -> contextlib.AbstractAsyncContextManager[str]:
    """A new empty database ``daiban_bench_<random>`` on `admin_url`'s server; dropped
    afterwards (the tests' `tests.pg.scratch_pg_database`)."""
    return scratch_pg_database(admin_url, prefix="daiban_bench")


# -- readiness ---------------------------------------------------------------------------
async def healthz_ok(session: aiohttp.ClientSession, port: int) -> bool:
    """True when http://127.0.0.1:`port`/healthz answers 200."""
    try:
        async with session.get(
            f"http://127.0.0.1:{port}/healthz", timeout=aiohttp.ClientTimeout(total=2)
        ) as resp:
            return resp.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


async def wait_healthy(
    port: int, alive: Callable[[], bool], within: float = 120.0, step: float = 0.01
) -> float:
    """Seconds until /healthz answers 200 (AssertionError if the process dies or times out)."""
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        while not await healthz_ok(session, port):
            assert alive(), "the process exited before it was ready"
            assert time.monotonic() - started < within, f"not ready after {within}s"
            await asyncio.sleep(step)
    return time.monotonic() - started
