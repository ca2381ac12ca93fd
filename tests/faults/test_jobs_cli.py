"""`daiban jobs run NAME [--at ISO-DATETIME]` as an operator uses it (on SQLite): one
sentence and exit 2 for a wrong name, time or database; a job run once as of a moment,
and not again for a slot that already ran."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from storage.db import Database
from storage.migrate import upgrade
from tests.faults import seed
from tests.faults.harness import base_env

ROOT = Path(__file__).resolve().parents[2]


def daiban(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "jobs", *args],
        env=base_env(db_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def sqlite(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'daiban.sqlite3'}"


def test_a_wrong_job_name_lists_the_jobs(tmp_path):
    done = daiban(sqlite(tmp_path), "run", "nudges")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "daiban: there is no job 'nudges'; the jobs are: tick, digest, reports, rating, prune."
    )
    assert not (tmp_path / "daiban.sqlite3").exists()  # checked before touching the store


def test_a_wrong_time_is_one_sentence(tmp_path):
    done = daiban(sqlite(tmp_path), "run", "digest", "--at", "tomorrow")
    assert done.returncode == 2
    assert "--at 'tomorrow' is not an ISO date-time" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unmigrated_database_is_refused(tmp_path):
    done = daiban(sqlite(tmp_path), "run", "digest")
    assert done.returncode == 2
    assert "is not up to date; run `daiban db upgrade` first." in done.stderr


async def _leaders(url: str, count: int) -> None:
    await upgrade(url)
    db = Database(url)
    try:
        await seed.add_people(db, "leader", count, seed.FIRST_USER_ID)
    finally:
        await db.dispose()


async def _outbox_keys(url: str) -> list[str]:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            rows = await conn.execute(text("SELECT dedupe_key FROM outbox ORDER BY id"))
            return [str(key) for (key,) in rows]
    finally:
        await db.dispose()


def test_the_digest_runs_once_as_of_the_given_moment(tmp_path):
    url = sqlite(tmp_path)
    asyncio.run(_leaders(url, 3))
    # A time without an offset is in the scheme's time zone (Asia/Shanghai).
    first = daiban(url, "run", "digest", "--at", "2025-03-05T08:30")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        "ran digest as of 2025-03-05T08:30:00+08:00: 3 outbox messages are dated then"
    )
    keys = asyncio.run(_outbox_keys(url))
    assert len(keys) == 3 and all(k.startswith("digest:2025-03-05:u") for k in keys)
    # The same day again (later, or from another replica): the day's claim holds.
    again = daiban(url, "run", "digest", "--at", "2025-03-05T11:00:00+08:00")
    assert again.returncode == 0, again.stderr
    assert "0 outbox messages are dated then" in again.stdout
    assert asyncio.run(_outbox_keys(url)) == keys
    # A Saturday has no digest.
    weekend = daiban(url, "run", "digest", "--at", "2025-03-08T08:30:00+08:00")
    assert weekend.returncode == 0 and "0 outbox messages" in weekend.stdout
    assert asyncio.run(_outbox_keys(url)) == keys
