"""Two replicas on PostgreSQL share WeCom's limits through the store (issue 16 point 7).

The fake WeCom drops over-limit messages silently, as WeCom does, so a breach shows only
as a message that never arrived; here nothing may be dropped and nothing lost.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app import SystemClock
from bot.outbox import DeliveryWorker
from bot.transports.base import TransientError
from bot.transports.wecom_client import WeComApi
from bot.transports.wecom_state import StoreState
from bot.transports.wecom_transport import WeComTransport
from handlers.chat import Outgoing
from storage.db import Database
from storage.migrate import upgrade
from storage.models import OutboxMessage
from storage.uow import UnitOfWork
from tests.fakes.fake_wecom import AGENT_ID, CORP_ID, SECRET, FakeWeCom
from tests.pg import pg_admin_url, scratch_pg_database

MINUTE = 2.0  # WeCom's minute, shortened alike for the fake and the transport
MESSAGES = 200


@pytest.fixture
async def pg_url():
    async with scratch_pg_database(pg_admin_url(), prefix="daiban_wecom") as url:
        await upgrade(url)
        yield url


@pytest.fixture
async def fake():
    server = FakeWeCom(minute=MINUTE)
    await server.start()
    yield server
    await server.stop()


def replica(db: Database, fake: FakeWeCom) -> tuple[DeliveryWorker, WeComApi]:
    state = StoreState(db)
    api = WeComApi(fake.url, CORP_ID, SECRET, AGENT_ID, tokens=state)

    async def lang_of(_userid: str) -> str:
        return "zh_CN"

    transport = WeComTransport(
        api, robot_keys={}, lang_of=lang_of, default_lang="zh_CN", state=state, minute=MINUTE
    )
    worker = DeliveryWorker(db, {"wecom": transport}, SystemClock(), lease=timedelta(seconds=30))
    return worker, api


async def test_two_replicas_send_200_messages_to_one_member_inside_30_a_minute(pg_url, fake):
    dbs = [Database(pg_url), Database(pg_url)]
    replicas = [replica(db, fake) for db in dbs]
    async with UnitOfWork(dbs[0]) as uow:
        for n in range(MESSAGES):
            await uow.outbox.enqueue(
                platform="wecom",
                chat_external_id="zhangwei",
                payload=Outgoing(f"第 {n} 条提醒").to_payload(),
                dedupe_key=f"replica-test:{n}",
                now=SystemClock().now(),
            )
    stop = asyncio.Event()
    runs = [asyncio.create_task(w.run_forever(stop, idle=0.05)) for w, _ in replicas]
    started = time.monotonic()
    try:
        for _ in range(900):  # at most 90 s
            if len(fake.sent) + len(fake.dropped) >= MESSAGES:
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.gather(*runs)
        for _, api in replicas:
            await api.close()
    elapsed = time.monotonic() - started
    async with UnitOfWork(dbs[0]) as uow:
        statuses = dict(
            (
                await uow.session.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                )
            ).all()
        )
    for db in dbs:
        await db.dispose()
    texts = Counter(s.content for s in fake.sent)
    assert fake.violations == 0 and fake.dropped == []
    assert texts == Counter(f"第 {n} 条提醒" for n in range(MESSAGES))  # each once, none lost
    assert statuses == {"sent": MESSAGES}
    # 200 at 30 a (shortened) minute need at least 6 full windows; the pace kept close.
    assert elapsed >= 6 * MINUTE
    assert fake.token_requests <= 2  # one token shared through the store (two at a race)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def any_url(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'daiban.sqlite3'}"
        await upgrade(url)
        yield url
        return
    async with scratch_pg_database(pg_admin_url(), prefix="daiban_wecom") as url:
        await upgrade(url)
        yield url


async def test_a_message_in_parts_resumes_on_another_replica_without_repeating_a_part(
    any_url, fake
):
    db = Database(any_url)
    (first, api1), (second, api2) = replica(db, fake), replica(db, fake)
    text = "\n".join(f"第 {n} 行：" + "请补充材料。" * 40 for n in range(8))  # over 2048 bytes
    payload = Outgoing(text).to_payload()
    transport1 = first.transports["wecom"]
    transport2 = second.transports["wecom"]
    sent_before = len(fake.sent)
    # Part 1 goes out, part 2 meets a 503: the row would be retried later …
    calls = {"n": 0}
    original = api1.send_message

    async def flaky(body):
        calls["n"] += 1
        if calls["n"] == 2:
            raise TransientError("WeCom message/send: HTTP 503")
        return await original(body)

    api1.send_message = flaky  # type: ignore[method-assign]
    with pytest.raises(TransientError):
        await transport1.send_row(41, "zhangwei", payload)
    assert len(fake.sent) == sent_before + 1
    # … by the other replica, which sends only what is left.
    await transport2.send_row(41, "zhangwei", payload)
    parts = [s.content for s in fake.to("zhangwei")]
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    assert len(parts) == len(set(parts))  # no part twice
    await api1.close()
    await api2.close()
    await db.dispose()
