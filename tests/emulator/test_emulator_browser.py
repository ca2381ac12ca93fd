"""The emulator page in real headless Chromium (Debian's `chromium`, driven by Playwright),
against a Daiban started as its own process exactly as `make run` starts it.

The journey is a list of steps over what exists today: welcome and language buttons, the
contact form with a wrong mobile corrected, the inspector, a persona switch to the office,
the clock moved past the next working day and the stalled-form reminder arriving live, and
the chat exported and replayed with `daiban simulate`. The project steps of the issue
(apply by buttons, the office accepts, a due date passes and the nudge lands in the group)
slot in as `apply_for_project`, `office_accepts` and `nudge_in_group` when those flows exist.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def daiban(tmp_path):
    """A Daiban process with the emulator on a fresh SQLite store; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DAIBAN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'daiban.sqlite3'}",
        "DAIBAN_WEB_PORT": str(port),
        "DAIBAN_TICK_SECONDS": "900",  # quarter-hour ticks, as stories use
        "DAIBAN_LOG_LEVEL": "WARNING",
    }
    for name in ("DAIBAN_TELEGRAM_TOKEN", "DAIBAN_WECOM_CORP_ID", "DAIBAN_EMULATOR"):
        env.pop(name, None)
    cli = [sys.executable, "-m", "bot.cli"]
    subprocess.run(
        [*cli, "db", "upgrade"], cwd=tmp_path, env=env, check=True, timeout=120, capture_output=True
    )
    log = (tmp_path / "daiban.log").open("w")
    # cwd is the temp folder, so no `.env` of the checkout leaks in.
    process = subprocess.Popen(
        [*cli, "run"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    "Daiban did not start:\n" + (tmp_path / "daiban.log").read_text()
                )
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def page(daiban):
    assert CHROMIUM.exists(), (
        "Debian's chromium is missing: `apt-get install -y --no-install-recommends chromium` "
        "(.ci/run does it)"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            # Offline: any request that is not to Daiban itself fails the journey.
            outside: list[str] = []

            def only_local(route):
                if route.request.url.startswith(daiban):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            context.route("**/*", only_local)
            page = context.new_page()
            page.goto(daiban)
            page.wait_for_selector("body[data-ready='1']", timeout=20_000)
            yield page
            assert outside == [], f"the page reached outside: {outside}"
        finally:
            browser.close()


# -- the steps ------------------------------------------------------------------------------
def say(page, text: str) -> None:
    page.fill("#composer-input", text)
    page.press("#composer-input", "Enter")


def bot_says(page, pattern: str):
    """The newest bot message matching `pattern` (waits for it to arrive live)."""
    locator = page.locator("#messages .msg.bot").filter(has_text=re.compile(pattern)).last
    locator.wait_for(timeout=20_000)
    return locator


def be(page, key: str) -> None:
    page.click(f".persona[data-key='{key}']")
    page.wait_for_selector(f".persona.active[data-key='{key}']")
    page.wait_for_selector(f".chat.active[data-chat='{key}']")


def welcome_and_english(page) -> None:
    assert page.locator(".persona").count() == 7
    specialists = page.locator(".persona[data-role='specialist'] .dept")
    assert specialists.count() == 3 and len(set(specialists.all_inner_texts())) == 3
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    say(page, "/start")
    bot_says(page, "全程代办").get_by_role("button", name="English").click()
    bot_says(page, "Language set to English")
    page.wait_for_function("document.documentElement.lang === 'en'")


def contact_form_with_a_wrong_mobile(page) -> None:
    say(page, "/profile")
    bot_says(page, "What is your name")
    say(page, "张伟")
    bot_says(page, "mobile number")
    say(page, "1381234567")
    bot_says(page, "11 digits")
    say(page, "13812345678")
    bot_says(page, "full name of your enterprise")


def inspector_shows_the_outbox_row(page) -> None:
    bot_says(page, "full name of your enterprise").click()
    page.wait_for_selector("#inspector-outbox table.outbox-row")
    row = page.inner_text("#inspector-outbox")
    assert re.search(r"dedupe_key\s+in:emulator:em-", row) and re.search(r"status\s+sent", row)
    assert '"command": null' in page.inner_text("#inspector-event")
    page.wait_for_function(
        "document.getElementById('conversation-state').textContent.includes('\"profile\"')"
    )


def office_takes_a_look(page) -> None:
    be(page, "office")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    say(page, "/help")
    bot_says(page, "/start")


def next_working_day_brings_the_reminder(page) -> None:
    be(page, "enterprise")
    before = page.inner_text("#clock-time")
    page.click("#clock-hour")
    page.wait_for_function(f"document.getElementById('clock-time').textContent !== '{before}'")
    # Past the next working day's morning, whatever the hour the test runs at.
    from domain.calendar import WorkCalendar

    now = datetime.fromisoformat(page.get_attribute("#clock-time", "data-iso"))
    day = WorkCalendar().add_workdays(now.astimezone(SHANGHAI).date(), 1)
    target = datetime.combine(day, clock_time(10, 0), SHANGHAI)
    page.fill("#clock-to-input", target.strftime("%Y-%m-%dT%H:%M"))
    page.click("#clock-to-go")
    page.wait_for_function(
        f"document.getElementById('clock-time').textContent === '{target:%Y-%m-%d %H:%M}'",
        timeout=60_000,
    )
    reminder = bot_says(page, "unfinished form: Contact details")
    assert "09:" in reminder.locator(".meta").inner_text()


def export_replays_green(page, base: str, tmp_path: Path) -> None:
    response = page.request.get(f"{base}/emulator/api/export?chat=enterprise")
    assert response.ok, response.text()
    story = tmp_path / "emulator_export.yaml"
    story.write_text(response.text(), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "simulate", str(story)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr + "\n" + story.read_text(encoding="utf-8")


def test_the_emulator_page_in_headless_chromium(page, daiban, tmp_path):
    welcome_and_english(page)
    contact_form_with_a_wrong_mobile(page)
    inspector_shows_the_outbox_row(page)
    # apply_for_project(page)   — issue 3: the application form, by buttons
    office_takes_a_look(page)
    # office_accepts(page)      — issue 3: acceptance by the office persona
    next_working_day_brings_the_reminder(page)
    # nudge_in_group(page)      — issues 4–5: a due date passes, the nudge in the group
    page.screenshot(path=str(tmp_path / "emulator.png"), full_page=True)
    assert (tmp_path / "emulator.png").stat().st_size > 10_000
    export_replays_green(page, daiban, tmp_path)
