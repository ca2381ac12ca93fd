"""The `daiban` command as an operator uses it: exit codes and what it prints."""

import subprocess
import sys
from pathlib import Path

import pytest

from domain.scheme_loader import list_presets

ROOT = Path(__file__).resolve().parents[1]


def daiban(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **kwargs,
    )


def test_all_five_presets_ship():
    assert set(list_presets()) >= {"tongzhou", "sanyuan", "guangzhou", "anshan", "jinniu"}


@pytest.mark.parametrize("preset", ["tongzhou", "sanyuan", "guangzhou", "anshan", "jinniu"])
def test_scheme_check_passes_each_preset_with_a_one_screen_summary(preset):
    done = daiban("scheme", "check", preset)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert 5 <= len(lines) <= 30
    assert f"[{preset}]" in lines[0]


def test_scheme_check_names_file_line_and_key_of_a_broken_copy(tmp_path):
    source = (ROOT / "schemes" / "sanyuan.yaml").read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(source) if "limit_workdays: 70" in line)
    source[index] = source[index].replace("limit_workdays: 70", "limit_workday: 70")
    broken = tmp_path / "sanyuan_copy.yaml"
    broken.write_text("\n".join(source) + "\n", encoding="utf-8")
    done = daiban("scheme", "check", str(broken))
    assert done.returncode == 1
    assert f"{broken}:{index + 1}:" in done.stderr
    assert "limit_workday" in done.stderr
    assert "Traceback" not in done.stderr


def test_simulate_exits_non_zero_with_the_failing_step(tmp_path):
    story = tmp_path / "s.yaml"
    story.write_text(
        "scheme: jinniu\nstart: 2026-11-23T09:00:00+08:00\n"
        "people: [{id: a, name: 甲, role: enterprise}]\n"
        "steps:\n  - {as: a, say: /start}\n  - {expect: {to: a, text: 'no such words'}}\n",
        encoding="utf-8",
    )
    done = daiban("simulate", str(story))
    assert done.returncode == 1
    assert "step 2" in done.stderr and "no such words" in done.stderr


def test_simulate_passes_a_green_story():
    done = daiban("simulate", str(ROOT / "tests" / "stories" / "anshan_help_and_form.yaml"))
    assert done.returncode == 0, done.stderr
