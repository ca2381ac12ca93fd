"""Delivery through the outbox to the fake Bot API: 1,000 messages to 50 chats and 5
groups, within the limits, in order per chat, through a 429 storm and through `kill -9`."""

from __future__ import annotations

import signal
from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.outbox import FAILURE_NOTICE
from handlers.chat import Outgoing
from handlers.i18n import gettext
from storage.db import Database
from storage.models import OutboxMessage
from storage.uow import UnitOfWork
from tests.fakes.fake_bot_api import FakeBotApi, Limit, Limits, Sent
from tests.transports.conftest import DaibanProcess, wait_until_polling

USERS = [3001 + i for i in range(50)]
GROUPS = [-200_001 - i for i in range(5)]
CHATS = USERS + GROUPS
TOTAL = 1000


def register_chats(fake: FakeBotApi) -> None:
    for user_id in USERS:
        fake.private_chat(fake.user(user_id, f"u{user_id}"))
    for number, group_id in enumerate(GROUPS):
        fake.group_chat(group_id, f"项目群{number}")


async def enqueue_burst(db_url: str, total: int = TOTAL, chats: list[int] = CHATS) -> None:
    """`total` messages, round robin over the chats, numbered per chat; some bold, some
    with a button."""
    db = Database(db_url)
    now = datetime.now(UTC)
    try:
        async with UnitOfWork(db) as uow:
            seq: dict[int, int] = defaultdict(int)
            for i in range(total):
                chat = chats[i % len(chats)]
                text = f"**通知** {chat} #{seq[chat]:04d}"
                payload = Outgoing(text).to_payload()
                if i % 7 == 0:
                    payload["buttons"] = [[{"label": "查看", "payload": f"item:{i}"}]]
                await uow.outbox.enqueue(
                    platform="telegram",
                    chat_external_id=str(chat),
                    payload=payload,
                    dedupe_key=f"burst:{i}",
                    now=now,
                )
                seq[chat] += 1
    finally:
        await db.dispose()


def numbers_by_chat(sent: list[Sent]) -> dict[int, list[int]]:
    seen: dict[int, list[int]] = defaultdict(list)
    for message in sent:
        if "#" in message.text:
            seen[message.chat_id].append(int(message.text.rsplit("#", 1)[1]))
    return seen


async def status_counts(db_url: str) -> dict[str, int]:
    db = Database(db_url)
    try:
        async with UnitOfWork(db) as uow:
            rows = await uow.session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )
            return {status: count for status, count in rows.all()}
    finally:
        await db.dispose()


async def test_burst_within_limits_in_order_through_a_429_storm(fake, tmp_path):
    register_chats(fake)
    office_chat, blocked_chat = 3999, 4000
    fake.private_chat(fake.user(office_chat, "赵敏"))
    fake.blocked.add(blocked_chat)
    daiban = DaibanProcess(tmp_path, fake, "aiogram")
    daiban.upgrade()
    db = Database(daiban.db_url)
    async with UnitOfWork(db) as uow:
        now = datetime.now(UTC)
        office = await uow.people.add("赵敏", roles=[("office", None)], now=now)
        await uow.people.add_account(office.id, "telegram", str(office_chat), "赵敏", now=now)
        await uow.outbox.enqueue(
            platform="telegram",
            chat_external_id=str(blocked_chat),
            payload=Outgoing("您的材料已受理").to_payload(),
            dedupe_key="to-blocked",
            now=now,
        )
    await db.dispose()

    def storm(sent: Sent) -> None:
        if len(fake.sent) == 150:  # in full flow: 40 × 429, then 5 × 500 and 2 hangs
            fake.inject("429", 40, retry_after=1)
            fake.inject("500", 5)
            fake.inject("timeout", 2, hang=3)

    fake.on_sent.append(storm)
    daiban.start()
    try:
        await wait_until_polling(fake, daiban)
        await enqueue_burst(daiban.db_url)
        burst = [s for s in fake.sent if s.chat_id in CHATS]
        await fake.wait_for(
            lambda: len([s for s in fake.sent if s.chat_id in CHATS]) >= TOTAL, within=150
        )
        notices = await fake.wait_for(lambda: fake.sent_to(office_chat), within=20)
    finally:
        daiban.stop()
    burst = [s for s in fake.sent if s.chat_id in CHATS]
    assert len(burst) == TOTAL
    assert fake.violations == 0
    assert fake.injected == {"429": 40, "500": 5, "timeout": 2}
    for chat, numbers in numbers_by_chat(burst).items():
        assert numbers == list(range(len(numbers))), chat
    assert sum(len(n) for n in numbers_by_chat(burst).values()) == TOTAL
    # The blocked chat's message failed; the office heard about it once.
    expected = gettext("zh_CN", FAILURE_NOTICE).split("{", 1)[0]
    assert len(notices) == 1 and notices[0].text.startswith(expected)
    assert await status_counts(daiban.db_url) == {"sent": TOTAL + 1, "failed": 1}


async def test_kill_9_mid_burst_then_restart_loses_nothing(tmp_path):
    limits = Limits(overall=Limit(100, 1.0), per_chat=Limit(10, 1.0), per_group=Limit(20, 60.0))
    fake = FakeBotApi(limits=limits)
    await fake.start()
    register_chats(fake)
    daiban = DaibanProcess(
        tmp_path,
        fake,
        "ptb",
        DAIBAN_TELEGRAM_RATE_GLOBAL="100",
        DAIBAN_TELEGRAM_RATE_CHAT="10",
        DAIBAN_TELEGRAM_RATE_GROUP="20",
    )

    def kill_at_300(sent: Sent) -> None:
        if len(fake.sent) == 300 and daiban.alive():
            assert daiban.proc is not None
            daiban.proc.send_signal(signal.SIGKILL)

    fake.on_sent.append(kill_at_300)
    try:
        daiban.upgrade()
        daiban.start()
        await wait_until_polling(fake, daiban)
        await enqueue_burst(daiban.db_url)
        await fake.wait_for(lambda: not daiban.alive(), within=60)
        assert daiban.proc is not None and daiban.proc.returncode == -signal.SIGKILL
        delivered_before = len(fake.sent)
        assert delivered_before < TOTAL
        polls = sum(1 for m, _ in fake.calls if m == "getupdates")
        daiban.start()
        await wait_until_polling(fake, daiban, since=polls)
        await fake.wait_for(
            lambda: len({s.text for s in fake.sent}) >= TOTAL or not daiban.alive(), within=90
        )
    finally:
        daiban.stop()
        await fake.stop()
    unique = {s.text for s in fake.sent}
    duplicates = len(fake.sent) - len(unique)
    print(f"kill -9 after {delivered_before} sent: {len(unique)} unique, {duplicates} duplicates")
    assert len(unique) == TOTAL, daiban.output()[-3000:]
    # Only a message whose send succeeded right before the kill can come twice: at most one
    # per chat (a chat's lane has one send in flight).
    assert duplicates <= len(CHATS)
    assert fake.violations == 0
    for chat, numbers in numbers_by_chat(fake.sent).items():
        first_seen = list(dict.fromkeys(numbers))
        assert first_seen == sorted(first_seen) == list(range(len(first_seen))), chat
    assert await status_counts(daiban.db_url) == {"sent": TOTAL}
