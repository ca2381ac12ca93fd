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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("DAIBAN_")}
    env |= {
        "DAIBAN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'new' / 'daiban.sqlite3'}",
        "DAIBAN_WEB_PORT": str(_free_port()),
        **extra,
    }
    return env


def test_run_creates_a_new_empty_database_by_itself(tmp_path):
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=tmp_path,
        env=_env(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "Daiban is running" in line:
                break
        assert any(line.startswith("created a new database") for line in lines), lines
        assert any("Daiban is running" in line for line in lines), lines
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert (tmp_path / "new" / "daiban.sqlite3").exists()


def test_run_still_refuses_a_database_that_needs_a_migration(tmp_path):
    import asyncio

    from storage.migrate import upgrade

    env = _env(tmp_path)
    (tmp_path / "new").mkdir()
    asyncio.run(upgrade(env["DAIBAN_DATABASE_URL"], "0005"))
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 2
    assert "is not up to date; run `daiban db upgrade`" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", "no/such/story.yaml"],
        ["simulate", "tests"],
        ["scheme", "check", "no/such/scheme.yaml"],
        ["people", "import", "no/such/roster.xlsx"],
        ["report", "weekly", "--period", "2026-W48", "--output", "no/such/dir/r.md"],
        ["export", "ledger", "--output", "no/such/dir/ledger.xlsx"],
    ],
)
def test_a_missing_file_is_one_sentence_not_a_traceback(tmp_path, args):
    from storage.migrate import upgrade

    env = _env(tmp_path)
    (tmp_path / "new").mkdir()
    import asyncio

    asyncio.run(upgrade(env["DAIBAN_DATABASE_URL"]))
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    said = done.stderr.strip()
    assert said and "\n" not in said, said
    assert "no/such" in said or "tests" in said
