"""Processes and probes for the fault tests (故障测试): `daiban run` replicas and
`daiban jobs run` one-shots on one PostgreSQL database, and questions to that database.

Replicas run on the system clock. So that their own scheduler never sends a real-time
nudge or digest into a test, each runs in a fixed-offset time zone where it is now the
middle of the night (outside working hours, before the digest time); the tests make jobs
happen with `daiban jobs run NAME --at …` instead, in the scheme's own time zone.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text

from storage.db import Database
from tests.fakes.fake_bot_api import FakeBotApi
from tests.transports.conftest import DaibanProcess

FAST_DELIVERY = {
    # The fake enforces no limits here; the replicas need not pace themselves either.
    "DAIBAN_TELEGRAM_RATE_GLOBAL": "1000",
    "DAIBAN_TELEGRAM_RATE_CHAT": "100",
    "DAIBAN_TELEGRAM_RATE_GROUP": "6000",
    # No replica dies while holding rows in these tests: a long lease, so a replica
    # starved of CPU on a loaded machine never has its claimed rows taken over.
    "DAIBAN_OUTBOX_LEASE_SECONDS": "120",
    "DAIBAN_OUTBOX_SILENT_SECONDS": "120",
    # A send that times out after the fake recorded it goes out again (the Bot API has no
    # idempotency key): at-least-once by design, not what these tests are about. The fake
    # shares the test's event loop with hundreds of lanes, so give it time to answer.
    "DAIBAN_TELEGRAM_REQUEST_TIMEOUT": "60",
}


def night_timezone(now: datetime | None = None) -> str:
    """A fixed-offset zone (``Etc/GMT±N``) in which it is now between 02:00 and 03:00."""
    hour = (now or datetime.now(UTC)).astimezone(UTC).hour
    offset = 2 - hour  # local = UTC + offset
    if offset < -12:
        offset += 24
    # The Etc/ names count the other way round: Etc/GMT-8 is UTC+8.
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def base_env(db_url: str) -> dict[str, str]:
    """The environment of a Daiban process on ``db_url`` with no other DAIBAN_ setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAIBAN_")}
    return env | {
        "DAIBAN_DATABASE_URL": db_url,
        "DAIBAN_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }


WEBHOOK_SECRET = "fault-test-secret"


class Replica(DaibanProcess):
    """A `daiban run` on ``db_url`` talking to ``fake``: polling, or a webhook on its port."""

    def __init__(
        self, workdir: Path, fake: FakeBotApi, db_url: str, *, webhook: bool = False, **env: str
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        settings = FAST_DELIVERY | {"DAIBAN_TIMEZONE": night_timezone()} | env
        super().__init__(workdir, fake, "aiogram", DAIBAN_DATABASE_URL=db_url, **settings)
        if webhook:
            self.env |= {
                "DAIBAN_TELEGRAM_MODE": "webhook",
                "DAIBAN_TELEGRAM_WEBHOOK_URL": self.webhook_url,
                "DAIBAN_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            }

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.web_url}/telegram/hook"

    async def healthy(self) -> bool:
        """/healthz answers 200 (web server up, database reachable)."""
        assert self.alive(), self.output()
        return await health_status(self) == 200


async def stop_all(*processes: DaibanProcess, within: float = 30) -> None:
    """SIGTERM each running process and wait for all to exit, while the fakes (in this
    event loop) keep answering; one still running after ``within`` seconds is killed."""
    running = [p for p in processes if p.alive()]
    for process in running:
        assert process.proc is not None
        process.proc.send_signal(signal.SIGTERM)
    try:
        await until(
            lambda: not any(p.alive() for p in running), "the replicas to stop", within, 0.05
        )
    finally:
        for process in running:
            process.kill9()


async def health_status(process: Replica) -> int | None:
    """The status of the replica's /healthz, or None when it does not answer."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
            session.get(f"{process.web_url}/healthz") as resp,
        ):
            return resp.status
    except (aiohttp.ClientError, TimeoutError):
        return None


def start_job(db_url: str, name: str, at: str, log: Path) -> subprocess.Popen[bytes]:
    """`daiban jobs run NAME --at AT` as a separate process, its output into ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "jobs", "run", name, "--at", at],
            env=base_env(db_url),
            cwd=log.parent,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def finish(proc: subprocess.Popen[bytes], log: Path, within: float = 180) -> str:
    """Wait (without blocking the fakes' event loop) for a one-shot to exit 0; its output."""
    try:
        await until(lambda: proc.poll() is not None, f"{log.name} to finish", within, 0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    output = read_log(log)
    assert proc.returncode == 0, output
    return output


def read_log(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


async def until(
    probe: Callable[[], Any], what: str, within: float = 120.0, step: float = 0.1
) -> Any:
    """Poll ``probe`` (sync or async) until it returns something truthy; that value."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {within}s waiting for {what}"
        await asyncio.sleep(step)


async def scalar(db: Database, sql: str, **params: Any) -> Any:
    """One value from ``sql``."""
    async with db.engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar_one()


async def rows(db: Database, sql: str, **params: Any) -> list[Any]:
    """Every row of ``sql``."""
    async with db.engine.connect() as conn:
        return list(await conn.execute(text(sql), params))
