"""Bulk rows for the fault tests (故障测试数据): people with Telegram accounts, projects and
checklist items, written straight into a migrated database in a few INSERTs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select

from domain.application import project_snapshot
from domain.scheme_loader import load_scheme
from storage.db import Database
from storage.models import Account, ChecklistItem, Person, PersonRole, Project

CREATED = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
FIRST_USER_ID = 700_000  # Telegram user ids of seeded people start here
ITEM_NAME = re.compile(r"事项P\d{5}N\d{3}")  # how an item name shows in a message


@dataclass(frozen=True)
class Seeded:
    person_id: int
    user_id: int  # the Telegram user id (= private chat id)
    name: str


async def add_people(db: Database, role: str, count: int, first_user_id: int) -> list[Seeded]:
    """``count`` people holding ``role``, each with a Telegram account (zh_CN)."""
    people = [Seeded(0, first_user_id + n, f"{role}{n:04d}") for n in range(count)]
    async with db.sessionmaker() as session, session.begin():
        ids = (
            (
                await session.execute(
                    insert(Person).returning(Person.id),
                    [{"name": p.name, "lang": "zh_CN", "created_at": CREATED} for p in people],
                    execution_options={"sort_by_parameter_order": True},
                )
            )
            .scalars()
            .all()
        )
        people = [Seeded(pid, p.user_id, p.name) for pid, p in zip(ids, people, strict=True)]
        await session.execute(
            insert(PersonRole), [{"person_id": p.person_id, "role": role} for p in people]
        )
        await session.execute(
            insert(Account),
            [
                {
                    "person_id": p.person_id,
                    "platform": "telegram",
                    "external_id": str(p.user_id),
                    "display_name": p.name,
                    "created_at": CREATED,
                }
                for p in people
            ],
        )
    return people


async def add_projects(db: Database, count: int, prefix: str = "F") -> list[int]:
    """``count`` live (accepted) projects with the Tongzhou building snapshot; their ids."""
    snapshot = project_snapshot(load_scheme("tongzhou"), "building")
    async with db.sessionmaker() as session, session.begin():
        ids = (
            (
                await session.execute(
                    insert(Project).returning(Project.id),
                    [
                        {
                            "code": f"{prefix}-{n:05d}",
                            "name": f"故障测试项目{prefix}{n:05d}",
                            "category": "building",
                            "stage": "planning_permit",
                            "status": "accepted",
                            "snapshot": snapshot,
                            "created_at": CREATED,
                        }
                        for n in range(count)
                    ],
                    execution_options={"sort_by_parameter_order": True},
                )
            )
            .scalars()
            .all()
        )
    return list(ids)


async def add_items(db: Database, rows: list[dict[str, Any]], chunk: int = 2000) -> None:
    """Checklist items from ``rows`` (project_id, name_zh, assignee_id, due_on, …)."""
    base = {
        "stage": "planning_permit",
        "limit_workdays": 10,
        "prerequisites": [],
        "state": "in_review",
        "department_id": None,
    }
    async with db.sessionmaker() as session, session.begin():
        for start in range(0, len(rows), chunk):
            batch = [
                base | {"code": f"item{start + n}", "name_en": row["name_zh"]} | row
                for n, row in enumerate(rows[start : start + chunk])
            ]
            await session.execute(insert(ChecklistItem), batch)


def item_rows(
    projects: list[int], per_project: int, due_on: date, assignees: list[int] | None = None
) -> list[dict[str, Any]]:
    """``per_project`` items in each project, all due on ``due_on``, named uniquely
    (``事项P<project>N<n>``, see `ITEM_NAME`); with ``assignees``, assigned round-robin."""
    rows: list[dict[str, Any]] = []
    for project_id in projects:
        for n in range(per_project):
            row: dict[str, Any] = {
                "project_id": project_id,
                "name_zh": f"事项P{project_id:05d}N{n:03d}",
                "due_on": due_on,
                "sort": n,
            }
            if assignees:
                row["assignee_id"] = assignees[len(rows) % len(assignees)]
            rows.append(row)
    return rows


async def item_names(db: Database) -> dict[int, str]:
    """Every item's Chinese name by id."""
    async with db.sessionmaker() as session:
        rows = await session.execute(select(ChecklistItem.id, ChecklistItem.name_zh))
        return {int(i): str(n) for i, n in rows}
