"""The emulator page in real headless Chromium (Debian's `chromium`, driven by Playwright),
against a Daiban started as its own process exactly as `make run` starts it.

The journey is a list of steps: welcome and language buttons, the contact form with a wrong
mobile corrected, the inspector, a persona switch to the office, the clock moved past the
next working day and the stalled-form reminder arriving live; then the enterprise applies
for a project by typing and clicking (category, stage, service kinds, the documents it has —
one sent through the page's file control, one "not available yet" — review, submit), the
office accepts it from its card, and the enterprise sees the project code and its project
in /progress. The office gives the project a team (/assign, buttons), the butler gets a
group code in the DM and binds the demo group with it (the chat list shows the binding
live); a working day later the first item is overdue and the nudge arrives live in the
group, @mentioning its specialist, who sees the mention marked as theirs. A screenshot is
saved, and the whole session, downloaded with "Export the whole session", replays green
with `daiban simulate` (the group code captured and typed as `${code1}`).
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
from playwright.sync_api import expect

from tests.emulator.browser_steps import (
    answer,
    be,
    bot_says,
    bot_says_after,
    mark,
    open_chat,
    press,
    say,
    send_file,
)
from tests.needs import missing

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
def chromium() -> Path:
    if not CHROMIUM.exists():
        missing(
            "the emulator's browser test (Debian's chromium is missing)",
            "sudo apt-get install -y --no-install-recommends chromium (make test does it as root)",
        )
    return CHROMIUM


@pytest.fixture
def page(chromium, daiban):
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
    expect(page.locator("html")).to_have_attribute("lang", "en")


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
    expect(page.locator("#conversation-state")).to_contain_text('"profile"')


def office_takes_a_look(page) -> None:
    be(page, "office")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    say(page, "/help")
    bot_says(page, "/start")


def next_working_day_brings_the_reminder(page) -> None:
    be(page, "enterprise")
    before = page.inner_text("#clock-time")
    page.click("#clock-hour")
    expect(page.locator("#clock-time")).not_to_have_text(before)
    # Past the next working day's morning, whatever the hour the test runs at.
    from domain.calendar import WorkCalendar

    now = datetime.fromisoformat(page.get_attribute("#clock-time", "data-iso"))
    day = WorkCalendar().add_workdays(now.astimezone(SHANGHAI).date(), 1)
    target = datetime.combine(day, clock_time(10, 0), SHANGHAI)
    page.fill("#clock-to-input", target.strftime("%Y-%m-%dT%H:%M"))
    page.click("#clock-to-go")
    expect(page.locator("#clock-time")).to_have_text(f"{target:%Y-%m-%d %H:%M}", timeout=60_000)
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
    # The team's part: the group is bound with a code the replay captures afresh.
    assert "(?P<code1>" in text and '{as: butler, in: group1, say: "/bind ${code1}"}' in text
    assert re.search(r"\{expect: \{in: group1, text: \"\^@王强 ", text)
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
    documents = "documents for your project's current and next stage"
    step = answer(page, "2027-03-01", documents)
    step = press(page, step, "Project filing form", documents)
    step = press(page, step, "Energy-conservation report", documents)
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


def office_assigns_the_team(page, code: str) -> None:
    """/assign: the project, then the butler by button; the three specialists join."""
    be(page, "office")
    step = answer(page, "/assign", "为哪个项目组建代办组")
    step = press(page, step, f"{code} Canal Tower", "请选择项目管家")
    team = press(page, step, "李娜（在办 0 个）", f"项目 {code} 代办组")
    text = team.inner_text()
    for name in ("李娜", "王强", "刘洋", "孙丽"):
        assert name in text, f"{name} missing from the team:\n{text}"


def butler_binds_the_demo_group(page, code: str) -> None:
    """The butler's group code from the DM binds the demo group; the list shows it live."""
    be(page, "butler")
    bot_says(page, f"您已被指定为项目 {code}")
    issued = answer(page, f"/bind {code}", "群绑定码")
    group_code = re.search(r"群绑定码：([A-Z2-9]{8})", issued.inner_text())
    assert group_code is not None
    unbound = page.locator(".chat[data-kind='group'][data-chat='group-1']")
    assert unbound.get_attribute("data-project") == ""
    open_chat(page, "group-1")
    welcome = answer(page, f"/bind {group_code.group(1)}", "欢迎加入项目")
    # Every member @mentioned and highlighted; the butler's own mention marked as theirs.
    names = welcome.locator(".mention").all_inner_texts()
    assert {"@李娜", "@张伟", "@王强", "@刘洋", "@孙丽"} <= set(names), names
    assert welcome.locator(".mention.me").all_inner_texts() == ["@李娜"]
    bot_says(page, f"一项目一册 — {code}")
    page.wait_for_selector(
        f".chat.active[data-chat='group-1'][data-project='{code}']", timeout=20_000
    )
    page.locator("#chat-header").filter(has_text=code).wait_for(timeout=20_000)


def the_nudge_arrives_in_the_group(page, code: str) -> None:
    """A working day on, the filing (due the day it was bound) is overdue: the nudge lands
    live in the open group, @mentioning the development-reform specialist."""
    before = page.inner_text("#clock-time")
    since = mark(page)
    page.click("#clock-workday")
    group_nudge = r"@王强 .*今日催办.*企业投资项目备案 — 已逾期"  # one message for the project
    nudge = bot_says_after(page, since, group_nudge, timeout=90_000)
    assert nudge.locator(".mention").all_inner_texts() == ["@王强"]
    expect(page.locator("#clock-time")).not_to_have_text(before, timeout=60_000)
    # The specialist sees the group (they are on the team) and the mention as theirs.
    be(page, "specialist-1")
    group = page.locator(".chat[data-chat='group-1']")
    assert group.get_attribute("data-project") == code
    open_chat(page, "group-1")
    mine = bot_says(page, r"@王强 .*(Overdue|逾期)")
    assert "mentions-me" in (mine.get_attribute("class") or "")
    assert mine.locator(".mention.me").all_inner_texts() == ["@王强"]
    # Sent by the daily round, not in answer to anyone: the inspector says so.
    mine.click()
    expect(page.locator("#inspector-outbox")).to_contain_text("nudge:", timeout=20_000)
    assert re.search(r"dedupe_key\s+nudge:", page.inner_text("#inspector-outbox"))
    assert page.inner_text("#inspector-event") == page.evaluate("() => state.ui.no_event")


def a_new_group_from_the_page(page) -> None:
    """ "New group": a second group chat, open at once, not bound yet."""
    be(page, "office")
    page.fill("#new-group-title", "第二项目群")
    page.click("#new-group-go")
    page.wait_for_selector(".chat.active[data-chat='group-2'][data-project='']", timeout=20_000)
    page.locator("#chat-header").filter(has_text="第二项目群").wait_for(timeout=20_000)


def test_the_emulator_page_in_headless_chromium(page, tmp_path):
    welcome_and_english(page)
    contact_form_with_a_wrong_mobile(page)
    inspector_shows_the_outbox_row(page)
    office_takes_a_look(page)
    next_working_day_brings_the_reminder(page)
    number = apply_for_project(page, tmp_path)
    code = office_accepts(page, number)
    enterprise_sees_the_project(page, number, code)
    office_assigns_the_team(page, code)
    butler_binds_the_demo_group(page, code)
    the_nudge_arrives_in_the_group(page, code)
    page.screenshot(path=str(tmp_path / "emulator.png"), full_page=True)
    assert (tmp_path / "emulator.png").stat().st_size > 10_000
    a_new_group_from_the_page(page)
    whole_session_replays_green(page, tmp_path)
