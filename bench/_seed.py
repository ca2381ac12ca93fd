"""Bulk seeding for the benchmarks (基准数据): N projects, M items, L leaders, fast.

Rows are generated in Python from one seeded `random.Random` (so SQLite and PostgreSQL get
the same data) and written without the ORM: `sqlite3.executemany` on SQLite, `COPY`
(asyncpg's ``copy_records_to_table``) on PostgreSQL. A million items take seconds.

    async with scratch_database("postgresql", admin_url) as url:   # or "sqlite"
        stats = await seed(url, projects=10_000, items=300_000, leaders=100)

The data is a district in its steady state on ``today`` (a working day), as if the bot had
run the day before: most items done or not started yet, a fifth running (due from ten
days ago to two months ahead), a twentieth paused for 补正; every item overdue since
yesterday is listed on its project's one problem (问题按项目归并), at the level the daily
rounds would have raised it to for its oldest item (thresholds, then at most one rung of
silence; a fifth acknowledged), and
yesterday's nudge, and a third of those nudged have since been touched by their
specialist. 3% of projects are completed. Each project has a butler, a specialist with a
backup in the same department, and a bound group chat; everyone has a DM account.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _procs import scratch_pg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from domain.application import project_snapshot
from domain.calendar import WorkCalendar
from domain.ladder import Ladder, project_ladder
from domain.scheme import Scheme
from domain.scheme_loader import load_scheme
from storage.migrate import upgrade

TODAY = date(2026, 10, 13)  # a Tuesday, an ordinary working day
TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
NUDGE_EVENT = "item.nudged"
CLOSED_SHARE = 0.03


@dataclass
class Seeded:
    """What was written (row counts by table) and the ids a benchmark may need."""

    counts: dict[str, int] = field(default_factory=dict)
    leader_ids: list[int] = field(default_factory=list)


def local(day: date, at: time) -> datetime:
    """``day`` at ``at`` in the district's time zone, as an aware datetime."""
    return datetime.combine(day, at, TZ)


# -- scratch databases ----------------------------------------------------------------------
@contextlib.asynccontextmanager
async def scratch_database(backend: str, pg_admin_url: str | None = None) -> AsyncIterator[str]:
    """A migrated, empty database: a SQLite file in a temporary directory, or a PostgreSQL
    database ``daiban_bench_<random>`` next to ``pg_admin_url``; removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            await upgrade(url)
            yield url
        return
    admin = pg_admin_url or os.environ.get("DAIBAN_TEST_POSTGRES_URL") or DEFAULT_PG_ADMIN
    async with scratch_pg(admin) as url:
        await upgrade(url)
        yield url


# -- writers --------------------------------------------------------------------------------
def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


class _Writer:
    """Appends rows to tables: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.sqlite = self.url.get_backend_name() == "sqlite"
        self.counts: dict[str, int] = {}
        self._con: sqlite3.Connection | None = None
        self._engine: Any = None
        self._conn: Any = None

    async def __aenter__(self) -> _Writer:
        if self.sqlite:
            self._con = sqlite3.connect(self.url.database or "")
        else:
            self._engine = create_async_engine(self.url, poolclass=NullPool)
            self._conn = await self._engine.connect()
            raw = await self._conn.get_raw_connection()
            self._pg = raw.driver_connection
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._con is not None:
            self._con.commit()
            self._con.close()
        if self._conn is not None:
            if exc[0] is None:
                # Explicit ids were written: move each id sequence past them, then let the
                # planner see the real sizes (autovacuum would, a while later).
                for table in self.counts:
                    await self._pg.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT max(id) FROM {table}))"
                    )
                await self._pg.execute("ANALYZE")
            await self._conn.close()
            await self._engine.dispose()

    async def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> int:  # type: ignore[type-arg]
        rows = list(rows)
        if not rows:
            return 0
        if self._con is not None:
            marks = ", ".join("?" for _ in columns)
            self._con.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                ([_sqlite_value(v) for v in row] for row in rows),
            )
        else:
            encoded = [
                tuple(
                    json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
                    for v in row
                )
                for row in rows
            ]
            await self._pg.copy_records_to_table(table, records=encoded, columns=list(columns))
        self.counts[table] = self.counts.get(table, 0) + len(rows)
        return len(rows)


def _ladder_history(ladder: Ladder, late: int) -> tuple[int, int, int] | None:
    """An unacknowledged problem whose oldest item is ``late`` working days overdue, as the
    daily rounds leave it (`Ladder.standing`): (level, working day it was opened, working
    day it was last raised)."""
    level = opened = raised = 0
    for k in range(1, late + 1):
        if not level:
            rung = ladder.rung_for_overdue(k)
            if rung is not None:
                level, opened, raised = rung.level, k, k
            continue
        moved = ladder.standing(level, k, k - raised)
        if moved is not None:
            level, raised = moved.level, k
    return (level, opened, raised) if level else None


