"""`ChatRepo.register`: a chat seen for the first time is registered, a renamed group keeps
its new name, and an event without a title leaves the name alone, in one statement."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from storage.db import Database
from storage.uow import UnitOfWork

pytestmark = pytest.mark.asyncio


async def test_register_creates_renames_and_keeps(db: Database, now: datetime) -> None:
    async with UnitOfWork(db) as uow:
        await uow.chats.register("telegram", "-100", "group", "项目群", now)
        await uow.chats.register("telegram", "7", "dm", None, now)
    async with UnitOfWork(db) as uow:
        group = await uow.chats.get("telegram", "-100")
        direct = await uow.chats.get("telegram", "7")
        assert group is not None and (group.kind, group.title) == ("group", "项目群")
        assert direct is not None and direct.title is None
        first_id = group.id
    later = now + timedelta(days=1)
    async with UnitOfWork(db) as uow:
        await uow.chats.register("telegram", "-100", "group", "项目群（新）", later)
        await uow.chats.register("telegram", "-100", "group", None, later)
    async with UnitOfWork(db) as uow:
        group = await uow.chats.get("telegram", "-100")
        assert group is not None
        assert (group.id, group.title, group.created_at) == (first_id, "项目群（新）", now)
