"""Delivered messages per second against the fake Bot API's limits (发送速率基准).

Starts the fake Bot API (enforcing the limits) and `daiban run` as a separate process,
queues N messages to C private chats straight into the outbox, and measures from the first
to the last arrival. Goal: at least 95 % of the overall limit, zero violations.

    .venv/bin/python bench/bench_delivery.py [--library aiogram|ptb] [--messages 600]
        [--chats 60] [--rate 30] [--per-chat 1]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.fake_bot_api import FakeBotApi, Limit, Limits  # noqa: E402
from tests.transports.conftest import DaibanProcess, wait_until_polling  # noqa: E402
from tests.transports.test_telegram_delivery import enqueue_burst  # noqa: E402


async def measure(library: str, messages: int, chats: int, rate: float, per_chat: float) -> dict:
    limits = Limits(
        overall=Limit(int(rate), 1.0), per_chat=Limit(int(per_chat), 1.0), per_group=None
    )
    fake = FakeBotApi(limits=limits)
    await fake.start()
    users = [5001 + i for i in range(chats)]
    for user_id in users:
        fake.private_chat(fake.user(user_id, f"u{user_id}"))
    with tempfile.TemporaryDirectory() as workdir:
        daiban = DaibanProcess(
            Path(workdir),
            fake,
            library,
            DAIBAN_TELEGRAM_RATE_GLOBAL=str(rate),
            DAIBAN_TELEGRAM_RATE_CHAT=str(per_chat),
            DAIBAN_LOG_LEVEL="WARNING",
        )
        try:
            daiban.upgrade()
            daiban.start()
            await wait_until_polling(fake, daiban)
            await enqueue_burst(daiban.db_url, messages, users)
            await fake.wait_for(lambda: len(fake.sent) >= messages, within=messages / rate * 3 + 60)
        finally:
            daiban.stop()
            await fake.stop()
    span = fake.sent[-1].at - fake.sent[0].at
    achieved = (len(fake.sent) - 1) / span
    return {
        "library": library,
        "limit": rate,
        "messages": len(fake.sent),
        "seconds": span,
        "rate": achieved,
        "share": achieved / rate * 100,
        "violations": fake.violations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", choices=["aiogram", "ptb", "both"], default="both")
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--chats", type=int, default=60)
    parser.add_argument("--rate", type=float, default=30)
    parser.add_argument("--per-chat", type=float, default=1)
    args = parser.parse_args()
    libraries = ["aiogram", "ptb"] if args.library == "both" else [args.library]
    rows = [
        asyncio.run(measure(lib, args.messages, args.chats, args.rate, args.per_chat))
        for lib in libraries
    ]
    print(f"python {platform.python_version()} · {' '.join(sys.argv)}")
    print(
        "| library | limit msg/s | messages | seconds | delivered msg/s | % of limit | violations |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['library']} | {r['limit']:.0f} | {r['messages']} | {r['seconds']:.1f} "
            f"| {r['rate']:.2f} | {r['share']:.1f} % | {r['violations']} |"
        )


if __name__ == "__main__":
    main()
