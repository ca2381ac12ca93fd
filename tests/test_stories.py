"""Every story in tests/stories/ plays green through the real router, store and scheduler."""

from pathlib import Path

import pytest

from bot.stories import StoryError, parse_story, run_story_file

STORIES = sorted((Path(__file__).parent / "stories").glob("*.yaml"))


def test_there_are_stories():
    assert len(STORIES) >= 5


@pytest.mark.parametrize("path", STORIES, ids=[p.stem for p in STORIES])
async def test_story(path, tmp_path):
    result = await run_story_file(path, transcript=tmp_path / "transcript.jsonl")
    assert result.ok, "\n".join(str(f) for f in result.failures)
    assert (tmp_path / "transcript.jsonl").read_text(encoding="utf-8").strip()


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
