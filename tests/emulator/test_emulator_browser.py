"""The emulator page in real headless Chromium (Debian's `chromium`, driven by Playwright),
against a Daiban started as its own process exactly as `make run` starts it.

The journey is a list of steps: welcome and language buttons, the contact form with a wrong
mobile corrected, the inspector, a persona switch to the office, the clock moved past the
next working day and the stalled-form reminder arriving live; then the enterprise applies
for a project by typing and clicking (category, stage, service kinds, the documents it has —
one sent through the page's file control, one "not available yet" — review, submit), the
office accepts it from its card, and the enterprise sees the project code and its project
in /progress. A screenshot is saved, and the whole session, downloaded with "Export the
whole session", replays green with `daiban simulate`. What the issue asks beyond that (a
due date passes and the nudge lands in the project group) needs project teams and
reminders; it slots in as `nudge_in_group` when they exist.
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

from tests.emulator.browser_steps import answer, be, bot_says, press, say, send_file

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


def whole_session_replays_green(page, tmp_path: Path) -> None:
    """ "Export the whole session" downloads a story of every chat; it replays green."""
    with page.expect_download(timeout=20_000) as download:
        page.click("#export-all")
    assert download.value.suggested_filename == "emulator_export_session.yaml"
    story = tmp_path / "emulator_export_session.yaml"
    download.value.save_as(story)
    text = story.read_text(encoding="utf-8")
    # The application and its acceptance are in it, by both personas.
    assert '{as: enterprise, send_file: "filing.pdf"}' in text
    assert '{as: office, press: "✔ 受理"}' in text
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "simulate", str(story)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr + "\n" + story.read_text(encoding="utf-8")


def apply_for_project(page, tmp_path: Path) -> str:
    """The enterprise (in English since the welcome) applies; returns the application number."""
    answer(page, "/apply", "full name of your enterprise")
    answer(page, "Acme Build Co", "unified social credit code")
    answer(page, "91350100M000100Y43", "contact person's name")
    answer(page, "Zhang Wei", "mobile number")
    answer(page, "13800138000", "name of the project")
    answer(page, "Canal Tower", "total investment")
    step = answer(page, "12亿", "Which category")
    press(page, step, "Social-investment building", "Where is the project")
    step = answer(page, "Canal Business District, plot 3", "Which stage")
    step = press(page, step, "Project approval", "Which services")
    step = press(page, step, "Agency", "Which services")  # asked again, Agency ticked
    step = press(page, step, "☑ Agency", "Which services")  # and unticked: a toggle
    step = press(page, step, "Agency", "Which services")
    assert step.get_by_role("button", name="☑ Agency").is_visible()
    press(page, step, "Done", "planned construction start date")
    step = answer(page, "2027-03-01", "documents for your project's category")
    step = press(page, step, "Project filing form", "documents for your project's category")
    step = press(page, step, "Energy-conservation report", "documents for your project's category")
    step = press(page, step, "Done", "Please send “Project filing form” as a file")
    filing = tmp_path / "filing.pdf"
    filing.write_bytes(b"%PDF-1.4\n% a scanned filing form\n%%EOF\n")
    step = send_file(page, filing, "Please send “Energy-conservation report” as a file")
    # The sent file shows in the chat as the enterprise's own message, with its size.
    sent = page.locator("#messages .msg.mine .attachment").filter(has_text="filing.pdf")
    assert sent.count() == 1 and f"{filing.stat().st_size} B" in sent.inner_text()
    review = press(
        page,
        step,
        "Energy-conservation report — not available yet",
        "please check before submitting",
    )
    text = review.inner_text()
    for line in (
        "Acme Build Co",
        "13800138000",
        "Canal Tower",
        "Social-investment building",
        "Project approval",
        "Services requested: Agency",
        "Project filing form: filing.pdf",
        "Energy-conservation report: not available yet",
    ):
        assert line in text, f"{line!r} missing from the review:\n{text}"
    done = press(page, review, "✔ Submit", r"application number is A\d{4}-\d{4}")
    number = re.search(r"A\d{4}-\d{4}", done.inner_text())
    assert number is not None
    assert "marked “not yet available”" in done.inner_text()  # the documents not sent
    return number.group(0)


def office_accepts(page, number: str) -> str:
    """The office member (in Chinese) accepts from the new card; returns the project code."""
    be(page, "office")
    card = bot_says(page, f"新申请 {number}")
    text = card.inner_text()
    assert "Canal Tower" in text and "社会投资房建类" in text and "项目备案信息表" in text
    assert card.get_by_role("button").count() == 3  # accept, request materials, reject
    done = press(page, card, "✔ 受理", rf"已受理：申请 {number} 已建立项目 P\d{{4}}-\d{{4}}")
    code = re.search(r"P\d{4}-\d{4}", done.inner_text())
    assert code is not None
    return code.group(0)


def enterprise_sees_the_project(page, number: str, code: str) -> None:
    be(page, "enterprise")
    bot_says(page, rf"Your application {number} has been accepted\. Project code: {code}\.")
    progress = answer(page, "/progress", code)
    assert re.search(rf"{code} Canal Tower", progress.inner_text())


def test_the_emulator_page_in_headless_chromium(page, tmp_path):
    welcome_and_english(page)
    contact_form_with_a_wrong_mobile(page)
    inspector_shows_the_outbox_row(page)
    office_takes_a_look(page)
    next_working_day_brings_the_reminder(page)
    number = apply_for_project(page, tmp_path)
    code = office_accepts(page, number)
    enterprise_sees_the_project(page, number, code)
    # nudge_in_group(page)      — issues 4–5: a due date passes, the nudge in the group
    page.screenshot(path=str(tmp_path / "emulator.png"), full_page=True)
    assert (tmp_path / "emulator.png").stat().st_size > 10_000
    whole_session_replays_green(page, tmp_path)
