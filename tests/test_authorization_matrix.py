"""Who may do what (权限矩阵): each role × each staff command × own/other project, DM and group.

The world (tests/invariants/world.py) has project PA-0001 (group ``ga``) and PB-0002 with
their own teams. Every case acts on PA-0001: a role "of another project" is PB-0002's
person trying PA-0001 (in a DM by putting its code first, in a group by writing in PA's
group). Expectations follow DOMAIN.md "People" and the handlers:

- the enterprise contact follows progress (/status, /progress), never staff commands;
- a specialist or backup moves their department's items; a specialist of another
  department sees the card but may not move it; the office may only drop items, leaders
  only look;
- the butler owns their project: plan, bind, advance, complete, escalate; the butler of
  another project is refused as "not on the team";
- problems: the project's butler, the office and leaders (/ack, /resolve), the butler
  and the office (/escalate);
- the office assigns, archives, follows up bad reviews; office and leaders read the digest;
- commands whose answer covers other projects (/digest, /assign, /progress) are answered
  in a DM only, never into a project group;
- a refusal never shows the project's data.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import update

from storage.models import ChecklistItem, Problem
from storage.uow import UnitOfWork
from tests.invariants.world import World, open_world

# Who acts, relative to PA-0001.
ACTORS = {
    "ent": "ent_a",  # enterprise contact of PA
    "ent_other": "ent_b",  # enterprise contact of PB
    "ent_none": "outsider",  # an enterprise with no project
    "butler": "butler_a",
    "butler_other": "butler_b",
    "spec": "spec_housing_a",  # specialist of the item's department (housing) on PA
    "spec_other": "spec_housing_b",  # housing specialist of PB only
    "backup": "backup_housing_a",  # backup of PA's housing specialist
    "spec_dept": "spec_power_a",  # on PA's team, but the item is not their department
    "office": "office",
    "leader": "leader",
    "stranger": "stranger",  # no role at all
}
PA_NAME = "运河物流中心"

ONLY_FOR = r"^Sorry, this is only for: "
NOT_TEAM_GROUP = r"you are not on the team of project PA-0001, so you cannot act on it here"
NOT_TEAM_DM = r"^You are not on the team of project PA-0001\.$"
DISPATCH = r"^Only the butler of project PA-0001, the service office or a leader can act"
DM_ONLY = r"^Send /\w+ in a direct chat with me"
BELONGS = r"item fire_acceptance belongs to .*Only its specialist"
OFFICE_MOVE = r"You cannot do “Accept \(受理\)” on item fire_acceptance\. You can: Not applicable"
CARD_SUBMITTED = r"\(fire_acceptance\) — PA-0001\n.*\nState: submitted"


@dataclass(frozen=True)
class Expect:
    allowed: bool
    pattern: str  # the characteristic part of the answer (regex)
    forbidden: str | None = None  # must not appear (another project's data)


def ok(pattern: str, forbidden: str | None = None) -> Expect:
    return Expect(True, pattern, forbidden)


def no(pattern: str) -> Expect:
    return Expect(False, pattern)


def only(allowed: dict[str, Expect], others: Expect) -> dict[str, Expect]:
    """`allowed` for those roles, `others` for every other role."""
    return {role: allowed.get(role, others) for role in ACTORS}


NON_STAFF = {"ent", "ent_other", "ent_none", "stranger"}

# command → venue ("dm" or "group") → (text, {role: expectation}). `{problem}` is the
# number of a fresh open problem of PA-0001.
MATRIX: dict[str, dict[str, tuple[str, dict[str, Expect]]]] = {
    "status": {
        "dm": (
            "/status",
            {
                "ent": ok(r"^Your projects \(1\):\nPA-0001 "),
                "ent_other": ok(r"^Your projects \(1\):\nPB-0002 ", "PA-0001"),
                "ent_none": ok(r"^Your projects \(0\):\nNothing to show", "PA-0001"),
                "butler": ok(r"^Your projects \(1\):\nPA-0001 "),
                "butler_other": ok(r"^Your projects \(1\):\nPB-0002 ", "PA-0001"),
                "spec": ok(r"^Your open items \(\d+\):\nPA-0001 · "),
                "spec_other": ok(r"^Your open items \(\d+\):\nPB-0002 · ", "PA-0001"),
                "backup": ok(r"^Your open items \(0\):\nNothing to show"),
                "spec_dept": ok(r"PA-0001 · Power connection"),
                "office": ok(r"^All projects \(2\).*PA-0001.*PB-0002"),
                "leader": ok(r"^All projects \(2\).*PA-0001.*PB-0002"),
                "stranger": ok(r"^Your projects \(0\):\nNothing to show", "PA-0001"),
            },
        ),
        "group": (
            "/status",
            only(
                {
                    r: ok(r"^\*\*PA-0001 运河物流中心\*\*\nStage: ")
                    for r in ("ent", "butler", "spec", "backup", "spec_dept", "office", "leader")
                },
                no(NOT_TEAM_GROUP),
            ),
        ),
    },
    "item": {
        "dm": (
            "/item PA-0001 fire_acceptance submit",
            only(
                {
                    **{r: no(ONLY_FOR) for r in NON_STAFF},
                    "butler": ok(CARD_SUBMITTED),
                    "spec": ok(CARD_SUBMITTED),
                    "backup": ok(CARD_SUBMITTED),
                    "spec_dept": no(BELONGS),
                    "office": no(OFFICE_MOVE),
                    "leader": no(BELONGS),
                },
                no(NOT_TEAM_DM),
            ),
        ),
        "group": (
            "/item fire_acceptance submit",
            only(
                {
                    "butler": ok(CARD_SUBMITTED),
                    "spec": ok(CARD_SUBMITTED),
                    "backup": ok(CARD_SUBMITTED),
                    "spec_dept": no(BELONGS),
                    "office": no(OFFICE_MOVE),
                    "leader": no(BELONGS),
                },
                no(NOT_TEAM_GROUP),
            ),
        ),
    },
    "log": {
        "dm": (
            "/log PA-0001 Called the fire brigade",
            only(
                {
                    **{r: no(ONLY_FOR) for r in NON_STAFF},
                    "butler_other": no(NOT_TEAM_DM),
                    "spec_other": no(NOT_TEAM_DM),
                },
                ok(r"^Noted in the work log of PA-0001\.$"),
            ),
        ),
        "group": (
            "/log Called the fire brigade",
            only(
                {r: no(NOT_TEAM_GROUP) for r in (*NON_STAFF, "butler_other", "spec_other")},
                ok(r"^Noted in the work log of PA-0001\.$"),
            ),
        ),
    },
    "plan": {
        "dm": (
            "/plan PA-0001",
            only(
                {
                    "butler": ok(r"^\*\*Project handbook \(一项目一册\) — PA-0001 "),
                    "butler_other": no(NOT_TEAM_DM),
                },
                no(ONLY_FOR),
            ),
        ),
        "group": (
            "/plan",
            only(
                {
                    "butler": ok(r"^\*\*Project handbook \(一项目一册\) — PA-0001 "),
                    "butler_other": no(NOT_TEAM_GROUP),
                },
                no(ONLY_FOR),
            ),
        ),
    },
    "bind": {
        "dm": (
            "/bind PA-0001",
            only(
                {
                    "butler": ok(r"^Group code for project PA-0001: [A-Z2-9]{8}\n"),
                    "butler_other": no(NOT_TEAM_DM),
                },
                no(ONLY_FOR),
            ),
        ),
        "group": (
            "/bind",  # without a code: how binding works, whoever asks
            only(
                {
                    "butler": ok(r"^Send /bind in a direct chat with me to get a code"),
                    "butler_other": ok(r"^Send /bind in a direct chat with me to get a code"),
                },
                no(ONLY_FOR),
            ),
        ),
    },
    "advance": {
        "dm": (
            "/advance PA-0001",
            only(
                {
                    "butler": ok(r"^Stage Completion acceptance still has \d+ open items"),
                    "butler_other": no(NOT_TEAM_DM),
                },
                no(ONLY_FOR),
            ),
        ),
        "group": (
            "/advance",
            only(
                {
                    "butler": ok(r"^Stage Completion acceptance still has \d+ open items"),
                    "butler_other": no(NOT_TEAM_GROUP),
                },
                no(ONLY_FOR),
            ),
        ),
    },
    "complete": {
        "dm": (
            "/complete PA-0001",
            only(
                {"butler": ok(r"^\d+ items are still open"), "butler_other": no(NOT_TEAM_DM)},
                no(ONLY_FOR),
            ),
        ),
        "group": (
            "/complete",
            only(
                {"butler": ok(r"^\d+ items are still open"), "butler_other": no(NOT_TEAM_GROUP)},
                no(ONLY_FOR),
            ),
        ),
    },
    "assign": {
        "dm": (
            "/assign PA-0001",
            only({"office": ok(r"^Project PA-0001 运河物流中心: choose its")}, no(ONLY_FOR)),
        ),
        "group": ("/assign PA-0001", only({"office": no(DM_ONLY)}, no(ONLY_FOR))),
    },
    "archive": {
        "dm": (
            "/archive PA-0001",
            only(
                {"office": ok(r"^The file of project PA-0001 \(一事一档\) holds: index\.html")},
                no(ONLY_FOR),
            ),
        ),
        "group": (
            "/archive PA-0001",
            only(
                {"office": ok(r"^The file of project PA-0001 \(一事一档\) holds: index\.html")},
                no(ONLY_FOR),
            ),
        ),
    },
    "digest": {
        "dm": (
            "/digest",
            only(
                {r: ok(r"^\*\*Daily digest for 2026-11-23\*\*") for r in ("office", "leader")},
                no(ONLY_FOR),
            ),
        ),
        "group": ("/digest", only({"office": no(DM_ONLY), "leader": no(DM_ONLY)}, no(ONLY_FOR))),
    },
    "progress": {
        "dm": (
            "/progress",
            only(
                {
                    "ent": ok(r"^\*\*Your projects\*\*\n\*\*PA-0001 运河物流中心\*\*"),
                    "ent_other": ok(r"^\*\*Your projects\*\*\n\*\*PB-0002 ", "PA-0001"),
                },
                ok(r"^You have no projects or applications yet", "PA-0001"),
            ),
        ),
        "group": ("/progress", only({}, no(DM_ONLY))),
    },
    "escalate": {
        "dm": (
            "/escalate fire_acceptance The fire brigade does not answer",
            only(
                {
                    r: ok(r"^Send /escalate in the project's group chat\.$")
                    for r in ("butler", "butler_other", "office")
                },
                no(ONLY_FOR),
            ),
        ),
        "group": (
            "/escalate fire_acceptance The fire brigade does not answer",
            only(
                {
                    "butler": ok(r"^Problem #\d+ raised to level \d\.$"),
                    "office": ok(r"^Problem #\d+ raised to level \d\.$"),
                    "butler_other": no(DISPATCH),
                },
                no(ONLY_FOR),
            ),
        ),
    },
    "ack": {
        venue: (
            "/ack #{problem}",
            only(
                {
                    **{
                        r: ok(r"^Problem #{problem} acknowledged by ")
                        for r in ("butler", "office", "leader")
                    },
                    "butler_other": no(DISPATCH),
                },
                no(ONLY_FOR),
            ),
        )
        for venue in ("dm", "group")
    },
    "resolve": {
        venue: (
            "/resolve #{problem} The bureau issues the opinion by Friday",
            only(
                {
                    **{
                        r: ok(r"^Problem #{problem} closed; the minutes were sent\.$")
                        for r in ("butler", "office", "leader")
                    },
                    "butler_other": no(DISPATCH),
                },
                no(ONLY_FOR),
            ),
        )
        for venue in ("dm", "group")
    },
    "followup": {
        venue: (
            "/followup",
            only({"office": ok(r"^Usage: /followup ID NOTE")}, no(ONLY_FOR)),
        )
        for venue in ("dm", "group")
    },
    "waiting": {
        venue: (
            "/waiting",
            only({"office": ok(r"^No messages are waiting")}, no(ONLY_FOR)),
        )
        for venue in ("dm", "group")
    },
}

CASES = [
    pytest.param(command, venue, role, text, expect, id=f"{command}-{venue}-{role}")
    for command, venues in MATRIX.items()
    for venue, (text, table) in venues.items()
    for role, expect in table.items()
]


def test_the_matrix_covers_every_staff_command_and_role():
    from handlers.commands import COMMANDS

    staff = {c.name for c in COMMANDS if c.roles} | {"status", "progress"}
    assert staff <= set(MATRIX), staff - set(MATRIX)
    for venues in MATRIX.values():
        for _, table in venues.values():
            assert set(table) == set(ACTORS)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world() -> AsyncIterator[World]:
    folder = Path(tempfile.mkdtemp(prefix="daiban-authz-"))
    opened = await open_world(folder)
    await opened.speak_english()
    try:
        yield opened
    finally:
        await opened.close()
        shutil.rmtree(folder, ignore_errors=True)


async def _fresh_state(world: World) -> int:
    """Undo earlier cases: PA's fire_acceptance not started, no open problem but a new one
    (its number)."""
    async with UnitOfWork(world.app.services.db) as uow:
        project = await uow.projects.by_code("PA-0001")
        assert project is not None
        await uow.session.execute(
            update(ChecklistItem)
            .where(ChecklistItem.project_id == project.id, ChecklistItem.code == "fire_acceptance")
            .values(state="not_started", started_on=None, paused_on=None, done_on=None)
        )
        await uow.session.execute(
            update(Problem).where(Problem.state != "resolved").values(state="resolved")
        )
        item = await uow.items.by_code(project.id, "fire_acceptance")
        assert item is not None
        problem = await uow.problems.open(
            project_id=project.id,
            item_id=item.id,
            level=1,
            reason="No answer from the fire brigade",
            auto=True,
            opened_by_id=None,
            now=world.now,
        )
        await uow.flush()
        return problem.id


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("command", "venue", "role", "text", "expect"), CASES)
async def test_authorization(
    world: World, command: str, venue: str, role: str, text: str, expect: Expect
) -> None:
    problem = await _fresh_state(world)
    person = ACTORS[role]
    chat = "ga" if venue == "group" else None
    here = "group:ga" if chat else person
    sent = await world.said(person, chat, text.format(problem=problem))

    replies = [s.message.text for s in sent if s.chat == here]
    assert replies, f"no answer in {here}; sent: {[(s.chat, s.message.text) for s in sent]}"
    answer = "\n---\n".join(replies)
    pattern = expect.pattern.replace("{problem}", str(problem))
    assert any(re.search(pattern, r, re.DOTALL) for r in replies), answer
    if expect.forbidden is not None:
        assert expect.forbidden not in answer
    if not expect.allowed:
        assert PA_NAME not in answer, "a refusal shows the project"
        assert [s.chat for s in sent] == [here], "a refused command sent messages elsewhere"
    assert not world.errors.records, world.errors.lines()


PROJECT_STATUS = r"^\*\*PA-0001 运河物流中心\*\*\nStage: "
STATUS_BUTTON = only(
    {r: ok(PROJECT_STATUS) for r in ("ent", "butler", "spec", "backup", "spec_dept")}
    | {r: ok(PROJECT_STATUS) for r in ("office", "leader")},
    no(NOT_TEAM_DM),
)


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("role", "expect"), STATUS_BUTTON.items(), ids=list(STATUS_BUTTON))
async def test_project_status_button(world: World, role: str, expect: Expect) -> None:
    """The "Project status" button of problem notices and digests, pressed (or forged) by
    each role: the project's status for its team, the office and leaders only."""
    person = ACTORS[role]
    sent = await world.event(person, None, payload="status:PA-0001")
    replies = [s.message.text for s in sent if s.chat == person]
    assert len(replies) == 1 and re.search(expect.pattern, replies[0]), replies
    assert expect.allowed or PA_NAME not in replies[0]


@pytest.mark.asyncio(loop_scope="module")
async def test_buttons_of_a_problem_notice_answer(world: World) -> None:
    """The office gets an escalation with Acknowledge and Project status; both work."""
    await _fresh_state(world)
    await world.said("butler_a", "ga", "/escalate fire_acceptance No answer for a week")
    payloads = world.buttons_seen("office", None)
    assert [p.split(":")[0] for p in payloads] == ["problem", "status"], payloads
    shown = await world.event("office", None, payload=payloads[1])
    assert re.search(PROJECT_STATUS, shown[0].message.text), shown
    acked = await world.event("office", None, payload=payloads[0])
    assert re.search(r"^Problem #\d+ acknowledged by ", acked[0].message.text), acked
