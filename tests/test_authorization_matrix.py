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
- problems: the project's butler, the office and leaders (/ack, /resolve); the butler
  and the office for any item, an item's own specialist and backup for it (/escalate);
- the office assigns, archives, follows up bad reviews; office and leaders read the digest;
- commands whose answer covers other projects (/digest, /assign, /progress) are answered
  in a DM only, never into a project group;
- a refusal never shows the project's data;
- every button payload is authorised like its command (its route declares the same
  scope): each button route is pressed by each role, with made-up and huge ids too.
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
from sqlalchemy import delete, update

from bot.stories import PLATFORM
from storage.models import ChecklistItem, PersonRole, Problem
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
NOT_BUTLER = r"^The roster does not name that person as project butler\.$"
# Everyone on staff but the leaders.
WORKERS = ("butler", "butler_other", "spec", "spec_other", "backup", "spec_dept", "office")
MUTERS = WORKERS  # who may quiet their morning message (the leaders keep their digest)
NOT_TEAM_GROUP = r"you are not on the team of project PA-0001, so you cannot act on it here"
NOT_TEAM_DM = r"^You are not on the team of project PA-0001\.$"
DISPATCH = (
    r"^Only the project butler of project PA-0001, the executive group office \(District Major "
    r"Projects Centre\) or a leader can act"
)
DM_ONLY = r"^Send /\w+ in a direct chat with me"
BELONGS = r"“Fire-protection acceptance \(or filing\)” belongs to .*Only its service specialist"
OFFICE_MOVE = (
    r"You cannot do “Accept \(受理\)” on “Fire-protection acceptance \(or filing\)”\. "
    r"You can: Not applicable"
)
CARD_SUBMITTED = r"Fire-protection acceptance \(or filing\)\*\* — PA-0001\n.*\nState: submitted"
REPORT_UP = r"^Only the service specialist of “Fire-protection acceptance \(or filing\)”, their"


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
    "group": {
        "dm": (
            "/group PA-0001",  # the stories' messenger cannot make groups: the way by hand
            only(
                {
                    "butler": ok(r"^Here I cannot create group chats\. .*/bind PA-0001"),
                    "butler_other": no(NOT_TEAM_DM),
                },
                no(ONLY_FOR),
            ),
        ),
        "group": (
            "/group",
            only({"butler": no(DM_ONLY), "butler_other": no(DM_ONLY)}, no(ONLY_FOR)),
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
    "people": {
        "dm": (
            "/people",
            only(
                {"office": ok(r"^(\*\*Who cannot be reached|Everyone on the roster has)")},
                no(ONLY_FOR),
            ),
        ),
        "group": ("/people", only({"office": no(DM_ONLY)}, no(ONLY_FOR))),
    },
    "archive": {
        "dm": (
            "/archive PA-0001",
            only(
                {"office": ok(r"^The file of project PA-0001 运河物流中心 \(一事一档\), with ")},
                no(ONLY_FOR),
            ),
        ),
        "group": ("/archive PA-0001", only({"office": no(DM_ONLY)}, no(ONLY_FOR))),
    },
    "ledger": {  # every project's company, contact and phone: the office, in a DM only
        "dm": ("/ledger", only({"office": ok(r"^The ledger \(台账\) as of ")}, no(ONLY_FOR))),
        "group": ("/ledger", only({"office": no(DM_ONLY)}, no(ONLY_FOR))),
    },
    "report": {
        "dm": (
            "/report monthly",
            only({"office": ok(r"^Monthly report \d{4}-\d{2}\nNew applications")}, no(ONLY_FOR)),
        ),
        "group": ("/report", only({"office": no(DM_ONLY)}, no(ONLY_FOR))),
    },
    "contacts": {  # an enterprise's contacts and their mobiles: the office, in a DM only
        "dm": (
            "/contacts 91350100M000100Y43",
            only(
                {"office": ok(r"^No enterprise with credit code 91350100M000100Y43 is known\.$")},
                no(ONLY_FOR),
            ),
        ),
        "group": ("/contacts 91350100M000100Y43", only({"office": no(DM_ONLY)}, no(ONLY_FOR))),
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
                    "ent_none": ok(r"^You have no projects or applications yet", "PA-0001"),
                    "stranger": ok(r"^You have no projects or applications yet", "PA-0001"),
                },
                no(ONLY_FOR + "builder's contact person"),  # staff follow their work with /mine
            ),
        ),
        "group": ("/progress", only({r: no(DM_ONLY) for r in NON_STAFF}, no(ONLY_FOR))),
    },
    "mine": {
        "dm": (
            "/mine",
            only(
                {
                    **{r: no(ONLY_FOR) for r in NON_STAFF},
                    "spec": ok(r"^\*\*Your work, .*\nOpen items \(\d+\):\n• PA-0001 · "),
                    "butler": ok(r"^\*\*Your work, .*Unresolved problems \(\d+\):\n• #"),
                },
                ok(r"^\*\*Your work, "),
            ),
        ),
        "group": ("/mine", only({r: no(ONLY_FOR) for r in NON_STAFF}, no(DM_ONLY))),
    },
    "escalate": {
        "dm": (
            "/escalate fire_acceptance The fire brigade does not answer",
            only(
                {
                    r: ok(r"^Send /escalate in the project's group chat\.$")
                    for r in (
                        "butler",
                        "butler_other",
                        "office",
                        "spec",
                        "spec_other",
                        "backup",
                        "spec_dept",
                    )
                },
                no(ONLY_FOR),
            ),
        ),
        "group": (
            "/escalate fire_acceptance The fire brigade does not answer",
            only(
                {
                    **{
                        r: ok(r"^Problem #\d+ raised to level 1\.$")
                        for r in ("butler", "office", "spec", "backup")
                    },
                    "spec_dept": no(REPORT_UP),
                    "butler_other": no(NOT_TEAM_GROUP),
                    "spec_other": no(NOT_TEAM_GROUP),
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
    "activity": {
        "dm": (
            "/activity",
            only(
                {
                    r: ok(r"^\*\*Government–enterprise activity\*\* \(1/6\)\nWhat kind")
                    for r in WORKERS
                },
                no(ONLY_FOR),
            ),
        ),
        "group": (
            "/activity",
            only(
                {r: no(DM_ONLY) for r in WORKERS},
                no(ONLY_FOR),
            ),
        ),
    },
    "followup": {
        venue: (
            "/followup",
            only({"office": ok(r"^Usage: /followup ID NOTE")}, no(ONLY_FOR)),
        )
        for venue in ("dm", "group")
    },
    "waiting": {
        "dm": ("/waiting", only({"office": ok(r"^No messages are waiting")}, no(ONLY_FOR))),
        "group": ("/waiting", only({"office": no(DM_ONLY)}, no(ONLY_FOR))),
    },
    "mute": {
        "dm": (
            "/mute",
            only({r: ok(r"^You get the morning message") for r in MUTERS}, no(ONLY_FOR)),
        ),
        "group": ("/mute", only({r: no(DM_ONLY) for r in MUTERS}, no(ONLY_FOR))),
    },
}

CASES = [
    pytest.param(command, venue, role, text, expect, id=f"{command}-{venue}-{role}")
    for command, venues in MATRIX.items()
    for venue, (text, table) in venues.items()
    for role, expect in table.items()
]


def test_the_matrix_covers_every_staff_command_and_role():
    from handlers.app_router import build_router
    from handlers.commands import command_infos

    staff = {c.name for c in command_infos(build_router()) if c.roles} | {"status", "progress"}
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


# -- button payloads: authorised like their commands, made-up ids included ----------------
# A payload is typed by whoever sends it (a forged callback, an old message): every button
# route is pressed by every role with made-up ids and with real ones, in a DM and in the
# project groups. `{item}`, `{project}`, `{problem}` are PA-0001's; None means silence.
MADE_UP = 999_999
HUGE = 10**22  # beyond any id column: still just "gone", never an overflow
GONE_ITEM = r"^This item no longer exists\.$"
NOT_YOURS = r"^This rating is not yours to give\.$"
OTHER_GROUP = r"^This button belongs to another project's group; press it there\.$"
NOT_CONTACT = r"^Only the enterprise contact of the project can confirm its completion\.$"
NO_PROBLEM = r"^No open problem found\. Give its number, e\.g\. /ack #12\.$"
NO_PROBLEM_RESOLVE = r"^No open problem found\. Give its number, e\.g\. /resolve #12 MINUTES\.$"
DISPATCHERS = {"butler", "office", "leader"}
STAFF_ROLES = {"butler", "butler_other", "spec", "spec_other", "backup", "spec_dept", "office"}
STAFF_ROLES |= {"leader"}


def everyone(expect: Expect) -> dict[str, Expect]:
    return only({}, expect)


def silent() -> Expect:
    return Expect(False, "")  # pattern "" with allowed False: nothing may be answered


ITEM_MOVES_DM = only(
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
)
ITEM_MOVES_GROUP = only(
    {
        "butler": ok(CARD_SUBMITTED),
        "spec": ok(CARD_SUBMITTED),
        "backup": ok(CARD_SUBMITTED),
        "spec_dept": no(BELONGS),
        "office": no(OFFICE_MOVE),
        "leader": no(BELONGS),
    },
    no(NOT_TEAM_GROUP),
)

CARD_SHOWN = r"Fire-protection acceptance \(or filing\)\*\* — PA-0001\n.*\nState: not started"
NOT_YET = r"“Fire-protection acceptance \(or filing\)” is not started, so “Done \(办结\)” is not"
# /mine's button shows the card to anyone of the team; closing with the approval's number
# asks only someone who may close it now (here nobody may: the item has not started).
ITEM_SHOWN = only(
    {
        **{r: no(ONLY_FOR) for r in NON_STAFF},
        **{r: ok(CARD_SHOWN) for r in ("butler", "spec", "backup", "spec_dept", "office")},
        "leader": ok(CARD_SHOWN),
    },
    no(NOT_TEAM_DM),
)
ITEM_RECORD = only(
    {
        **{r: no(ONLY_FOR) for r in NON_STAFF},
        **{r: no(NOT_YET) for r in ("butler", "spec", "backup")},
        "spec_dept": no(BELONGS),
        "office": no(NOT_YET + r" possible now\. You can: Not applicable \(/item \d+ 不适用\)"),
        "leader": no(BELONGS),
    },
    no(NOT_TEAM_DM),
)

# payload → venue ("dm", "ga", "gb") → {role: expectation}; `form` cases start a form
# that is cancelled afterwards.
BUTTONS: dict[str, dict[str, dict[str, Expect]]] = {
    "kind:nope": {"dm": everyone(no(r"^That service is not offered here\."))},
    "lang:xx": {"dm": everyone(no(r"^Unknown language “xx”"))},
    "resume": {"dm": everyone(no(r"^You have no unfinished form\."))},
    "menu:consult": {"dm": everyone(ok(r"^Type your question in this chat"))},
    f"faq:nope:{MADE_UP}": {"dm": everyone(no(r"^That answer is no longer available\."))},
    f"ticket:ask:{MADE_UP}": {"dm": everyone(no(r"^Please type your question again\.$"))},
    f"ticket:take:{MADE_UP}": {
        "dm": only({"office": no(r"^This question no longer exists\.$")}, no(ONLY_FOR))
    },
    f"app:resubmit:{MADE_UP}": {"dm": everyone(no(r"^This application no longer exists\.$"))},
    **{
        f"app:{verb}:{MADE_UP}": {
            "dm": only({"office": no(r"^This application no longer exists\.$")}, no(ONLY_FOR))
        }
        for verb in ("accept", "reject", "request")
    },
    "menu:progress": {"ga": everyone(silent())},
    # The office's cards are DM'd; pressed (or forged) in a group they are ignored, as
    # their commands are refused there: nothing about other enterprises reaches a group.
    **{
        payload: {"ga": everyone(silent())}
        for payload in (
            "app:accept:1",
            "app:reject:1",
            "app:request:1",
            "asg:p:{project}",
            "asg:b:{project}:1",
            "ticket:take:1",
        )
    },
    f"asg:p:{MADE_UP}": {
        "dm": only({"office": no(r"^This project no longer exists\.$")}, no(ONLY_FOR))
    },
    **{
        payload: {"dm": only({"office": no(gone)}, no(ONLY_FOR))}
        for payload, gone in (
            (f"app:accept:{HUGE}", r"^This application no longer exists\.$"),
            (f"asg:p:{HUGE}", r"^This project no longer exists\.$"),
            (f"asg:b:{HUGE}:{HUGE}", r"^This project no longer exists\.$"),
            ("asg:b:{project}:" + str(MADE_UP), NOT_BUTLER),
            ("asg:b:{project}:{ent_id}", NOT_BUTLER),
            (f"ticket:take:{HUGE}", r"^This question no longer exists\.$"),
        )
    },
    f"faq:{'x' * 3}:{HUGE}": {"dm": everyone(no(r"^That answer is no longer available\."))},
    "st:²:": {"dm": everyone(ok(r"\("))},  # a forged page number shows the first page
    f"asg:b:{MADE_UP}:{MADE_UP}": {
        "dm": only({"office": no(r"^This project no longer exists\.$")}, no(ONLY_FOR))
    },
    f"it:{HUGE}:submit": {"dm": only({r: no(GONE_ITEM) for r in STAFF_ROLES}, no(ONLY_FOR))},
    "it:１２:submit": {"ga": everyone(no(GONE_ITEM))},  # full-width digits name nothing
    f"fin:ok:{HUGE}": {"dm": everyone(no(r"^This project no longer exists\.$"))},
    f"problem:ack:{HUGE}": {
        "dm": only({r: no(NO_PROBLEM) for r in (*DISPATCHERS, "butler_other")}, no(ONLY_FOR))
    },
    f"rate:{HUGE}:team:2026Q4": {"dm": everyone(no(NOT_YOURS))},
    f"ticket:ask:{HUGE}": {"dm": everyone(no(r"^Please type your question again\.$"))},
    f"app:resubmit:{HUGE}": {"dm": everyone(no(r"^This application no longer exists\.$"))},
    f"it:{MADE_UP}:submit": {
        "dm": only({r: no(GONE_ITEM) for r in STAFF_ROLES}, no(ONLY_FOR)),
        "ga": everyone(no(GONE_ITEM)),
    },
    "it:{item}:submit": {
        "dm": ITEM_MOVES_DM,
        "ga": ITEM_MOVES_GROUP,
        "gb": everyone(no(OTHER_GROUP)),  # PB's group never moves (or shows) PA's items
    },
    "it:{item}:show": {"dm": ITEM_SHOWN},
    "it:{item}:record": {"dm": ITEM_RECORD},
    "it:{item}:no_such_action": {
        "dm": only(
            {r: no(GONE_ITEM) for r in STAFF_ROLES if r not in ("butler_other", "spec_other")}
            | {r: no(ONLY_FOR) for r in NON_STAFF},
            no(NOT_TEAM_DM),
        ),
    },
    "st:0:": {"ga": everyone(silent())},
    "status:NOPE-9999": {"dm": everyone(no(r"^There is no project NOPE-9999\.$"))},
    "status:PA-0001": {"ga": everyone(silent())},
    f"fin:ok:{MADE_UP}": {"dm": everyone(no(r"^This project no longer exists\.$"))},
    "fin:ok:{project}": {
        "dm": only(
            {"ent": no(r"^Project PA-0001 is not waiting for your confirmation\.$")},
            no(NOT_CONTACT),
        ),
        "ga": only(
            {"ent": no(r"^Project PA-0001 is not waiting for your confirmation\.$")},
            no(NOT_CONTACT),
        ),
    },
    f"problem:ack:{MADE_UP}": {
        "dm": only({r: no(NO_PROBLEM) for r in (*DISPATCHERS, "butler_other")}, no(ONLY_FOR))
    },
    f"problem:resolve:{MADE_UP}": {
        "dm": only(
            {r: no(NO_PROBLEM_RESOLVE) for r in (*DISPATCHERS, "butler_other")}, no(ONLY_FOR)
        )
    },
    "problem:resolve:{problem}": {
        venue: only(
            {
                **{r: ok(r"^\*\*Close a problem\*\* \(1/1\)") for r in DISPATCHERS},
                "butler_other": no(DISPATCH),
            },
            no(ONLY_FOR),
        )
        for venue in ("dm", "ga")
    },
    "problem:ack:{problem}": {
        venue: only(
            {
                **{r: ok(r"^Problem #{problem} acknowledged by ") for r in DISPATCHERS},
                "butler_other": no(DISPATCH),
            },
            no(ONLY_FOR),
        )
        for venue in ("dm", "ga")
    },
    f"rate:{MADE_UP}:team:2026Q4": {"dm": everyone(no(NOT_YOURS))},
    "rate:{project}:team:ANY": {
        "dm": only({"ent": no(r"^The rating round ANY is not open\.$")}, no(NOT_YOURS))
    },
    "rate:{project}:team:2025Q4": {
        "dm": only({"ent": no(r"^The rating round 2025Q4 is not open\.$")}, no(NOT_YOURS))
    },
    "rate:{project}:team:2026Q4": {
        "dm": only(
            {"ent": ok(r"How satisfied are you with the agency team of project PA-0001")},
            no(NOT_YOURS),
        )
    },
    "rate:{project}:enterprise:2026Q4": {
        "dm": only(
            {"butler": ok(r"How well did the enterprise cooperate on project PA-0001")},
            no(NOT_YOURS),
        )
    },
}
# An enterprise claim is decided by its contacts or the office (the ClaimDecider scope checks
# whom the claim concerns); made-up and huge ids name no claim, for anyone.
BUTTONS |= {
    **{
        f"claim:{verb}:{number}": {"dm": everyone(no(r"^This request no longer exists\.$"))}
        for verb in ("approve", "refuse")
        for number in (MADE_UP, HUGE)
    },
    **{
        payload: {"dm": only({"office": no(gone)}, no(ONLY_FOR)), "ga": everyone(silent())}
        for payload, gone in (
            (f"contact:invite:{MADE_UP}", r"^This enterprise no longer exists\.$"),
            (
                f"contact:remove:{MADE_UP}:{HUGE}",
                r"^This person is no longer a contact of that enterprise\.$",
            ),
        )
    },
}
# The office's choice of a department's specialist (/assign) and its new codes (/people):
# made-up, huge, malformed ids and people of the wrong kind are refused; never in a group.
NOT_SPECIALIST = (
    r"^The roster does not name that person as service specialist of that department\.$"
)
NOT_STAFF = r"^That person is not on the staff roster\.$"
GONE_PROJECT = r"^This project no longer exists\.$"
BUTTONS |= {
    payload: {"dm": only({"office": no(gone)}, no(ONLY_FOR)), "ga": everyone(silent())}
    for payload, gone in (
        (f"asg:s:{MADE_UP}:1:1", GONE_PROJECT),
        (f"asg:s:{HUGE}:{HUGE}:{HUGE}", GONE_PROJECT),
        ("asg:s:{project}:1", GONE_PROJECT),
        ("asg:s:{project}:1:1:1", GONE_PROJECT),
        ("asg:s:{project}:" + f"{MADE_UP}:{MADE_UP}", NOT_SPECIALIST),
        ("asg:s:{project}:" + f"{HUGE}:" + "{ent_id}", NOT_SPECIALIST),
        (f"ppl:i:{MADE_UP}", NOT_STAFF),
        (f"ppl:i:{HUGE}", NOT_STAFF),
        ("ppl:i:{ent_id}", NOT_STAFF),
        ("ppl:i:-1", NOT_STAFF),
    )
}
# The butler's "create the group" button: a made-up project is gone for butlers; in a
# group it is ignored (it answers in a direct chat only).
BUTTONS |= {
    f"grp:{MADE_UP}": {
        "dm": only(
            {r: no(r"^This project no longer exists\.$") for r in ("butler", "butler_other")},
            no(ONLY_FOR),
        ),
        "ga": everyone(silent()),
    },
}
FORMS = {"menu:check", "menu:apply"}  # no id: they start a form for anyone

BUTTON_CASES = [
    pytest.param(payload, venue, role, expect, id=f"{payload}-{venue}-{role}")
    for payload, venues in BUTTONS.items()
    for venue, table in venues.items()
    for role, expect in table.items()
]


def test_the_button_matrix_covers_every_button_route_and_role():
    from handlers.app_router import build_router

    prefixes = {r.key for r in build_router().routes() if r.kind == "button"}
    pressed = {p for p in [*BUTTONS, *FORMS]}
    uncovered = {p for p in prefixes if not any(x.startswith(p) for x in pressed)}
    assert uncovered == set()
    for venues in BUTTONS.values():
        for table in venues.values():
            assert set(table) == set(ACTORS)


async def _ids(world: World) -> dict[str, int]:
    async with UnitOfWork(world.app.services.db) as uow:
        project = await uow.projects.by_code("PA-0001")
        assert project is not None
        item = await uow.items.by_code(project.id, "fire_acceptance")
        assert item is not None
        contact = await uow.people.by_account(PLATFORM, "ent_a")
        assert contact is not None
        return {"project": project.id, "item": item.id, "ent_id": contact.id}


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("payload", "venue", "role", "expect"), BUTTON_CASES)
async def test_button_authorization(
    world: World, payload: str, venue: str, role: str, expect: Expect
) -> None:
    problem = await _fresh_state(world)
    person = ACTORS[role]
    chat = None if venue == "dm" else venue
    here = f"group:{chat}" if chat else person
    pressed = payload.format(problem=problem, **await _ids(world))
    sent = await world.event(person, chat, payload=pressed)
    try:
        replies = [s.message.text for s in sent if s.chat == here]
        if expect.pattern == "":
            assert sent == [], f"{pressed} in {here} must be ignored: {replies}"
            return
        assert replies, f"no answer in {here}; sent: {[(s.chat, s.message.text) for s in sent]}"
        pattern = expect.pattern.replace("{problem}", str(problem))
        assert any(re.search(pattern, r, re.DOTALL) for r in replies), "\n---\n".join(replies)
        if not expect.allowed:
            assert PA_NAME not in "\n".join(replies), "a refusal shows the project"
            assert [s.chat for s in sent] == [here], "a refused button sent messages elsewhere"
        assert not world.errors.records, world.errors.lines()
    finally:
        await world.event(person, chat, text="/cancel")  # leave no form open


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("payload", sorted(FORMS))
@pytest.mark.parametrize("role", sorted(ACTORS))
async def test_form_buttons_open_a_form_for_anyone(world: World, payload: str, role: str):
    """The service menu's Check and Apply need no id: anyone may start them, in the chat
    they press them in, and nothing goes elsewhere."""
    person = ACTORS[role]
    try:
        sent = await world.event(person, None, payload=payload)
        assert sent and {s.chat for s in sent} == {person}
        assert re.search(r"\(1/\d+\)|Your contact details", sent[-1].message.text), sent
    finally:
        await world.event(person, None, text="/cancel")
    assert not world.errors.records, world.errors.lines()


@pytest.mark.asyncio(loop_scope="module")
async def test_a_rating_round_takes_one_rating_per_person_and_period(world: World) -> None:
    """`rate:1:team:ANY` once made unlimited bad reviews: only the open round's period is
    honoured, and only once."""
    ids = await _ids(world)
    rate = f"rate:{ids['project']}:team:2026Q4"
    asked = await world.event("ent_a", None, payload=rate)
    assert re.search(r"How satisfied are you", asked[-1].message.text), asked
    worst = [p for p in world.buttons_seen("ent_a", None) if p.endswith(":1")]
    await world.event("ent_a", None, payload=worst[0])
    await world.event("ent_a", None, payload=world.buttons_seen("ent_a", None)[-2])  # Skip
    done = await world.event("ent_a", None, payload=world.buttons_seen("ent_a", None)[0])
    assert any("Thank you for your rating" in s.message.text for s in done), done
    again = await world.event("ent_a", None, payload=rate)
    assert again[0].message.text == "You have already rated this for 2026Q4."
    for period in ("ANY", "2026Q3", "2027Q1", "x" * 500):
        refused = await world.event("ent_a", None, payload=f"rate:{ids['project']}:team:{period}")
        assert re.search(r"^The rating round .{1,20} is not open\.$", refused[0].message.text)
    async with UnitOfWork(world.app.services.db) as uow:
        ratings = await uow.items.ratings_of(ids["project"])
    assert [(r.period, r.level) for r in ratings] == [("2026Q4", 1)]
    assert not world.errors.records, world.errors.lines()


@pytest.mark.asyncio(loop_scope="module")
async def test_a_form_step_is_checked_like_the_route_that_opened_it(world: World) -> None:
    """The office's answer form asks for the office role at every step: someone whose role
    is withdrawn mid-form cannot submit it, and may still cancel it."""
    await world.said("stranger", None, "火星上的仓库可以代办吗？请人工回答")
    take = [p for p in world.buttons_seen("office", None) if p.startswith("ticket:take:")]
    opened = await world.event("office", None, payload=take[-1])
    assert any("(1/" in s.message.text for s in opened), opened
    async with UnitOfWork(world.app.services.db) as uow:
        office = await uow.people.by_account(PLATFORM, "office")
        assert office is not None
        await uow.session.execute(
            delete(PersonRole).where(PersonRole.person_id == office.id, PersonRole.role == "office")
        )
    try:
        refused = await world.said("office", None, "可以，请带上土地证明")
        assert [s.message.text for s in refused] == [
            "Sorry, this is only for: executive group office (District Major Projects Centre). "
            "Ask the executive group office (District Major Projects Centre) if you need access."
        ]
        cancelled = await world.said("office", None, "/cancel")
        assert cancelled[0].message.text == "Cancelled. Nothing was submitted."
    finally:
        async with UnitOfWork(world.app.services.db) as uow:
            await uow.people.add_role(office.id, "office")
    assert not world.errors.records, world.errors.lines()
