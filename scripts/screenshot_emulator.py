"""Take the README's screenshot of the emulator page (docs/emulator.png).

    .venv/bin/python scripts/screenshot_emulator.py [OUTPUT.png] [--lang en|zh]

Starts Daiban with the emulator on a throw-away SQLite store, drives a short session in
Debian's headless chromium (Playwright with `executable_path`, no browser download) and
saves the page. Chinese text needs a CJK font for chromium (Debian: fonts-wqy-microhei).
The page follows the persona's language; `--lang en` presses "English" first. Run it
again after a visible change to the page.
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


def say(page, text: str, wait_for: str) -> None:
    """Type `text`, then wait for a new bot message containing `wait_for`."""
    before = page.locator("#messages .msg.bot").count()
    page.fill("#composer-input", text)
    page.press("#composer-input", "Enter")
    page.wait_for_function(
        f"document.querySelectorAll('#messages .msg.bot').length > {before}", timeout=20_000
    )
    page.locator("#messages .msg.bot", has_text=wait_for).last.wait_for(timeout=20_000)


def main(output: Path, lang: str) -> None:
    with tempfile.TemporaryDirectory(prefix="daiban-shot-") as tmp:
        process, base = start_daiban(Path(tmp))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport={"width": 1400, "height": 860})
                page.goto(base)
                page.wait_for_selector("body[data-ready='1']")
                say(page, "/start", "全程代办")
                if lang == "en":
                    page.locator("#messages .msg.bot").last.get_by_role(
                        "button", name="English"
                    ).click()
                    page.wait_for_function("document.documentElement.lang === 'en'")
                say(page, "/profile", "")
                say(page, "张伟", "")
                say(page, "1381234567", "11")
                say(page, "13812345678", "")
                page.locator("#messages .msg.bot").last.click()
                page.wait_for_selector("#inspector-outbox table.outbox-row")
                page.wait_for_timeout(300)
                page.screenshot(path=str(output))
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=15)
    print(f"wrote {output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Screenshot the emulator page.")
    parser.add_argument("output", nargs="?", type=Path, default=ROOT / "docs" / "emulator.png")
    parser.add_argument("--lang", choices=["zh", "en"], default="zh")
    args = parser.parse_args()
    main(args.output, args.lang)
