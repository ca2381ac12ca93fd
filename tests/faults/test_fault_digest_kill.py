"""`kill -9` of a process in the middle of the digest run: after it runs again, every
leader has exactly one digest, in the outbox and delivered.

The digest job claims its day in `job_runs` in the same transaction as the digests, so a
process killed half-way leaves nothing behind (neither the claim nor half of the
messages) and the next run does all of it; a second run at the same time sends nothing.
"""

from __future__ import annotations

import signal
from collections import Counter
from datetime import date

from sqlalchemy import text

from handlers.i18n import gettext
from storage.db import Database
from tests.fakes.fake_bot_api import FakeBotApi
from tests.faults import seed
from tests.faults.harness import Replica, finish, read_log, scalar, start_job, stop_all, until

DAY = date(2025, 3, 5)  # a Wednesday, in the past: the digests are due at once
AT = "2025-03-05T08:30:00+08:00"  # the scheme's digest time
LEADERS = 100
DIGEST_ROWS = "SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'digest:2025-03-05:%'"


async def outbox_ids_taken(db: Database) -> int:
    """Outbox ids handed out so far, committed or not (the sequence is not transactional):
    how far an unfinished transaction has got in writing its rows."""
    async with db.engine.connect() as conn:
        sequence = (
            await conn.execute(text("SELECT pg_get_serial_sequence('outbox', 'id')"))
        ).scalar_one()
        last, called = (
            await conn.execute(text(f"SELECT last_value, is_called FROM {sequence}"))
        ).one()
    return int(last) if called else 0


async def test_digest_run_killed_midway_then_rerun_gives_each_leader_one_digest(
    pg_url: str, db: Database, fake: FakeBotApi, tmp_path
):
    leaders = await seed.add_people(db, "leader", LEADERS, seed.FIRST_USER_ID)
    # Enough overdue work that writing 100 digests takes a while.
    projects = await seed.add_projects(db, 200)
    await seed.add_items(db, seed.item_rows(projects, 10, date(2025, 2, 20)))
    for leader in leaders:
        fake.private_chat(fake.user(leader.user_id, leader.name))

    # The run is killed once it has written a tenth of the digests, before it commits.
    log = tmp_path / "digest1.log"
    first = start_job(pg_url, "digest", AT, log)
    try:

        async def midway() -> bool:
            assert first.poll() is None, read_log(log)  # too late: it finished
            return await outbox_ids_taken(db) >= LEADERS // 10

        await until(midway, "a tenth of the digests", within=120, step=0.02)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == -signal.SIGKILL
    # Nothing of the killed run survives: no digest, no claim of the day.
    assert await scalar(db, DIGEST_ROWS) == 0
    assert await scalar(db, "SELECT count(*) FROM job_runs WHERE job = 'digest'") == 0

    replica = Replica(tmp_path / "replica", fake, pg_url)
    replica.start()
    try:
        # Restarted (twice at once, as two replicas would): the day's digests, once.
        logs = [tmp_path / f"digest{n}.log" for n in (2, 3)]
        runs = [start_job(pg_url, "digest", AT, path) for path in logs]
        for run, path in zip(runs, logs, strict=True):
            assert "ran digest as of 2025-03-05T08:30:00+08:00" in await finish(run, path)
        assert await scalar(db, DIGEST_ROWS) == LEADERS
        per_leader = await scalar(
            db, "SELECT count(DISTINCT person_id) FROM outbox WHERE dedupe_key LIKE 'digest:%'"
        )
        assert per_leader == LEADERS

        async def delivered() -> bool:
            left = await scalar(db, "SELECT count(*) FROM outbox WHERE status <> 'sent'")
            return left == 0 and len(fake.sent) >= LEADERS

        await until(delivered, "every digest to be delivered", within=120)
    finally:
        await stop_all(replica)
    assert replica.proc is not None and replica.proc.returncode == 0, replica.output()

    title = gettext("zh_CN", "Daily digest for {day}").format(day=DAY.isoformat())
    digests = Counter(sent.chat_id for sent in fake.sent if title in sent.text)
    assert digests == Counter({leader.user_id: 1 for leader in leaders})
    assert len(fake.sent) == LEADERS
