"""The database unavailable for 30 s: inbound events are answered with 5xx so the platform
retries them (webhook) or are retried by the bot (polling), and none is lost or handled
twice once the database is back.

The shared PostgreSQL server keeps running: the replicas reach it through a TCP proxy
(`tests/faults/tcp_proxy.py`) that the test cuts and restores. One replica takes a
webhook, the other polls; as the Bot API refuses getUpdates while a webhook is set, each
has its own fake. Both fakes know every chat, since either replica may deliver any
answer from the shared outbox: what a user received is counted over both.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from sqlalchemy.engine import make_url

from storage.db import Database
from tests.fakes.fake_bot_api import FakeBotApi, Limits
from tests.faults.harness import Replica, health_status, read_log, scalar, stop_all, until
from tests.faults.tcp_proxy import TcpProxy
from tests.faults.test_fault_webhook_twice import post, start_update
from tests.transports.conftest import wait_until_polling

OUTAGE = 30.0  # seconds
USERS = 5
WEBHOOK_USER, POLLING_USER = 920_000, 930_000


async def test_inbound_events_survive_30_seconds_without_the_database(
    pg_url: str, db: Database, fake: FakeBotApi, tmp_path
):
    url = make_url(pg_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    via_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    polled = FakeBotApi(token="4343:POLL-token", limits=Limits(None, None, None))
    await polled.start()
    hooked = Replica(tmp_path / "webhook", fake, via_proxy, webhook=True)
    polling = Replica(tmp_path / "polling", polled, via_proxy)
    for replica in (hooked, polling):
        replica.start()
    timeout = aiohttp.ClientTimeout(total=60)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await until(hooked.healthy, "the webhook replica to come up", within=90)
            await until(polling.healthy, "the polling replica to come up", within=90)
            await wait_until_polling(polled, polling)

            def sent_to(user_id: int) -> int:
                return len(fake.sent_to(user_id)) + len(polled.sent_to(user_id))

            async def push(user_id: int) -> None:
                user = polled.user(user_id, f"轮询{user_id}")
                fake.private_chat(user)
                await polled.push_text(user, "/start")

            def webhook_update(update_id: int, user_id: int) -> dict[str, Any]:
                update = start_update(fake, update_id, user_id)
                polled.private_chat(update["message"]["from"])
                return update

            async def settled() -> bool:
                return await scalar(db, "SELECT count(*) FROM outbox WHERE status <> 'sent'") == 0

            # Before the outage: one /start each, to learn what one handling sends.
            assert await post(session, hooked, webhook_update(1, WEBHOOK_USER)) == 200
            await push(POLLING_USER)
            await until(
                lambda: sent_to(WEBHOOK_USER) and sent_to(POLLING_USER),
                "the answers before the outage",
            )
            await until(settled, "the outbox to be delivered", within=60)
            once_hooked, once_polled = sent_to(WEBHOOK_USER), sent_to(POLLING_USER)

            # The line to the database is cut.
            cut_at = time.monotonic()
            proxy.cut()

            async def down() -> bool:
                return await health_status(hooked) == 503

            await until(down, "/healthz to report the database down", within=30)
            # Webhook: each update is refused with 5xx, so Telegram keeps it and retries.
            updates = [webhook_update(2 + n, WEBHOOK_USER + 1 + n) for n in range(USERS)]
            refused = [await post(session, hooked, update) for update in updates]
            assert all(500 <= status < 600 for status in refused), refused

            # Polling: updates arrive in the second half of the outage (the bot's backoff
            # then ends soon after the database is back); the batch is not confirmed.
            await _sleep_until(cut_at + OUTAGE * 2 / 3)
            failures_before = read_log(polling.log).count("telegram polling:")
            for n in range(USERS):
                await push(POLLING_USER + 1 + n)
            await until(
                lambda: read_log(polling.log).count("telegram polling:") > failures_before,
                "the polling replica to fail on the database",
                within=OUTAGE,
            )
            # Telegram's retry of the webhook, still within the outage: refused again.
            again = [await post(session, hooked, update) for update in updates]
            assert all(500 <= status < 600 for status in again), again
            assert time.monotonic() - cut_at < OUTAGE, "the outage checks took too long"
            for n in range(USERS):
                assert not sent_to(WEBHOOK_USER + 1 + n)
                assert not sent_to(POLLING_USER + 1 + n)
            assert proxy.refused > 0

            await _sleep_until(cut_at + OUTAGE)
            proxy.restore()

            # Telegram keeps retrying each webhook update until it gets a 2xx.
            for update in updates:

                async def accepted(update: dict[str, Any] = update) -> bool:
                    return await post(session, hooked, update) == 200

                await until(accepted, "the webhook to accept the update", within=60, step=0.5)

            def answered() -> bool:
                return all(
                    sent_to(WEBHOOK_USER + 1 + n) >= once_hooked
                    and sent_to(POLLING_USER + 1 + n) >= once_polled
                    for n in range(USERS)
                )

            await until(answered, "every update of the outage to be answered", within=120)

            await until(settled, "the outbox to be delivered", within=60)
            assert await health_status(hooked) == 200
            recorded = await scalar(db, "SELECT count(*) FROM inbound_events")
            received = {u: sent_to(u) for u in range(WEBHOOK_USER + 1, WEBHOOK_USER + 1 + USERS)}
            received |= {u: sent_to(u) for u in range(POLLING_USER + 1, POLLING_USER + 1 + USERS)}
            # The handlers' "sorry, something went wrong" (keyed ``in:…:error``).
            apologies = await scalar(
                db, "SELECT count(*) FROM outbox WHERE dedupe_key LIKE :key", key="in:%:error"
            )
    finally:
        await stop_all(hooked, polling)
        await polled.stop()
        await proxy.stop()
    for replica in (hooked, polling):
        assert replica.proc is not None and replica.proc.returncode == 0, replica.output()

    # Nothing lost, nothing twice, no apology for a failure the user did not cause.
    assert received == {u: once_hooked if u < POLLING_USER else once_polled for u in received}
    assert apologies == 0
    assert recorded == 2 * (USERS + 1)


async def _sleep_until(moment: float) -> None:
    """Let the outage last its set time (the fault's duration, not a synchronisation)."""
    await asyncio.sleep(max(0.0, moment - time.monotonic()))
