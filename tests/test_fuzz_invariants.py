"""Random event sequences against the invariants (随机事件模糊测试), issue 8.

A hypothesis state machine drives the seeded Tongzhou world of tests/invariants/world.py
(two projects with teams and bound groups, an outsider enterprise, the office, a leader,
a stranger with no role) through the real handlers, outbox and scheduler with a fake
clock. Each step is one of: a person says random text or a command from the real command
list with plausible and garbage arguments (item codes of both projects, project codes,
problem numbers, dates) in their DM or a group; presses a button from the last message
with buttons in that chat, or a forged payload; or the clock jumps hours or working days,
running every scheduled job that falls due and delivering the outbox.

After every step (tests/invariants/checks.py):

- no exception escapes a handler or a job: no ERROR log line (the pipeline logs "handler
  failed" and apologises), no apology message, and a job run does not raise;
- every item, problem and project is in one of its legal states, the item's clock
  coherent (paused iff 补正, done iff done_on);
- no message reaches a person outside the project: a message naming project P goes only
  to P's bound groups, P's team (butler, specialists, backups, enterprise contact,
  assignees) or the office and leaders; a nudge only to P's groups, the item's assignee
  and their backups; a ladder notice only to P's groups and the people of that rung's
  ``notify_roles`` for P;
- no nudge twice: one per (chat, item, day), one ladder notice per (chat, problem,
  level), each outbox row delivered exactly once.

Typed text includes control characters (NUL, escape, bidi overrides), pasted markup,
ids past every column (``99999999999999999999999``) and dates past 2000–2100. The same
machine runs on a scratch PostgreSQL database too (`test_the_fuzz_holds_on_postgresql`),
where NUL bytes and 32-bit ids fail that SQLite lets through.

CI runs a small derandomized sample (a fixed seed, no shrinking: < 60 s). A real fuzz run,
random, with shrinking and the example database::

    HYPOTHESIS_PROFILE=fuzz FUZZ_EXAMPLES=2000 .venv/bin/python -m pytest \
        tests/test_fuzz_invariants.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from domain.items import Action
from handlers.app_router import build_router
from handlers.commands import command_infos
from handlers.i18n import gettext
from tests.invariants.checks import all_problems
from tests.invariants.world import PROJECT_CODES, PROJECT_NAMES, World, open_world
from tests.pg import admin_execute, pg_admin_url, scratch_name, url_of

COMMANDS = command_infos(build_router())

T = TypeVar("T")
PEOPLE = (
    "ent_a",
    "ent_b",
    "outsider",
    "office",
    "leader",
    "butler_a",
    "butler_b",
    "spec_housing_a",
    "backup_housing_a",
    "spec_power_a",
    "spec_plan_b",
    "stranger",
)
CHATS = (None, None, "ga", "gb", "gx")  # a DM twice as likely as each group
ITEM_CODES = (
    "power_connection",
    "fire_acceptance",
    "gas_connection",
    "water_connection",
    "joint_acceptance",
    "archive_transfer",
    "property_registration",
    "handover_to_authority",
    "drawing_review",
    "nonexistent_item",
)
WORDS = (
    *PROJECT_CODES,
    "P9999-0000",
    *ITEM_CODES,
    *(a.value for a in Action),
    "done",
    "补正",
    "na",
    "#1",
    "#2",
    "#99",
    "1",
    "L2",
    "level4",
    "7",
    "add",
    "drop",
    "redate",
    "2026-12-31",
    "2026-02-30",
    "zone=通州",
    "stage=handover",
    "overdue",
    "材料不全",
    "waiting for the grid company",
    "",
    # Out of every range (issue 20): ids past the columns, dates past 2000–2100, controls.
    "99999999999999999999999",
    "#99999999999999999999999",
    "2147483648",
    "-1",
    "0001-01-01",
    "9999-12-31",
    "１２３",
    "²",
    "\x00",
    "记录\x00内容",
    "\x1b[31m",
    "\u202e反向",
    "**加粗**",
    "[链接](http://evil.example)",
)
COMMAND_NAMES = [c.name for c in COMMANDS] + ["bogus", "START", "item@daiban_bot"]
FORGED = (
    "it:1:submit",
    "it:2:complete",
    "it:5:reopen",
    "it:10:submit",
    "it:11:complete",
    "it:12:mark_not_applicable",
    "it:999:submit",
    "it:x:y",
    "it:",
    "problem:ack:1",
    "problem:ack:2",
    "problem:ack:x",
    "fin:ok:1",
    "fin:ok:2",
    "fin:ok:x",
    "asg:p:1",
    "asg:p:2",
    "asg:b:1:6",
    "asg:b:2:7",
    "asg:b:x",
    "st:1:",
    "st:-1:overdue",
    "st:x:",
    "status:PA-0001",
    "status:PB-0002",
    "ticket:take:1",
    "ticket:ask:1",
    "faq:1:1",
    "app:accept:1",
    "app:reject:1",
    "app:request:1",
    "app:resubmit:1",
    "lang:en",
    "lang:zh_CN",
    "kind:agency",
    "menu:apply",
    "menu:check",
    "menu:consult",
    "menu:progress",
    "resume",
    "rate:1:5",
    "rate:",
    "claim:approve:1",
    "claim:refuse:1",
    "contact:remove:1:1",
    "contact:invite:1",
    "asg:p:99999999999999999999999",
    "it:99999999999999999999999:submit",
    "",
)

NOT_UNDERSTOOD = {
    gettext(lang, "Sorry, I did not understand that. Send /help to see what you can do.")
    for lang in ("zh_CN", "en")
}

command_texts = st.builds(
    lambda name, args: " ".join([f"/{name}", *args]).strip(),
    st.sampled_from(COMMAND_NAMES),
    st.lists(st.sampled_from(WORDS), max_size=4),
)
# Control characters (NUL, escape, bidi overrides), markup and digits, as people paste them.
HOSTILE = st.text(
    alphabet=st.sampled_from("\x00\x07\x1b\x7f\u200b\u202e\u2066\ufeff*[]()<>/#9０１²代办 \n\t"),
    max_size=40,
)
OUT_OF_RANGE = (
    "99999999999999999999999",
    "#99999999999999999999999",
    "2147483648",
    "0001-01-01",
    "9999-12-31",
    "记录\x00内容",
    "**加粗**",
)
# (who, where, command): people allowed to run the command there, so it gets past the checks.
HOSTILE_COMMANDS = (
    ("butler_a", "ga", "/log"),
    ("butler_a", "ga", "/advance"),
    ("butler_a", "ga", "/escalate power_connection"),
    ("butler_a", "ga", "/resolve"),
    ("butler_a", "ga", "/ack"),
    ("butler_a", "ga", "/plan redate power_connection"),
    ("spec_power_a", "ga", "/item power_connection submit"),
    ("office", None, "/followup"),
    ("office", None, "/digest"),
)
free_texts = st.one_of(
    st.sampled_from(("你好", "怎么申请代办？", "hello", "1", "是", "跳过", "/", "  ")),
    st.text(max_size=24),
    HOSTILE,
    st.builds(lambda text: "/log " + text, HOSTILE),
)

CI = settings(
    max_examples=10,
    stateful_step_count=15,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),  # shrinking slow steps takes minutes
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")),
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class DaibanWorld(RuleBasedStateMachine):
    """The world and the steps a user or the clock can take."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = Path(tempfile.mkdtemp(prefix="daiban-fuzz-"))
        # Hourly ticks (the most Settings allows): the daily round still runs once a day.
        self.world: World = self.loop.run_until_complete(
            open_world(self.folder, tick=timedelta(hours=1))
        )

    def teardown(self) -> None:
        try:
            self.loop.run_until_complete(self.world.close())
        finally:
            self.loop.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    @rule(person=st.sampled_from(PEOPLE), chat=st.sampled_from(CHATS), text=command_texts)
    def command(self, person: str, chat: str | None, text: str) -> None:
        self.run(self.world.said(person, chat, text))

    @rule(
        who=st.sampled_from(HOSTILE_COMMANDS),
        args=st.lists(st.one_of(st.sampled_from(OUT_OF_RANGE), HOSTILE), min_size=1, max_size=3),
    )
    def hostile_command(self, who: tuple[str, str | None, str], args: list[str]) -> None:
        """Staff commands that store or parse what follows them, fed controls and numbers
        and dates out of range, by someone allowed to run them."""
        person, chat, command = who
        self.run(self.world.said(person, chat, " ".join([command, *args])))

    @rule(person=st.sampled_from(PEOPLE), chat=st.sampled_from(CHATS), text=free_texts)
    def says(self, person: str, chat: str | None, text: str) -> None:
        self.run(self.world.said(person, chat, text))

    @rule(person=st.sampled_from(PEOPLE), chat=st.sampled_from(CHATS), data=st.data())
    def presses(self, person: str, chat: str | None, data: st.DataObject) -> None:
        seen = self.world.buttons_seen(person, chat)
        payload = data.draw(
            st.sampled_from(seen) if seen else st.sampled_from(FORGED), label="payload"
        )
        answers = self.run(self.world.event(person, chat, payload=payload))
        if seen:  # a button the bot offered leads somewhere
            dead = [a.message.text for a in answers if a.message.text in NOT_UNDERSTOOD]
            assert not dead, f"button {payload!r} is not understood: {dead}"

    @rule(person=st.sampled_from(PEOPLE), chat=st.sampled_from(CHATS), data=st.data())
    def presses_forged(self, person: str, chat: str | None, data: st.DataObject) -> None:
        payload = data.draw(st.one_of(st.sampled_from(FORGED), st.text(max_size=16)))
        self.run(self.world.event(person, chat, payload=payload))

    @initialize(days=st.integers(min_value=0, max_value=12))
    def bot_was_down(self, days: int) -> None:
        """Start 0–12 working days after the seed day, as after a downtime: the first tick
        catches up, and the ladder has something to climb."""
        self.world.skip_workdays(days)

    @rule(hours=st.integers(min_value=1, max_value=30))
    def hours_pass(self, hours: int) -> None:
        self.run(self.world.advance(timedelta(hours=hours)))

    @rule(days=st.integers(min_value=1, max_value=3))
    def workdays_pass(self, days: int) -> None:
        self.run(self.world.advance_workdays(days))

    @invariant()
    def invariants_hold(self) -> None:
        problems = self.run(all_problems(self.world, PROJECT_NAMES))
        assert not problems, "\n".join(problems)


