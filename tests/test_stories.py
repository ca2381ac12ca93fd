"""Every story in tests/stories/ plays green through the real router, store and scheduler."""

import re
from pathlib import Path

import pytest

from bot.stories import StoryError, parse_story, run_story_file

STORIES = sorted((Path(__file__).parent / "stories").glob("*.yaml"))


def test_there_are_stories():
    assert len(STORIES) >= 5


# What a person must never read (issue 21 point 4): an internal identifier such as
# `power_connection` or `mark_not_applicable`, or an event kind such as `item.submit`.
# A file name (worklog.csv) and a command's own word (/status, stage=…) are not codes.
SNAKE_CASE = re.compile(
    r"(?<![\w/.:@=-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b(?![\w-]*\.(?:csv|json|html|xlsx|zip))"
)
EVENT_KIND = re.compile(
    r"\b(?:application|consult|demo|eligibility|enterprise|item|log|person|plan|problem|profile"
    r"|project|rating|roster|ticket|nudge|ladder|digest|report)\.[a-z_]+\b"
)


def internal_codes(text: str) -> list[str]:
    """The internal identifiers and event kinds that show through in `text`."""
    return SNAKE_CASE.findall(text) + EVENT_KIND.findall(text)


def codes_in_transcript(transcript: list[dict]) -> list[str]:
    """Every bot message (and button) of a story that shows an internal code, with it."""
    found = []
    for entry in transcript:
        if entry.get("from") != "bot":
            continue
        labels = [str(b) for row in entry.get("buttons") or [] for b in row]
        for text in [entry.get("text") or "", *labels]:
            if codes := internal_codes(text):
                found.append(f"{entry.get('chat')}: {codes} in {text[:120]!r}")
    return found


@pytest.mark.parametrize("path", STORIES, ids=[p.stem for p in STORIES])
async def test_story(path, tmp_path):
    result = await run_story_file(path, transcript=tmp_path / "transcript.jsonl")
    assert result.ok, "\n".join(str(f) for f in result.failures)
    assert (tmp_path / "transcript.jsonl").read_text(encoding="utf-8").strip()
    assert codes_in_transcript(result.transcript) == []


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("**Construction permit** (project_filing) — P2026-0001", ["project_filing"]),
        ("您可以：不适用 (/item 5 mark_not_applicable)", ["mark_not_applicable"]),
        ("前置事项：construction_permit", ["construction_permit"]),
        ("事项 power_connection 当前状态为“待补正”", ["power_connection"]),
        ("  · 2026-10-12 problem.auto_raised 已逾期", ["problem.auto_raised"]),
        ("· 2026-10-12 item.submit", ["item.submit"]),
        ("一事一档：index.html、worklog.csv、problems_and_minutes.csv", []),
        ("Filters: zone=…, stage=…, overdue; /item 3 办结; P2026-0001", []),
    ],
)
def test_the_code_finder_finds_codes_and_only_codes(text, codes):
    assert internal_codes(text) == codes


BROKEN = """
scheme: tongzhou
start: 2026-11-23T09:00:00+08:00
people:
  - {id: zhang, name: 张伟, role: enterprise}
steps:
  - {as: zhang, say: /start}
  - {expect: {to: zhang, text: "this text is never sent"}}
"""


async def test_a_failing_expectation_reports_step_and_messages(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    result = await run_story_file(path)
    assert not result.ok
    failure = result.failures[0]
    assert failure.step == 2
    assert "this text is never sent" in failure.expectation
    assert any("全程代办" in m for m in failure.messages)


@pytest.mark.parametrize(
    ("snippet", "words"),
    [
        ("  - {as: zhang, say: hi, press: x}", "exactly one thing"),
        ("  - {say: hi}", "needs `as: PERSON`"),
        ("  - {as: zhang, sing: hi}", "sing"),
    ],
)
def test_bad_story_files_are_refused_clearly(snippet, words):
    text = BROKEN.split("steps:")[0] + "steps:\n" + snippet + "\n"
    with pytest.raises(StoryError, match=words):
        parse_story(text, "x.yaml")


def test_unknown_role_is_refused():
    text = BROKEN.replace("role: enterprise", "role: mayor")
    with pytest.raises(StoryError, match="unknown role 'mayor'"):
        parse_story(text, "x.yaml")
