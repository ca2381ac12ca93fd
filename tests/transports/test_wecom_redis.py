"""WeCom's limits, token and progress in Redis (DAIBAN_REDIS_URL), against the machine's
Redis at 127.0.0.1:6379 (DAIBAN_TEST_REDIS_URL to change it). Without a Redis the tests
are skipped, and fail under CI=true."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections import Counter
from datetime import timedelta

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.app import SystemClock
from bot.outbox import DeliveryWorker
from bot.transports.base import PermanentError
from bot.transports.wecom_client import WeComApi
from bot.transports.wecom_redis import RedisState
from bot.transports.wecom_state import StoreState
from bot.transports.wecom_transport import WeComTransport
from handlers.chat import Outgoing
from storage.db import Database
from storage.migrate import upgrade
from storage.uow import UnitOfWork
from tests.fakes.fake_wecom import AGENT_ID, CORP_ID, SECRET, FakeWeCom
from tests.needs import missing

REDIS_URL = os.environ.get("DAIBAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MINUTE = 2.0


@pytest.fixture
async def redis():
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        missing(
            f"the Redis tests (no Redis at {REDIS_URL}: {exc})",
            "apt-get install redis-server, or set DAIBAN_TEST_REDIS_URL",
        )
    app = f"test-{secrets.token_hex(6)}"  # engineers and runs share the server: apart
    yield client, app
    async for key in client.scan_iter(f"daiban:wecom:{app}:*"):
        await client.delete(key)
    await client.aclose()


@pytest.fixture
async def db(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'daiban.sqlite3'}"
    await upgrade(url)
    database = Database(url)
    yield database
    await database.dispose()


async def test_redis_admits_whole_messages_and_says_how_long_to_wait(redis, db):
    client, app = redis
    now = [1000.0]
    state = RedisState(client, StoreState(db), app, clock=lambda: now[0])
    limits = [(3, 60.0), (5, 3600.0)]
    assert await state.admit("member:a", limits, 2) == 0
    now[0] += 10
    assert await state.admit("member:a", limits, 2) == pytest.approx(50.0)
    assert await state.admit("member:b", limits, 3) == 0
    now[0] += 51
    assert await state.admit("member:a", limits, 3) == 0
    now[0] += 60
    assert await state.admit("member:a", limits, 1) == pytest.approx(3600 - 121)
    with pytest.raises(PermanentError):
        await state.admit("member:c", limits, 4)
    await state.keep_token("t1", 0.2)
    await state.advance("outbox-7", 2)
    assert (await state.token(), await state.progress("outbox-7")) == ("t1", 2)
    await asyncio.sleep(0.3)
    await state.advance("outbox-7", None)
    assert (await state.token(), await state.progress("outbox-7")) == (None, 0)


async def test_two_replicas_on_redis_send_200_messages_inside_the_limit(redis, db):
    _, app = redis
    fake = FakeWeCom(minute=MINUTE)
    await fake.start()

    async def lang_of(_userid: str) -> str:
        return "zh_CN"

    workers, apis = [], []
    for _ in range(2):
        state = RedisState(Redis.from_url(REDIS_URL), StoreState(db), app)
        api = WeComApi(fake.url, CORP_ID, SECRET, AGENT_ID, tokens=state)
        transport = WeComTransport(
            api, robot_keys={}, lang_of=lang_of, default_lang="zh_CN", state=state, minute=MINUTE
        )
        apis.append((api, state))
        workers.append(
            DeliveryWorker(db, {"wecom": transport}, SystemClock(), lease=timedelta(seconds=30))
        )
    async with UnitOfWork(db) as uow:
        for n in range(200):
            await uow.outbox.enqueue(
                platform="wecom",
                chat_external_id="zhangwei",
                payload=Outgoing(f"第 {n} 条").to_payload(),
                dedupe_key=f"redis-test:{n}",
                now=SystemClock().now(),
            )
    stop = asyncio.Event()
    runs = [asyncio.create_task(w.run_forever(stop, idle=0.05)) for w in workers]
    started = time.monotonic()
    for _ in range(900):
        if len(fake.sent) + len(fake.dropped) >= 200:
            break
        await asyncio.sleep(0.1)
    elapsed = time.monotonic() - started
    stop.set()
    await asyncio.gather(*runs)
    for api, state in apis:
        await api.close()
        await state.close()
    await fake.stop()
    assert fake.violations == 0 and fake.dropped == []
    assert Counter(s.content for s in fake.sent) == Counter(f"第 {n} 条" for n in range(200))
    assert elapsed >= 6 * MINUTE
    assert fake.token_requests <= 2
