"""Page gestures for the emulator's browser journey: type, press a button, send a file.

Each gesture waits for the bot's answer that it causes, and only for a message that arrived
*after* the gesture (a message list only grows), so an older message with the same words
never satisfies the wait: a multi-select step asks the same question again on every press.
Playwright's auto-waiting does the waiting; there are no sleeps.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page

WAIT_MS = 20_000  # one answer on a 2-core machine shared with other test runs


def say(page: Page, text: str) -> None:
    """Type `text` into the composer and send it."""
    page.fill("#composer-input", text)
    page.press("#composer-input", "Enter")


def bot_says(page: Page, pattern: str) -> Locator:
    """The newest bot message matching `pattern` (waits for it to arrive live)."""
    locator = page.locator("#messages .msg.bot").filter(has_text=re.compile(pattern)).last
    locator.wait_for(timeout=WAIT_MS)
    return locator


def mark(page: Page) -> int:
    """How many messages the open chat shows now; what arrives later is numbered after it."""
    return page.locator("#messages > .msg").count()


def bot_says_after(page: Page, since: int, pattern: str, timeout: int = WAIT_MS) -> Locator:
    """The first bot message after the first `since` messages that matches `pattern`."""
    newer = page.locator(f"#messages > .msg.bot:nth-child(n+{since + 1})")
    locator = newer.filter(has_text=re.compile(pattern, re.DOTALL)).first
    locator.wait_for(timeout=timeout)
    return locator


def answer(page: Page, text: str, expect: str) -> Locator:
    """Send `text`; the bot's next message matching `expect`."""
    since = mark(page)
    say(page, text)
    return bot_says_after(page, since, expect)


def press(page: Page, message: Locator, button: str, expect: str) -> Locator:
    """Click the button labelled exactly `button` on `message`; the bot's answer."""
    since = mark(page)
    message.get_by_role("button", name=button, exact=True).click()
    return bot_says_after(page, since, expect)


def send_file(page: Page, path: Path, expect: str) -> Locator:
    """Send `path` through the page's "send a file" control, as a person would pick it."""
    since = mark(page)
    with page.expect_file_chooser(timeout=WAIT_MS) as chooser:
        page.click("label.file-button")
    chooser.value.set_files(str(path))
    return bot_says_after(page, since, expect)


def be(page: Page, key: str) -> None:
    """Switch the page to persona `key`, with their DM chat open."""
    if (
        page.locator(f".persona.active[data-key='{key}']").count()
        and page.locator(f".chat.active[data-chat='{key}']").count()
    ):
        return  # already there: a click would only reload what is shown
    page.click(f".persona[data-key='{key}']")
    page.wait_for_selector(f".persona.active[data-key='{key}']", timeout=WAIT_MS)
    page.wait_for_selector(f".chat.active[data-chat='{key}']", timeout=WAIT_MS)
    # The header is written once the chat's history is on the page.
    name = page.inner_text(f".persona[data-key='{key}'] .name")
    page.locator("#chat-header").filter(has_text=name).wait_for(timeout=WAIT_MS)


def open_chat(page: Page, chat: str) -> None:
    """Open chat `chat` (a group's id) of the current persona from the chat list."""
    page.click(f".chat[data-chat='{chat}']")
    page.wait_for_selector(f".chat.active[data-chat='{chat}']", timeout=WAIT_MS)
    title = page.inner_text(f".chat[data-chat='{chat}'] .title")
    page.locator("#chat-header").filter(has_text=title).wait_for(timeout=WAIT_MS)
