"""/help is read from the routes: each role is shown what it may use, and only that.

Every command a person's /help lists is answered without the roles refusal; every other
command of the menu is refused with it. Run in its own world: bare commands act.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from handlers.app_router import build_router
from handlers.commands import command_infos
from tests.invariants.world import World, open_world
from tests.test_authorization_matrix import ACTORS

COMMANDS = command_infos(build_router())

ONLY_FOR = "Sorry, this is only for: "


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world() -> AsyncIterator[World]:
    folder = Path(tempfile.mkdtemp(prefix="daiban-help-"))
    opened = await open_world(folder)
    await opened.speak_english()
    try:
        yield opened
    finally:
        await opened.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("role", sorted(ACTORS))
async def test_help_lists_what_the_role_may_use(world: World, role: str) -> None:
    person = ACTORS[role]
    sent = await world.said(person, None, "/help")
    listed = re.findall(r"^/(\w+) — ", sent[0].message.text, re.MULTILINE)
    assert listed and len(listed) == len(set(listed))
    assert {"start", "help", "status"} <= set(listed)
    for name in [c.name for c in COMMANDS]:
        replies = [s.message.text for s in await world.said(person, None, f"/{name}")]
        refused = any(r.startswith(ONLY_FOR) for r in replies)
        assert refused is (name not in listed), (name, replies)
        await world.said(person, None, "/cancel")  # /profile, /check, /apply open a form
    assert not world.errors.records, world.errors.lines()


def test_help_orders_commands_as_the_menu_always_did():
    names = [c.name for c in COMMANDS]
    assert names[:8] == ["start", "help", "lang", "profile", "check", "apply", "progress", "status"]
    assert names.index("resume") > names.index("archive")
    assert names[-5:] == ["followup", "activity", "contacts", "waiting", "mute"]
