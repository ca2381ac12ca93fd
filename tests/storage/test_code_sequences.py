"""Codes that never collide (编号不重复): twenty offices accepting at the same moment get
twenty different project codes, on SQLite and on PostgreSQL; a rolled-back accept hands its
number back; codes issued before sequences existed are counted once."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from domain.application import project_code
from storage.db import Database
from storage.uow import UnitOfWork

pytestmark = pytest.mark.asyncio

ACCEPTS = 20


async def _accept(db: Database, now: datetime, n: int) -> str:
    """What the office's accept does with codes, in its own transaction."""
    async with UnitOfWork(db) as uow:
        prefix = "P2026-"
        seq = await uow.sequences.next(
            prefix, issued_before=await uow.projects.count_codes(prefix)
        )
        await asyncio.sleep(0.005)  # let every other accept reach its read
        project = await uow.projects.add(
            code=project_code(2026, seq), name=f"项目{n}", category="building",
            stage="project_approval", status="accepted", accepted_at=now, created_at=now,
        )
        return project.code


async def test_twenty_concurrent_accepts_get_twenty_codes(db: Database, now: datetime) -> None:
    codes = await asyncio.gather(*(_accept(db, now, n) for n in range(ACCEPTS)))
    assert sorted(codes) == [project_code(2026, n) for n in range(1, ACCEPTS + 1)]
    async with UnitOfWork(db) as uow:
        assert await uow.projects.count_codes("P2026-") == ACCEPTS


async def test_a_rolled_back_accept_hands_its_number_back(db: Database, now: datetime) -> None:
    with pytest.raises(RuntimeError):
        async with UnitOfWork(db) as uow:
            assert await uow.sequences.next("P2026-") == 1
            raise RuntimeError("the accept failed after taking a number")
    assert await _accept(db, now, 1) == "P2026-0001"


async def test_codes_issued_before_sequences_are_counted_once(
    db: Database, now: datetime
) -> None:
    async with UnitOfWork(db) as uow:
        for n in (1, 2, 3):
            await uow.projects.add(
                code=project_code(2026, n), name=f"旧项目{n}", category="building",
                stage="project_approval", status="accepted", created_at=now,
            )
    assert await _accept(db, now, 4) == "P2026-0004"
    assert await _accept(db, now, 5) == "P2026-0005"
    async with UnitOfWork(db) as uow:  # another year starts at one
        assert await uow.sequences.next("P2027-") == 1
