"""Two replicas, one PostgreSQL, 1,000 checklist items falling due at once: every item
reaches its specialist through the (fake) Bot API exactly once, in one morning message per
specialist.

Two `daiban jobs run tick` processes run the day's round at the same moment (the round's
claim in `job_runs` lets one of them do it) while two `daiban run` replicas deliver the
outbox (rows claimed with FOR UPDATE SKIP LOCKED, so no row goes out twice).
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from storage.db import Database
from tests.fakes.fake_bot_api import FakeBotApi
from tests.faults import seed
from tests.faults.harness import Replica, finish, rows, scalar, start_job, stop_all, until

DAY = date(2025, 3, 5)  # a Wednesday, in the past: the nudges are due at once
AT = "2025-03-05T10:00:00+08:00"  # after the nudge time, in working hours
PROJECTS, PER_PROJECT, SPECIALISTS = 50, 20, 200


async def test_two_replicas_deliver_each_of_1000_nudges_once(
    pg_url: str, db: Database, fake: FakeBotApi, tmp_path
):
    specialists = await seed.add_people(db, "specialist", SPECIALISTS, seed.FIRST_USER_ID)
    projects = await seed.add_projects(db, PROJECTS)
    assignees = [p.person_id for p in specialists]
    await seed.add_items(db, seed.item_rows(projects, PER_PROJECT, DAY, assignees))
    names = await seed.item_names(db)
    assert len(names) == 1000
    chat_of = {p.person_id: p.user_id for p in specialists}
    for person in specialists:
        fake.private_chat(fake.user(person.user_id, person.name))
    expected = {
        (chat_of[assignees[n % SPECIALISTS]], name)
        for n, name in enumerate(names[i] for i in sorted(names))
    }

    replicas = [Replica(tmp_path / f"replica{n}", fake, pg_url) for n in (1, 2)]
    for process in replicas:
        process.start()
    try:
        for process in replicas:
            await until(process.healthy, "the replica to come up", within=90)

        # The same round, twice at the same moment: only one process writes the nudges.
        logs = [tmp_path / f"tick{n}.log" for n in (1, 2)]
        jobs = [start_job(pg_url, "tick", AT, log) for log in logs]
        outputs = [await finish(job, log) for job, log in zip(jobs, logs, strict=True)]
        assert all("ran tick as of 2025-03-05T10:00:00+08:00" in out for out in outputs)
        # One morning message per specialist, listing their five items.
        queued = await scalar(db, "SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'nudge:%'")
        assert queued == SPECIALISTS
        rounds = await scalar(db, "SELECT count(*) FROM job_runs WHERE job = 'daily-round'")
        assert rounds == 1

        async def all_sent() -> bool:
            left = await scalar(db, "SELECT count(*) FROM outbox WHERE status <> 'sent'")
            return left == 0 and len(fake.sent) >= SPECIALISTS

        await until(all_sent, "every nudge to be delivered", within=120)
        # Once more, later that day: the round's claim holds, nothing new is written.
        log = tmp_path / "tick3.log"
        await finish(start_job(pg_url, "tick", "2025-03-05T15:00:00+08:00", log), log)
        assert await scalar(db, "SELECT count(*) FROM outbox") == SPECIALISTS
        deliverers = await rows(db, "SELECT DISTINCT claimed_by FROM outbox")
    finally:
        await stop_all(*replicas)
    for process in replicas:
        assert process.proc is not None and process.proc.returncode == 0, process.output()

    arrived = Counter((sent.chat_id, sent.text) for sent in fake.sent)
    assert sum(arrived.values()) == SPECIALISTS
    assert max(arrived.values()) == 1, [key for key, n in arrived.items() if n > 1][:5]
    got = set()
    for chat, text in arrived:
        mentioned = seed.ITEM_NAME.findall(text)
        assert len(mentioned) == len(names) // SPECIALISTS, text
        got |= {(chat, name) for name in mentioned}
    assert got == expected  # every item, to its own specialist, once
    assert 1 <= len(deliverers) <= 2
    nudged = await scalar(db, "SELECT count(*) FROM events WHERE kind = 'item.nudged'")
    assert nudged == 1000