# -- the district ---------------------------------------------------------------------------
async def seed(
    url: str,
    *,
    projects: int,
    items: int,
    leaders: int = 0,
    today: date = TODAY,
    scheme: Scheme | None = None,
    calendar: WorkCalendar | None = None,
    seed_value: int = 7,
) -> Seeded:
    """Write a steady-state district of ``projects`` projects, ``items`` checklist items
    and ``leaders`` leaders (plus butlers, specialists, office) into the migrated, empty
    database at ``url``."""
    rng = random.Random(seed_value)
    scheme = scheme or load_scheme("tongzhou")
    calendar = calendar or WorkCalendar()
    yesterday = calendar.add_workdays(today, -1)
    stamp = local(yesterday, time(9, 30))
    long_ago = local(today - timedelta(days=400), time(9))
    out = Seeded()
    depts = [d.id for d in scheme.departments]
    stages = [s.id for s in scheme.stages]
    snapshot = project_snapshot(scheme, "building")
    ladder = project_ladder(snapshot.get("escalation"), scheme)

    async with _Writer(url) as w:
        await w.write(
            "departments",
            ("id", "code", "name_zh", "name_en"),
            ((i + 1, d.id, d.name.zh, d.name.en) for i, d in enumerate(scheme.departments)),
        )
        # People: specialists, butlers, office, leaders; one role and one DM account each.
        n_spec = max(20, projects // 5)
        n_butler = max(5, projects // 20)
        roles: list[tuple[int, str, int | None]] = []
        pid = 0
        for _ in range(n_spec):
            pid += 1
            roles.append((pid, "specialist", 1 + pid % len(depts)))
        for _ in range(n_butler):
            pid += 1
            roles.append((pid, "butler", None))
        for _ in range(3):
            pid += 1
            roles.append((pid, "office", None))
        for _ in range(leaders):
            pid += 1
            roles.append((pid, "leader", None))
            out.leader_ids.append(pid)
        await w.write(
            "persons",
            ("id", "name", "lang", "active", "created_at"),
            (
                (p, f"{role}{p}", "en" if p % 10 == 0 else "zh_CN", True, long_ago)
                for p, role, _ in roles
            ),
        )
        await w.write(
            "person_roles",
            ("id", "person_id", "role", "department_id"),
            ((p, p, role, dept) for p, role, dept in roles),
        )
        await w.write(
            "accounts",
            ("id", "person_id", "platform", "external_id", "created_at"),
            ((p, p, "telegram", str(1_000_000 + p), long_ago) for p, _, _ in roles),
        )

        # Projects, each with a group chat and a team (butler, specialist, backup).
        live: list[bool] = []
        project_rows = []
        for p in range(1, projects + 1):
            closed = rng.random() < CLOSED_SHARE
            live.append(not closed)
            accepted = (
                local(yesterday, time(10)) if p % 200 == 0 else long_ago + timedelta(days=p % 300)
            )
            project_rows.append(
                (
                    p,
                    f"B-{p:06d}",
                    f"项目{p}",
                    "building",
                    stages[p % len(stages)],
                    "completed" if closed else "accepted",
                    n_spec + 1 + p % n_butler,
                    accepted,
                    snapshot,
                    accepted,
                )
            )
        cols = ("id", "code", "name", "category", "stage", "status", "butler_id")
        await w.write("projects", (*cols, "accepted_at", "snapshot", "created_at"), project_rows)
        del project_rows
        await w.write(
            "chats",
            ("id", "platform", "external_id", "kind", "title", "project_id", "created_at"),
            (
                (p, "telegram", str(-100_000 - p), "group", f"项目{p}群", p, long_ago)
                for p in range(1, projects + 1)
            ),
        )

        def specialist_of(p: int) -> int:
            return 1 + p % n_spec

        def backup_of(p: int) -> int:
            return 1 + (p + 1) % n_spec

        members = []
        for p in range(1, projects + 1):
            dept = 1 + specialist_of(p) % len(depts)
            members.append((3 * p - 2, p, n_spec + 1 + p % n_butler, "butler", None))
            members.append((3 * p - 1, p, specialist_of(p), "specialist", dept))
            members.append((3 * p, p, backup_of(p), "backup", dept))
        await w.write(
            "project_members", ("id", "project_id", "person_id", "role", "department_id"), members
        )
        del members

        # Checklist items, contiguous per project, in the steady-state mix described above.
        per_project = -(-items // projects)
        item_rows = []
        overdue: list[tuple[int, int, int, date]] = []  # item, project, assignee, due
        for n in range(1, items + 1):
            p = 1 + (n - 1) // per_project
            roll = rng.random()
            started = done = paused = None
            provisional = False
            if roll < 0.45:
                state = "done"
                due = today - timedelta(days=rng.randint(1, 400))
                done = yesterday if rng.random() < 0.01 else due - timedelta(days=rng.randint(0, 9))
                started = due - timedelta(days=20)
            elif roll < 0.72:
                state, provisional = "not_started", True
                due = today + timedelta(days=rng.randint(20, 400))
            elif roll < 0.95:
                state = "submitted" if roll < 0.80 else "in_review"
                due = today + timedelta(days=rng.randint(-10, 60))
                started = due - timedelta(days=20)
            else:
                state = "correction_needed"
                due = today + timedelta(days=rng.randint(-10, 60))
                started, paused = (
                    due - timedelta(days=20),
                    today - timedelta(days=rng.randint(1, 9)),
                )
            assignee = specialist_of(p)
            item_rows.append(
                (
                    n,
                    p,
                    f"item{(n - 1) % per_project}",
                    f"事项{(n - 1) % per_project}",
                    f"Item {(n - 1) % per_project}",
                    1 + n % len(depts),
                    stages[n % len(stages)],
                    assignee,
                    10,
                    [],
                    state,
                    started,
                    due,
                    provisional,
                    paused,
                    0,
                    done,
                    (n - 1) % per_project,
                    0,
                )
            )
            if state in ("submitted", "in_review") and due < today and live[p - 1]:
                overdue.append((n, p, assignee, due))
        await w.write(
            "checklist_items",
            (
                "id", "project_id", "code", "name_zh", "name_en", "department_id", "stage",
                "assignee_id", "limit_workdays", "prerequisites", "state", "started_on",
                "due_on", "due_provisional", "paused_on", "paused_workdays", "done_on", "sort",
                "corrections",
            ),
            item_rows,
        )  # fmt: skip
        del item_rows

        # Yesterday's round: a nudge for each item already late, and one problem per project
        # listing its late items, at the rung its oldest item has brought it to.
        late_by: dict[date, int] = {}
        climbed: dict[date, tuple[int, int, int] | None] = {}
        events: list[tuple[Any, ...]] = []
        grouped: dict[int, list[tuple[int, date, tuple[int, int, int]]]] = {}
        for n, p, assignee, due in overdue:
            if due not in late_by:
                late_by[due] = calendar.workdays_between(due, yesterday)
            late = late_by[due]
            if late <= 0:
                continue
            events.append((len(events) + 1, stamp, NUDGE_EVENT, None, p, n, {"kind": "overdue"}))
            if rng.random() < 1 / 3:
                acted = stamp + timedelta(hours=2)
                events.append((len(events) + 1, acted, "item.note", assignee, p, n, {}))
            if due not in climbed:
                climbed[due] = _ladder_history(ladder, late)
            history = climbed[due]
            if history is not None:
                grouped.setdefault(p, []).append((n, due, history))
        problems, links = [], []
        for p, late_items in grouped.items():
            late_items.sort(key=lambda row: (row[1], row[0]))  # oldest due first
            first, due, (level, opened_k, raised_k) = late_items[0]
            acked = rng.random() < 0.2
            problem_id = len(problems) + 1
            opened_at = local(calendar.add_workdays(due, opened_k), time(9, 30))
            problems.append(
                (
                    problem_id, p, first, level, "acked" if acked else "open", "逾期事项", True,
                    opened_at,
                    local(calendar.add_workdays(due, raised_k), time(9, 30)),
                    calendar.add_workdays(today, 1) if acked else None,
                )
            )  # fmt: skip
            links += [
                (len(links) + k + 1, problem_id, n, opened_at, None)
                for k, (n, _, _) in enumerate(late_items)
            ]
        await w.write(
            "problems",
            (
                "id", "project_id", "item_id", "level", "state", "reason", "auto", "opened_at",
                "raised_at", "ack_until",
            ),
            problems,
        )  # fmt: skip
        await w.write(
            "problem_items", ("id", "problem_id", "item_id", "joined_at", "reason"), links
        )
        await w.write(
            "events", ("id", "at", "kind", "actor_id", "project_id", "item_id", "data"), events
        )
        # Yesterday's new applications (the digest counts them).
        contact = n_spec + n_butler + 1
        await w.write(
            "applications",
            (
                "id", "contact_person_id", "project_name", "category", "data", "status",
                "submitted_at", "idempotency_key",
            ),
            (
                (a, contact, f"申请{a}", "building", {}, "pending",
                 local(yesterday, time(11)), f"bench-{a}")
                for a in range(1, max(1, projects // 200) + 1)
            ),
        )  # fmt: skip
        out.counts = dict(w.counts)
    return out


__all__ = ["DEFAULT_PG_ADMIN", "TODAY", "TZ", "Seeded", "local", "scratch_database", "seed"]
