"""The postman (投递员), the one way into the outbox: dedupe keys by cause, an event's
rows tagged with it, mentions resolved for the target platform, on both backends."""

from __future__ import annotations

from datetime import datetime

import pytest

from handlers.chat import Mention, Outgoing
from handlers.postman import Postman
from storage.db import Database
from storage.uow import UnitOfWork

pytestmark = pytest.mark.asyncio


async def rows(db: Database) -> list[tuple[str, str, str, str | None, int | None, dict]]:
    """(dedupe key, platform, chat, source event, person, payload) of every row, in order."""
    async with UnitOfWork(db) as uow:
        found = []
        for platform, chat in (("telegram", "t-li"), ("wecom", "w-li"), ("telegram", "group")):
            found += await uow.outbox.recent_for_chat(platform, chat)
        return sorted(
            (m.dedupe_key, m.platform, m.chat_external_id, m.source_event_id, m.person_id,
             m.payload)
            for m in found
        )


async def test_an_events_messages_are_numbered_tagged_and_dm_on_its_platform(
    db: Database, now: datetime
) -> None:
    async with UnitOfWork(db) as uow:
        li = await uow.people.add("李娜", now=now)
        await uow.people.add_account(li.id, "wecom", "w-li", None, now)
        await uow.people.add_account(li.id, "telegram", "t-li", None, now)
        post = Postman.for_event(uow, now, "telegram", 77)
        assert await post.to_chat("telegram", "group", "first")
        assert await post.to_person(li.id, Outgoing("second"))
        assert await post.to_chat("telegram", "group", "apology", "error")
        assert not await post.to_chat("telegram", "group", "again", "error"), "key used"
    found = [row[:5] for row in await rows(db)]
    assert found == [
        ("in:telegram:77:1", "telegram", "group", "77", None),
        ("in:telegram:77:2", "telegram", "t-li", "77", li.id),
        ("in:telegram:77:error", "telegram", "group", "77", None),
    ]


async def test_a_jobs_keys_name_the_job_and_repeat_nothing(db: Database, now: datetime) -> None:
    async with UnitOfWork(db) as uow:
        li = await uow.people.add("李娜", now=now)
        await uow.people.add_account(li.id, "wecom", "w-li", None, now)
        nobody = await uow.people.add("没有账号", now=now)
        post = Postman(uow, now, "nudge:2026-03-02")
        assert await post.to_person(li.id, Outgoing("due"), "i7:u1")
        assert not await post.to_person(li.id, Outgoing("due again"), "i7:u1")
        assert not await post.to_person(nobody.id, Outgoing("due"), "i7:u2"), "no account"
    async with UnitOfWork(db) as uow:  # a second run of the same job: still nothing new
        assert not await Postman(uow, now, "nudge:2026-03-02").to_person(
            li.id, Outgoing("due"), "i7:u1"
        )
    found = await rows(db)
    assert [(key, chat, event, person) for key, _, chat, event, person, _ in found] == [
        ("nudge:2026-03-02:i7:u1", "w-li", None, li.id)
    ]


async def test_mentions_carry_the_account_on_the_target_platform_only(
    db: Database, now: datetime
) -> None:
    async with UnitOfWork(db) as uow:
        li = await uow.people.add("李娜", now=now)
        wang = await uow.people.add("王强", now=now)
        await uow.people.add_account(li.id, "telegram", "t-li", None, now)
        await uow.people.add_account(wang.id, "wecom", "w-wang", None, now)
        out = Outgoing("@李娜 @王强", mentions=[Mention(li.id, "李娜"), Mention(wang.id, "王强")])
        await Postman(uow, now, "ladder").to_chat("telegram", "group", out, "p1")
    [(_, _, _, _, _, payload)] = await rows(db)
    assert [(m["display_name"], m["external_id"]) for m in payload["mentions"]] == [
        ("李娜", "t-li"),
        ("王强", None),
    ]


async def test_an_events_postman_sees_an_account_bound_during_the_event(
    db: Database, now: datetime
) -> None:
    async with UnitOfWork(db) as uow:
        li = await uow.people.add("李娜", now=now)
        post = Postman.for_event(uow, now, "telegram", 78)
        assert not await post.to_person(li.id, "before binding")
        await uow.people.add_account(li.id, "telegram", "t-li", None, now)  # e.g. /start CODE
        assert await post.to_person(li.id, "welcome")
    assert [key for key, *_ in await rows(db)] == ["in:telegram:78:1"]
