"""Inbound updates per second (接收速率基准): Daiban's full pipeline against a bare echo bot.

For each library, the fake Bot API (limits off) queues N text updates from U users; the
run ends when every update has been answered. Daiban answers `/help` through the whole
pipeline (dedupe, identify, route, one transaction, outbox, delivery worker); the echo bot
answers straight from its handler (aiogram Dispatcher / PTB Application polling).
Goal: the full pipeline at least 50 % of the echo bot's rate.

    .venv/bin/python bench/bench_inbound.py [--updates 400] [--users 40]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.fake_bot_api import FakeBotApi, Limits  # noqa: E402
from tests.transports.conftest import DaibanProcess, wait_until_polling  # noqa: E402

UNLIMITED = "1000000"


async def _drive(fake: FakeBotApi, updates: int, users: int, alive) -> float:
    people = [fake.user(7001 + i, f"u{i}", "en") for i in range(users)]
    started = time.monotonic()
    for i in range(updates):
        await fake.push_text(people[i % users], "/help")
    await fake.wait_for(lambda: len(fake.sent) >= updates or not alive(), within=300)
    assert len(fake.sent) >= updates, "the bot stopped"
    return time.monotonic() - started


async def daiban_rate(library: str, updates: int, users: int) -> float:
    fake = FakeBotApi(limits=Limits(None, None, None))
    await fake.start()
    with tempfile.TemporaryDirectory() as workdir:
        daiban = DaibanProcess(
            Path(workdir),
            fake,
            library,
            DAIBAN_TELEGRAM_RATE_GLOBAL=UNLIMITED,
            DAIBAN_TELEGRAM_RATE_CHAT=UNLIMITED,
            DAIBAN_TELEGRAM_RATE_GROUP=UNLIMITED,
            DAIBAN_LOG_LEVEL="WARNING",
        )
        try:
            daiban.upgrade()
            daiban.start()
            await wait_until_polling(fake, daiban)
            seconds = await _drive(fake, updates, users, daiban.alive)
        finally:
            daiban.stop()
            await fake.stop()
    return updates / seconds


def _spawn_echo(library: str, fake: FakeBotApi) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "echo_bot.py"), library, fake.url, fake.token],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def echo_rate(library: str, updates: int, users: int) -> float:
    fake = FakeBotApi(limits=Limits(None, None, None))
    await fake.start()
    proc = _spawn_echo(library, fake)
    try:
        await fake.wait_for(lambda: any(m == "getupdates" for m, _ in fake.calls), within=60)
        seconds = await _drive(fake, updates, users, lambda: proc.poll() is None)
    finally:
        proc.kill()
        proc.wait(timeout=10)
        await fake.stop()
    return updates / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=400)
    parser.add_argument("--users", type=int, default=40)
    args = parser.parse_args()
    rows = []
    for library in ("aiogram", "ptb"):
        echo = asyncio.run(echo_rate(library, args.updates, args.users))
        full = asyncio.run(daiban_rate(library, args.updates, args.users))
        rows.append((library, echo, full))
    print(f"python {platform.python_version()} · {' '.join(sys.argv)}")
    print("| library | echo bot updates/s | Daiban full pipeline updates/s | pipeline / echo |")
    print("| --- | --- | --- | --- |")
    for library, echo, full in rows:
        print(f"| {library} | {echo:.1f} | {full:.1f} | {full / echo * 100:.0f} % |")


if __name__ == "__main__":
    main()
