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

The first-contact case (issue 19): N *new* users each send `/start` (Daiban creates the
person, the account and the chat, and answers with the welcome and its service menu), then
each presses the welcome's first service button. Its control is the echo bot answering
with Daiban's very welcome and very answer to that button, keyboards included. Goal:
≥ 0.5× the control on aiogram, ≥ 0.8× on PTB.

    .venv/bin/python bench/bench_inbound.py [--case help|first|both] [--updates 2000]
        [--users 40] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.fake_bot_api import FakeBotApi, Limits, Sent  # noqa: E402
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


FIRST_USER = 8_000_000


def _first_service(sent: Sent) -> str:
    """The callback data of the welcome's first service button."""
    return next(data for _, data in sent.buttons if data.startswith("kind:"))


async def _drive_first(fake: FakeBotApi, users: int, alive) -> tuple[float, dict]:
    """`users` new people send /start, then press the welcome's first service button;
    updates/s over both, and the two answers (text and keyboard) for the control."""
    people = [fake.user(FIRST_USER + i, f"新用户{i}", "zh-hans") for i in range(users)]
    started = time.monotonic()
    for person in people:
        await fake.push_text(person, "/start")
    await fake.wait_for(lambda: len(fake.sent) >= users or not alive(), within=600)
    assert len(fake.sent) >= users, "the bot stopped"
    welcome = {sent.chat_id: sent for sent in fake.sent}
    for person in people:
        sent = welcome[person["id"]]
        await fake.press(person, sent, _first_service(sent))
    await fake.wait_for(lambda: len(fake.sent) >= 2 * users or not alive(), within=600)
    assert len(fake.sent) >= 2 * users, "the bot stopped"
    seconds = time.monotonic() - started
    first, last = fake.sent[0], fake.sent[-1]
    answers = {
        kind: {"text": sent.params.get("text", ""), "reply_markup": sent.params.get("reply_markup")}
        for kind, sent in (("message", first), ("button", last))
    }
    return 2 * users / seconds, answers


async def daiban_first_rate(library: str, users: int) -> tuple[float, dict]:
    """Daiban's updates/s for the first-contact case, and its two answers."""
    fake = FakeBotApi(limits=Limits(None, None, None))
    await fake.start()
    with tempfile.TemporaryDirectory() as workdir:
        daiban = _daiban(Path(workdir), fake, library)
        try:
            daiban.upgrade()
            daiban.start()
            await wait_until_polling(fake, daiban)
            return await _drive_first(fake, users, daiban.alive)
        finally:
            daiban.stop()
            await fake.stop()


async def echo_first_rate(library: str, users: int, answers: Path) -> float:
    fake = FakeBotApi(limits=Limits(None, None, None))
    await fake.start()
    proc = _spawn_echo(library, fake, answers)
    try:
        await fake.wait_for(lambda: any(m == "getupdates" for m, _ in fake.calls), within=60)
        rate, _ = await _drive_first(fake, users, lambda: proc.poll() is None)
    finally:
        proc.kill()
        proc.wait(timeout=10)
        await fake.stop()
    return rate


def _daiban(workdir: Path, fake: FakeBotApi, library: str) -> DaibanProcess:
    return DaibanProcess(
        workdir,
        fake,
        library,
        DAIBAN_TELEGRAM_RATE_GLOBAL=UNLIMITED,
        DAIBAN_TELEGRAM_RATE_CHAT=UNLIMITED,
        DAIBAN_TELEGRAM_RATE_GROUP=UNLIMITED,
        DAIBAN_LOG_LEVEL="WARNING",
    )


async def daiban_rate(library: str, updates: int, users: int) -> tuple[float, str]:
    """Daiban's updates/s, and the HTML text of its answer (for the same-answer echo)."""
    fake = FakeBotApi(limits=Limits(None, None, None))
    await fake.start()
    with tempfile.TemporaryDirectory() as workdir:
        daiban = _daiban(Path(workdir), fake, library)
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


def help_case(args: argparse.Namespace, scratch: str) -> list[tuple[str, float, float, float]]:
    rows = []
    for library in args.libraries:
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
    return rows


def first_case(args: argparse.Namespace, scratch: str) -> list[tuple[str, float, float]]:
    rows = []
    users = args.updates  # one /start and one press per new user
    for library in args.libraries:
        full, same = [], []
        answers = Path(scratch) / f"{library}-first.json"
        for _ in range(args.rounds):  # interleaved
            rate, got = asyncio.run(daiban_first_rate(library, users))
            full.append(rate)
            answers.write_text(json.dumps(got, ensure_ascii=False), encoding="utf-8")
            same.append(asyncio.run(echo_first_rate(library, users, answers)))
        rows.append((library, statistics.median(same), statistics.median(full)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=("help", "first", "both"), default="both")
    parser.add_argument("--updates", type=int, default=2000, help="updates, or new users")
    parser.add_argument("--users", type=int, default=40, help="senders of /help")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each; medians shown")
    parser.add_argument("--libraries", nargs="+", default=["aiogram", "ptb"])
    args = parser.parse_args()
    print(f"python {platform.python_version()} · {' '.join(sys.argv)}")
    with tempfile.TemporaryDirectory() as scratch:
        if args.case in ("help", "both"):
            print(
                "| library | echo bot (echoes the text) updates/s | echo bot (sends Daiban's "
                "answer) updates/s | Daiban full pipeline updates/s | pipeline / echo "
                "| pipeline / same-answer echo |"
            )
            print("| --- | --- | --- | --- | --- | --- |")
            for library, echo_, same_, full_ in help_case(args, scratch):
                print(
                    f"| {library} | {echo_:.1f} | {same_:.1f} | {full_:.1f} | "
                    f"{full_ / echo_ * 100:.0f} % | {full_ / same_ * 100:.0f} % |"
                )
        if args.case in ("first", "both"):
            print(
                f"\nFirst contact: {args.updates} new users, /start then the first service "
                "button\n\n| library | echo bot (sends Daiban's welcome and answer) updates/s "
                "| Daiban full pipeline updates/s | pipeline / echo |"
            )
            print("| --- | --- | --- | --- |")
            for library, same_, full_ in first_case(args, scratch):
                print(f"| {library} | {same_:.1f} | {full_:.1f} | {full_ / same_:.2f}× |")


if __name__ == "__main__":
    main()
