"""A member the messenger cannot reach (WeCom's invaliduser / 60111), on both backends:
the account is marked unreachable and the office told once, not at every message."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.outbox import NOTICE_PREFIX, DeliveryWorker
from bot.transports.base import PermanentError, Unreachable
from domain.clock import FakeClock
from storage.db import Database
from storage.models import Account, OutboxMessage
from storage.uow import UnitOfWork

pytestmark = pytest.mark.asyncio


class LeftTheOrganisation:
    platform = "wecom"

    async def send(self, chat_external_id: str, payload: dict) -> None:
        if chat_external_id == "gone":
            raise Unreachable("WeCom message/send: errcode 60111 (userid not found)")
        if chat_external_id == "broken":
            raise PermanentError("WeCom message/send: errcode 40008 (invalid message type)")


async def test_an_unreachable_member_is_marked_and_the_office_told_once(
    db: Database, now: datetime
) -> None:
    async with UnitOfWork(db) as uow:
        office = await uow.people.add("王芳", roles=[("office", None)], now=now)
        await uow.people.add_account(office.id, "wecom", "wangfang", "王芳", now=now)
        gone = await uow.people.add("赵强", roles=[("specialist", None)], now=now)
        await uow.people.add_account(gone.id, "wecom", "gone", "赵强", now=now)
        for n, chat in enumerate(["gone", "gone", "gone", "broken"]):
            await uow.outbox.enqueue(
                platform="wecom",
                chat_external_id=chat,
                payload={"text": f"第 {n} 条", "buttons": [], "mentions": []},
                dedupe_key=f"t:{n}",
                now=now,
            )
    worker = DeliveryWorker(
        db, {"wecom": LeftTheOrganisation()}, FakeClock(now), lease=timedelta(minutes=2)
    )
    await worker.drain()
    async with UnitOfWork(db) as uow:
        notices = list(
            (
                await uow.session.execute(
                    select(OutboxMessage.payload).where(
                        OutboxMessage.dedupe_key.startswith(NOTICE_PREFIX)
                    )
                )
            ).scalars()
        )
        marked = await uow.session.scalar(
            select(Account.unreachable_since).where(Account.external_id == "gone")
        )
        failed = list(
            (
                await uow.session.execute(
                    select(OutboxMessage.dedupe_key).where(OutboxMessage.status == "failed")
                )
            ).scalars()
        )
    texts = [p["text"] for p in notices]
    assert marked is not None
    unreachable = [t for t in texts if "已无法通过企业微信联系到赵强" in t]
    assert len(unreachable) == 1 and "60111" in unreachable[0]
    # The other permanent failure keeps its own notice; the three to "gone" add no more.
    assert len(texts) == 2, texts
    assert sorted(failed) == ["t:0", "t:1", "t:2", "t:3"]
