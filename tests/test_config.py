"""A wrong setting stops start-up with one sentence naming the variable, never a traceback."""

import os
import subprocess
import sys

import pytest

from bot.config import ConfigError, load_settings


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("DAIBAN_TIMEZONE", "Mars/Olympus", "time zone"),
        ("DAIBAN_DATABASE_URL", "mysql://root@localhost/daiban", "sqlite+aiosqlite://"),
        ("DAIBAN_WEB_PORT", "eighty", "integer"),
        ("DAIBAN_TELEGRAM_LIBRARY", "telethon", "aiogram"),
        ("DAIBAN_TICK_SECONDS", "1", "greater than or equal"),
    ],
)
def test_bad_setting_names_the_variable(monkeypatch, variable, value, words):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(variable)
    assert words in message
    assert "\n" not in message


def test_webhook_mode_needs_its_url(monkeypatch):
    monkeypatch.setenv("DAIBAN_TELEGRAM_TOKEN", "123:secret-token-value")
    monkeypatch.setenv("DAIBAN_TELEGRAM_MODE", "webhook")
    with pytest.raises(ConfigError, match="DAIBAN_TELEGRAM_WEBHOOK_URL"):
        load_settings()


def test_secrets_never_print(monkeypatch):
    monkeypatch.setenv("DAIBAN_TELEGRAM_TOKEN", "123:very-secret-token")
    settings = load_settings()
    assert "very-secret-token" not in repr(settings)
    assert "very-secret-token" not in str(settings.model_dump())


def test_cli_reports_bad_setting_in_one_line_without_traceback(tmp_path):
    env = {
        **os.environ,
        "DAIBAN_TIMEZONE": "Nowhere/Town",
        "DAIBAN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "DAIBAN_TIMEZONE" in lines[0]


def test_cli_unknown_scheme_is_one_clear_sentence(tmp_path):
    env = {
        **os.environ,
        "DAIBAN_SCHEME": "atlantis",
        "DAIBAN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db",
    }
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "DAIBAN_SCHEME" in done.stderr and "tongzhou" in done.stderr
