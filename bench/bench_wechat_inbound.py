"""Inbound WeChat messages per second (微信接收速率基准) against Telegram's webhook.

The same `daiban run` (SQLite, one process) receives N `/help` messages from U people,
C at a time, over HTTP, and answers each through the outbox:

- **WeChat**: safe-mode callbacks (AES-encrypted, signed) to `/wechat/callback` — verify,
  decrypt, `defusedxml`, dedupe check, window and quota in the store, handle and store,
  then `success`; the answer goes out as a customer-service message to the fake WeChat;
- **Telegram webhook**: JSON updates to `/telegram/webhook` with the secret header,
  answered 200 once stored; the answer goes out through the fake Bot API.

Each person sends one message by default: WeChat's quota is per message a person sends, so
a person who sends many at once gets answers to the last few only until they write again.

Two rates each: *callbacks/s* (until every POST was answered: the whole callback path)
and *answered/s* (until every answer reached the fake platform). The requests are built
(and, for WeChat, encrypted and signed) before the clock starts. Goal: WeChat ≥ 0.8× the
Telegram webhook. Medians of `--rounds` interleaved rounds.

    .venv/bin/python bench/bench_wechat_inbound.py [--messages 1000] [--users 1000]
        [--concurrency 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.fake_bot_api import FakeBotApi, Limits  # noqa: E402
from tests.fakes.fake_wechat import (  # noqa: E402
    AES_KEY,
    APP_ID,
    APP_SECRET,
    TOKEN,
    FakeWeChat,
    Signed,
    seal,
    text_xml,
)

UNLIMITED = "1000000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Daiban:
    """`daiban run` in a scratch directory with its own SQLite file and port."""

    def __init__(self, workdir: Path, **env: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        base = {k: v for k, v in os.environ.items() if not k.startswith("DAIBAN_")}
        self.env = base | {
            "DAIBAN_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'daiban.sqlite3'}",
            "DAIBAN_WEB_PORT": str(self.port),
            "DAIBAN_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cli = [sys.executable, "-m", "bot.cli"]
        subprocess.run(
            [*cli, "db", "upgrade"],
            env=self.env,
            cwd=self.workdir,
            check=True,
            capture_output=True,
            timeout=120,
        )
        self.proc = subprocess.Popen(
            [*cli, "run"],
            env=self.env,
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def healthy(self) -> None:
        async with aiohttp.ClientSession() as http:
            for _ in range(600):
                try:
                    async with http.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError("daiban did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


async def _post_all(requests: list[tuple[str, dict[str, Any]]], concurrency: int) -> None:
    """POST every (url, kwargs) with `concurrency` workers on one connection pool."""
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    async with aiohttp.ClientSession() as http:

        async def worker() -> None:
            while not queue.empty():
                url, kwargs = queue.get_nowait()
                async with http.post(url, **kwargs) as response:
                    await response.read()
                    assert response.status == 200, response.status

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _wait(count: Any, wanted: int, within: float = 300) -> None:
    deadline = time.monotonic() + within
    while count() < wanted:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {count()} of {wanted} answers arrived")
        await asyncio.sleep(0.01)


async def wechat_rates(messages: int, users: int, concurrency: int) -> tuple[float, float]:
    fake = FakeWeChat()
    await fake.start()
    with tempfile.TemporaryDirectory() as workdir:
        daiban = Daiban(
            Path(workdir),
            DAIBAN_WECHAT_APP_ID=APP_ID,
            DAIBAN_WECHAT_APP_SECRET=APP_SECRET,
            DAIBAN_WECHAT_TOKEN=TOKEN,
            DAIBAN_WECHAT_AES_KEY=AES_KEY,
            DAIBAN_WECHAT_API_URL=fake.url,
        )
        try:
            daiban.start()
            await daiban.healthy()
            url = f"http://127.0.0.1:{daiban.port}/wechat/callback"
            openids = [f"o-bench-{n:03d}" for n in range(users)]
            for openid in openids:
                fake.user_wrote(openid)  # the fake platform's side of each message
            sealed: list[Signed] = [
                seal(text_xml(openids[n % users], "/help", 9_000_000 + n)) for n in range(messages)
            ]
            requests = [(url, {"params": s.query, "data": s.body}) for s in sealed]
            started = time.monotonic()
            await _post_all(requests, concurrency)
            callbacks = time.monotonic() - started
            await _wait(lambda: len(fake.sent), messages)
            answered = time.monotonic() - started
            assert fake.violations == 0
        finally:
            daiban.stop()
            await fake.stop()
    return messages / callbacks, messages / answered


async def telegram_rates(messages: int, users: int, concurrency: int) -> tuple[float, float]:
    fake = FakeBotApi(limits=Limits(None, None, None))
    await fake.start()
    with tempfile.TemporaryDirectory() as workdir:
        port_holder = Daiban(Path(workdir))
        daiban = Daiban(
            Path(workdir),
            DAIBAN_TELEGRAM_TOKEN=fake.token,
            DAIBAN_TELEGRAM_API_URL=fake.url,
            DAIBAN_TELEGRAM_MODE="webhook",
            DAIBAN_TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port_holder.port}/telegram/webhook",
            DAIBAN_WEB_PORT=str(port_holder.port),
            DAIBAN_TELEGRAM_RATE_GLOBAL=UNLIMITED,
            DAIBAN_TELEGRAM_RATE_CHAT=UNLIMITED,
            DAIBAN_TELEGRAM_RATE_GROUP=UNLIMITED,
        )
        daiban.port = port_holder.port
        try:
            daiban.start()
            await daiban.healthy()
            await fake.wait_for(lambda: fake.webhook is not None, within=60)
            assert fake.webhook is not None
            people = [fake.user(7001 + n, f"u{n}", "zh-hans") for n in range(users)]
            headers = {"X-Telegram-Bot-Api-Secret-Token": fake.webhook.get("secret_token", "")}
            requests = [
                (
                    fake.webhook["url"],
                    {
                        "json": {
                            "update_id": 1_000 + n,
                            "message": fake._message(people[n % users], None) | {"text": "/help"},
                        },
                        "headers": headers,
                    },
                )
                for n in range(messages)
            ]
            started = time.monotonic()
            await _post_all(requests, concurrency)
            callbacks = time.monotonic() - started
            await _wait(lambda: len(fake.sent), messages)
            answered = time.monotonic() - started
        finally:
            daiban.stop()
            await fake.stop()
    return messages / callbacks, messages / answered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each; medians shown")
    args = parser.parse_args()
    runs: dict[str, list[tuple[float, float]]] = {"telegram webhook": [], "wechat": []}
    for _ in range(args.rounds):  # interleaved, so drift on the machine hits both
        runs["telegram webhook"].append(
            asyncio.run(telegram_rates(args.messages, args.users, args.concurrency))
        )
        runs["wechat"].append(
            asyncio.run(wechat_rates(args.messages, args.users, args.concurrency))
        )
    medians = {
        name: (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs))
        for name, rs in runs.items()
    }
    print(f"python {platform.python_version()} · {' '.join(sys.argv)}")
    print("| channel | callbacks/s (answered HTTP) | answered/s (reply delivered) |")
    print("| --- | --- | --- |")
    for name, (callbacks, answered) in medians.items():
        print(f"| {name} | {callbacks:.1f} | {answered:.1f} |")
    tg, wx = medians["telegram webhook"], medians["wechat"]
    print(f"| wechat / telegram | {wx[0] / tg[0]:.2f}× | {wx[1] / tg[1]:.2f}× |")


if __name__ == "__main__":
    main()