DaibanWorld.TestCase.settings = (
    settings.get_profile("fuzz") if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else CI
)
TestDaibanWorld = DaibanWorld.TestCase


class PostgresWorld(DaibanWorld):
    """The same world and steps on a scratch PostgreSQL database: NUL bytes, 32-bit ids and
    dates fail there where SQLite lets them through."""

    admin_url = ""

    def __init__(self) -> None:
        RuleBasedStateMachine.__init__(self)
        self.loop = asyncio.new_event_loop()
        self.folder = Path(tempfile.mkdtemp(prefix="daiban-fuzz-pg-"))
        self.database = self.loop.run_until_complete(self._scratch())
        self.world = self.loop.run_until_complete(
            open_world(
                self.folder,
                tick=timedelta(hours=1),
                database_url=url_of(self.admin_url, self.database),
            )
        )

    async def _scratch(self) -> str:
        name = scratch_name("daiban_fuzz")
        await admin_execute(self.admin_url, f'CREATE DATABASE "{name}"')
        return name

    def teardown(self) -> None:
        try:
            self.loop.run_until_complete(self.world.close())
            drop = f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'
            self.loop.run_until_complete(admin_execute(self.admin_url, drop))
        finally:
            self.loop.close()
            shutil.rmtree(self.folder, ignore_errors=True)


@pytest.mark.postgres
def test_the_fuzz_holds_on_postgresql() -> None:
    PostgresWorld.admin_url = pg_admin_url()  # skips locally, fails under CI, when unset
    pg_settings = settings(CI, max_examples=4)  # each example seeds a fresh database
    if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz":
        pg_settings = settings.get_profile("fuzz")
    run_state_machine_as_test(PostgresWorld, settings=pg_settings)


async def test_status_pages_stay_out_of_groups(tmp_path: Path) -> None:
    """Found by this fuzz: a status page button (``st:``) pressed in a group listed the
    sender's own projects there, for everyone in that group to read."""
    world = await open_world(tmp_path)
    try:
        answers = await world.event("ent_a", "gx", payload="st:x:")
        assert answers == []
        answers = await world.event("ent_a", None, payload="st:0:")
        assert PROJECT_NAMES["PA-0001"] in answers[0].message.text  # still works in the DM
    finally:
        await world.close()
