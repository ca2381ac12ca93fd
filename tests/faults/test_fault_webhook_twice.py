"""The same Telegram update delivered twice, to two replicas in webhook mode (two
`daiban run` processes on different ports, one PostgreSQL): it is handled once.

Telegram redelivers an update whose webhook call it thinks failed, and behind a load
balancer the second try may reach another replica, even while the first is still busy
with it. The inbound record (``inbound_events``), written in the handler's transaction,
lets exactly one of them handle it; the other acknowledges and ignores it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import aiohttp

from storage.db import Database
from tests.fakes.fake_bot_api import FakeBotApi
from tests.faults.harness import WEBHOOK_SECRET, Replica, rows, scalar, stop_all, until

USERS = 20
FIRST_USER = 910_000
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def start_update(fake: FakeBotApi, update_id: int, user_id: int) -> dict[str, Any]:
    """A private ``/start`` from a new user, as the Bot API posts it to a webhook."""
    user = fake.user(user_id, f"用户{user_id}")
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": user,
            "chat": fake.private_chat(user),
            "date": int(time.time()),
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def post(session: aiohttp.ClientSession, replica: Replica, update: dict[str, Any]) -> int:
    headers = {SECRET_HEADER: WEBHOOK_SECRET}
    async with session.post(replica.webhook_url, json=update, headers=headers) as resp:
        return resp.status


async def test_an_update_delivered_to_two_webhook_replicas_is_handled_once(
    pg_url: str, db: Database, fake: FakeBotApi, tmp_path
):
    a = Replica(tmp_path / "a", fake, pg_url, webhook=True)
    b = Replica(tmp_path / "b", fake, pg_url, webhook=True)
    assert a.web_port != b.web_port
    for replica in (a, b):
        replica.start()
    try:
        for replica in (a, b):
            await until(replica.healthy, "the replica to come up", within=90)
        control = start_update(fake, 5_000, FIRST_USER)
        twice = [start_update(fake, 5_001 + n, FIRST_USER + 1 + n) for n in range(USERS)]
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            # Once, for comparison: what one handling of /start sends.
            assert await post(session, a, control) == 200
            # Each of the others at both replicas at the same moment, then again at each.
            concurrent = await asyncio.gather(
                *(post(session, r, update) for update in twice for r in (a, b))
            )
            again = [await post(session, r, update) for update in twice for r in (b, a)]
        assert set(concurrent) == set(again) == {200}

        async def delivered() -> bool:
            left = await scalar(db, "SELECT count(*) FROM outbox WHERE status <> 'sent'")
            return (
                left == 0
                and fake.sent_to(FIRST_USER)
                and all(fake.sent_to(FIRST_USER + 1 + n) for n in range(USERS))
            )

        await until(delivered, "the answers to be delivered", within=120)
        handled = await rows(
            db,
            "SELECT source_event_id, count(*) FROM outbox WHERE platform = 'telegram'"
            " GROUP BY source_event_id",
        )
    finally:
        await stop_all(a, b)
    for replica in (a, b):
        assert replica.proc is not None and replica.proc.returncode == 0, replica.output()

    once = len(fake.sent_to(FIRST_USER))
    assert once >= 1
    for n in range(USERS):
        assert len(fake.sent_to(FIRST_USER + 1 + n)) == once, fake.sent_to(FIRST_USER + 1 + n)
    replies = Counter({str(event): int(count) for event, count in handled})
    expected = {str(u["update_id"]): replies[str(control["update_id"])] for u in twice}
    assert {event: replies[event] for event in expected} == expected
    recorded = await scalar(
        db, "SELECT count(*) FROM inbound_events WHERE event_id::int BETWEEN 5000 AND 5020"
    )
    assert recorded == USERS + 1
    people = await scalar(db, "SELECT count(*) FROM events WHERE kind = 'person.first_contact'")
    assert people == USERS + 1
