"""Daiban as a separate process (`daiban run`) against the fake Bot API, for the e2e suite."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from tests.fakes.fake_bot_api import FakeBotApi, Limits

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DaibanProcess:
    """`python -m bot.cli run` with its own SQLite file, web port and Telegram settings."""

    def __init__(self, workdir: Path, fake: FakeBotApi, library: str, **env: str) -> None:
        self.workdir = workdir
        self.db_url = f"sqlite+aiosqlite:///{workdir / 'daiban.sqlite3'}"
        self.web_port = free_port()
        self.log = workdir / "daiban.log"
        base = {k: v for k, v in os.environ.items() if not k.startswith("DAIBAN_")}
        self.env = (
            base
            | {
                "DAIBAN_DATABASE_URL": self.db_url,
                "DAIBAN_TELEGRAM_TOKEN": fake.token,
                "DAIBAN_TELEGRAM_API_URL": fake.url,
                "DAIBAN_TELEGRAM_LIBRARY": library,
                "DAIBAN_TELEGRAM_REQUEST_TIMEOUT": "2",
                "DAIBAN_OUTBOX_LEASE_SECONDS": "3",
                "DAIBAN_WEB_HOST": "127.0.0.1",
                "DAIBAN_WEB_PORT": str(self.web_port),
                "DAIBAN_LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
            }
            | env
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def _cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "bot.cli", *args]

    def upgrade(self) -> None:
        subprocess.run(
            self._cli("db", "upgrade"),
            env=self.env,
            cwd=self.workdir,
            check=True,
            timeout=120,
            capture_output=True,
        )

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self._cli("run"),
                env=self.env,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill9(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


async def wait_until_polling(fake: FakeBotApi, daiban: DaibanProcess, since: int = 0) -> None:
    """Until the process has called getUpdates (after `since` earlier calls)."""
    deadline = time.monotonic() + 60
    while sum(1 for m, _ in fake.calls if m == "getupdates") <= since:
        assert daiban.alive(), daiban.output()
        assert time.monotonic() < deadline, daiban.output()
        await asyncio.sleep(0.05)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi(limits=Limits())
    await api.start()
    try:
        yield api
    finally:
        await api.stop()
