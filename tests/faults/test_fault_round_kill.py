"""`kill -9` in the middle of the sliced daily round (issue 19, point 1).

The round of a 400-project district runs as its own process (`daiban jobs run tick`) and
is killed once its first slices have committed (in the ladder) or past half its messages
(in the morning messages, where the nudge log must not repeat). A tick at once leaves it
alone (the dead holder's lease still looks held); a tick after the lease has gone silent
resumes it. Against the same district's round run without a kill, every message is in the
outbox exactly once (the same dedupe keys to the same chats, none missing, none extra),
every nudged item is in the work log once, and the problems are the same.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from domain.scheme_loader import load_scheme
from storage.migrate import upgrade
from tests.faults.harness import base_env

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from _seed import TODAY, local, seed  # noqa: E402
from bench_round import skip_digest  # noqa: E402

PROJECTS, ITEMS = 400, 12_000
SILENT = 2  # seconds: the dead holder's lease is taken over after this


def url_of(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def district(path: Path) -> None:
    """The seeded district, at 09:31 of a working day whose digest has gone out."""
    await upgrade(url_of(path))
    await seed(url_of(path), projects=PROJECTS, items=ITEMS)
    await skip_digest(url_of(path))


def round_at() -> str:
    scheme = load_scheme("tongzhou")
    return (local(TODAY, scheme.reminders.nudge_time) + timedelta(minutes=1)).isoformat()


async def start_tick(path: Path) -> asyncio.subprocess.Process:
    env = base_env(url_of(path)) | {"DAIBAN_ROUND_SILENT_SECONDS": str(SILENT)}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "jobs", "run", "tick", "--at", round_at(),
        env=env,
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def run_tick(path: Path) -> None:
    proc = await start_tick(path)
    output, _ = await proc.communicate()
    assert proc.returncode == 0, output.decode(errors="replace")[-3000:]


def query(path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as con:
        return con.execute(sql).fetchall()


def round_rows(path: Path) -> int:
    sql = (
        "SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'nudge:%' OR dedupe_key LIKE 'ladder:%'"
    )
    return int(query(path, sql)[0][0])


def round_done(path: Path) -> bool:
    return bool(query(path, "SELECT 1 FROM job_runs WHERE job = 'daily-round'"))


def outcome(path: Path) -> dict[str, object]:
    """What the round left: its messages, its work-log lines, the problems."""
    return {
        "messages": Counter(
            query(
                path,
                "SELECT dedupe_key, platform, chat_external_id FROM outbox "
                "WHERE dedupe_key LIKE 'nudge:%' OR dedupe_key LIKE 'ladder:%'",
            )
        ),
        "log": Counter(
            query(
                path,
                "SELECT kind, item_id FROM events WHERE kind IN "
                "('item.nudged', 'problem.auto_raised', 'problem.climbed') "
                f"AND at >= '{TODAY.isoformat()}'",
            )
        ),
        "problems": query(path, "SELECT id, project_id, level, state FROM problems ORDER BY id"),
        "links": query(path, "SELECT problem_id, item_id FROM problem_items ORDER BY 1, 2"),
    }


@pytest.mark.parametrize("share", [0.0, 0.6], ids=["in-the-ladder", "in-the-morning-messages"])
async def test_a_round_killed_between_slices_resumes_and_sends_every_nudge_once(tmp_path, share):
    seeded, whole, killed = (tmp_path / n for n in ("seeded.db", "whole.db", "killed.db"))
    await district(seeded)
    shutil.copy(seeded, whole)
    shutil.copy(seeded, killed)

    await run_tick(whole)  # the reference: the same round, never interrupted
    expected = outcome(whole)
    total = sum(expected["messages"].values())  # type: ignore[attr-defined]
    assert total > 300 and round_done(whole)

    proc = await start_tick(killed)
    deadline = time.monotonic() + 120
    while round_rows(killed) <= share * total:
        assert proc.returncode is None, "the round ended before it could be killed"
        assert time.monotonic() < deadline, "the round wrote nothing in two minutes"
        await asyncio.sleep(0.01)
    proc.kill()  # SIGKILL: no cleanup, the lease stays held by the dead process
    await proc.wait()
    written = round_rows(killed)
    assert not round_done(killed), "killed after the round had finished: nothing to resume"
    assert 0 < written < total, written
    assert query(killed, "SELECT holder FROM job_runs WHERE job = 'daily-round:held'")

    # At once, the dead holder's lease still looks live: a tick leaves the round alone.
    await run_tick(killed)
    assert round_rows(killed) == written and not round_done(killed)

    await asyncio.sleep(SILENT + 0.2)  # the lease goes silent
    await run_tick(killed)
    assert round_done(killed)
    assert not query(killed, "SELECT 1 FROM job_runs WHERE job = 'daily-round:held'")
    got = outcome(killed)
    assert got["messages"] == expected["messages"]
    assert max(got["messages"].values()) == 1  # type: ignore[attr-defined]
    assert got["log"] == expected["log"]
    assert got["problems"] == expected["problems"]
    assert got["links"] == expected["links"]
