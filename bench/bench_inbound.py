"""Inbound updates per second (接收速率基准): Daiban's full pipeline against a bare echo bot.

For each library, the fake Bot API (limits off) queues N text updates from U users; the
run ends when every update has been answered. Daiban answers `/help` through the whole
pipeline (dedupe, identify, route, one transaction, outbox, delivery worker); the echo bot
answers straight from its handler (aiogram Dispatcher / PTB Application polling), twice:
echoing the text it got (a 5-character reply), and sending the very answer Daiban sent
(the rendered /help text, HTML, about 480 characters with ten command entities), so that
the second ratio is what Daiban's pipeline adds and not the size of its answer. Each
configuration runs `--rounds` times, interleaved, and the medians are shown.
Goal: the full pipeline at least 50 % of the echo bot's rate.

    .venv/bin/python bench/bench_inbound.py [--updates 2000] [--users 40] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
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


async def daiban_rate(library: str, updates: int, users: int) -> tuple[float, str]:
    """Daiban's updates/s, and the HTML text of its answer (for the same-answer echo)."""
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
            answer = str(fake.sent[-1].params.get("text", ""))
        finally:
            daiban.stop()
            await fake.stop()
    return updates / seconds, answer


def _spawn_echo(library: str, fake: FakeBotApi, reply: Path | None) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(ROOT / "bench" / "echo_bot.py"), library, fake.url]
    command += [fake.token, *([str(reply)] if reply is not None else [])]
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def echo_rate(library: str, updates: int, users: int, reply: Path | None) -> float:
    fake = FakeBotApi(limits=Limits(None, None, None))
    await fake.start()
    proc = _spawn_echo(library, fake, reply)
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
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each; medians shown")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for library in ("aiogram", "ptb"):
            full, echo, same = [], [], []
            reply = Path(scratch) / f"{library}-answer.html"
            for _ in range(args.rounds):  # interleaved, so drift on the machine hits all three
                rate, answer = asyncio.run(daiban_rate(library, args.updates, args.users))
                full.append(rate)
                reply.write_text(answer, encoding="utf-8")
                echo.append(asyncio.run(echo_rate(library, args.updates, args.users, None)))
                same.append(asyncio.run(echo_rate(library, args.updates, args.users, reply)))
            rows.append(
                (library, statistics.median(echo), statistics.median(same), statistics.median(full))
            )
    print(f"python {platform.python_version()} · {' '.join(sys.argv)}")
    print(
        "| library | echo bot (echoes the text) updates/s | echo bot (sends Daiban's answer) "
        "updates/s | Daiban full pipeline updates/s | pipeline / echo "
        "| pipeline / same-answer echo |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for library, echo_, same_, full_ in rows:
        print(
            f"| {library} | {echo_:.1f} | {same_:.1f} | {full_:.1f} | "
            f"{full_ / echo_ * 100:.0f} % | {full_ / same_ * 100:.0f} % |"
        )


if __name__ == "__main__":
    main()
