"""Ladders stored before `domain/ladder.py` still load (issue 15): an escalation
snapshot without the acknowledgement fields, read back through the `projects.escalation`
column on both backends, and a project without one, which falls back to the scheme."""

from __future__ import annotations

from datetime import datetime

import pytest

from domain.application import project_snapshot
from domain.ladder import Ladder, ladders_by_project
from domain.scheme_loader import load_scheme
from storage.db import Database
from storage.uow import UnitOfWork

pytestmark = pytest.mark.asyncio

# As the first releases wrote it: no ack_timeout_workdays / ack_suppresses_workdays.
OLD_ESCALATION = [
    {
        "level": 1,
        "name": {"zh": "日常调度", "en": "Weekly routine dispatch"},
        "dispatcher": {"zh": "区重大项目中心", "en": "District Major Projects Centre"},
        "notify_roles": ["butler", "office"],
        "threshold_workdays_overdue": 1,
    },
    {
        "level": 2,
        "name": {"zh": "专题调度", "en": "Topic dispatch"},
        "dispatcher": {"zh": "区住建委", "en": "District Housing Commission"},
        "notify_roles": ["butler", "office", "leader"],
        "threshold_workdays_overdue": 3,
    },
]


async def test_stored_ladders_old_and_new_load_through_the_escalation_column(
    db: Database, now: datetime
) -> None:
    scheme = load_scheme("tongzhou")
    snapshots = {
        "old": {"escalation": OLD_ESCALATION, "checklist": []},
        "new": project_snapshot(scheme, "industrial"),
        "bare": {},
    }
    async with UnitOfWork(db) as uow:
        ids = {
            name: (
                await uow.projects.add(
                    code=f"P-{name}", name=name, category="industrial", stage="approval",
                    status="active", snapshot=snapshot, created_at=now,
                )
            ).id
            for name, snapshot in snapshots.items()
        }
    async with UnitOfWork(db) as uow:
        ladders = ladders_by_project(await uow.due.ladders(list(ids.values())), scheme)
    old = ladders[ids["old"]]
    assert [r.level for r in old.rungs] == [1, 2]
    assert [(r.ack_timeout_workdays, r.ack_suppresses_workdays) for r in old.rungs] == [
        (1, 2),
        (1, 2),
    ]
    assert old.rung_for_overdue(3) == old.top and old.top.notify_roles[-1] == "leader"
    assert ladders[ids["new"]] == Ladder.from_scheme(scheme.escalation)
    assert ladders[ids["bare"]] == Ladder.from_scheme(scheme.escalation)
