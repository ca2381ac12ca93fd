"""Take the README's screenshot of the emulator page (docs/emulator.png).

    .venv/bin/python scripts/screenshot_emulator.py [OUTPUT.png]

Starts Daiban with the emulator on a throw-away SQLite store, drives the browser test's
journey in Debian's headless chromium (Playwright with `executable_path`, no browser
download) up to the overdue nudge in the bound project group, and saves the page as the
specialist it @mentions sees it (Chinese UI). Chinese text needs a CJK font for chromium
(Debian: fonts-wqy-microhei). Run it again after a visible change to the page or after
the catalogs change.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
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


def start_daiban(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "DAIBAN_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'daiban.sqlite3'}",
        "DAIBAN_WEB_PORT": str(port),
        "DAIBAN_TICK_SECONDS": "900",
        "DAIBAN_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    cli = [sys.executable, "-m", "bot.cli"]
    subprocess.run([*cli, "db", "upgrade"], cwd=folder, env=env, check=True, capture_output=True)
    process = subprocess.Popen([*cli, "run"], cwd=folder, env=env, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                return process, base
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("Daiban did not start")


def journey(page, folder: Path) -> None:
    """The browser test's journey up to the nudge in the project group (its step functions,
    so the picture shows what the test checks): apply, accept, team, bind, a day later."""
    sys.path.insert(0, str(ROOT))
    from domain.calendar import WorkCalendar
    from tests.emulator import test_emulator_browser as steps

    # As in the test: start on a working day's morning, whatever day it is now.
    now = datetime.fromisoformat(page.get_attribute("#clock-time", "data-iso"))
    day = WorkCalendar().add_workdays(now.astimezone(steps.SHANGHAI).date(), 1)
    target = datetime.combine(day, clock_time(10, 0), steps.SHANGHAI)
    page.fill("#clock-to-input", target.strftime("%Y-%m-%dT%H:%M"))
    page.click("#clock-to-go")
    page.wait_for_function(
        f"document.getElementById('clock-time').textContent === '{target:%Y-%m-%d %H:%M}'",
        timeout=60_000,
    )
    steps.welcome_and_english(page)  # the enterprise applies in English, the rest is Chinese
    number = steps.apply_for_project(page, folder)
    code = steps.office_accepts(page, number)
    steps.office_assigns_the_team(page, code)
    steps.butler_binds_the_demo_group(page, code)
    steps.the_nudge_arrives_in_the_group(page, code)  # ends as the specialist, nudge selected


def main(output: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="daiban-shot-") as tmp:
        process, base = start_daiban(Path(tmp))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport={"width": 1400, "height": 860}, locale="zh-CN")
                page.goto(base)
                page.wait_for_selector("body[data-ready='1']")
                journey(page, Path(tmp))
                page.screenshot(path=str(output))
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=15)
    print(f"wrote {output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Screenshot the emulator page.")
    parser.add_argument("output", nargs="?", type=Path, default=ROOT / "docs" / "emulator.png")
    args = parser.parse_args()
    main(args.output)
