"""Daiban on Telegram end to end: `daiban run` as a separate process against the fake Bot
API, once on aiogram and once on python-telegram-bot, with the same conversation."""

from __future__ import annotations

import aiohttp
import pytest
import telegram
from aiogram import types as aiogram_types

from handlers.i18n import gettext
from tests.fakes.fake_bot_api import FakeBotApi, Sent
from tests.transports.conftest import DaibanProcess, free_port, wait_until_polling

LIBRARIES = ["aiogram", "ptb"]


def zh(msgid: str) -> str:
    return gettext("zh_CN", msgid)


def en(msgid: str) -> str:
    return gettext("en", msgid)


def parses_with_both_libraries(sent: Sent) -> None:
    """The fake's answers are real Bot API objects: both libraries' own types accept them."""
    ours = aiogram_types.Message.model_validate(sent.message)
    theirs = telegram.Message.de_json(sent.message, None)
    assert ours.message_id == theirs.message_id == sent.message["message_id"]
    assert ours.chat.id == theirs.chat.id == sent.chat_id
    if sent.buttons:
        assert ours.reply_markup is not None and theirs.reply_markup is not None


async def next_to(fake: FakeBotApi, chat_id: int, count_before: int) -> Sent:
    await fake.wait_for(lambda: len(fake.sent_to(chat_id)) > count_before)
    return fake.sent_to(chat_id)[count_before]


@pytest.mark.parametrize("library", LIBRARIES)
async def test_conversation_start_form_buttons_group_and_redelivery(fake, tmp_path, library):
    daiban = DaibanProcess(tmp_path, fake, library)
    daiban.upgrade()
    daiban.start()
    try:
        await wait_until_polling(fake, daiban)
        # The command menu is registered per language.
        assert {"", "zh", "en"} <= fake.commands.keys()
        zh_menu = {c["command"]: c["description"] for c in fake.commands["zh"]}
        en_menu = {c["command"]: c["description"] for c in fake.commands["en"]}
        assert zh_menu["profile"] == zh("Your contact details") != en_menu["profile"]
        assert en_menu["profile"] == "Your contact details"

        zhang = fake.user(1001, "张伟", "zh-hans")
        mary = fake.user(1002, "Mary", "en-US")

        # /start: the menu with buttons, in each user's language.
        await fake.push_text(zhang, "/start")
        welcome = await next_to(fake, 1001, 0)
        assert "张伟，您好" in welcome.text
        assert {"中文", "English"} <= {label for label, _ in welcome.buttons}
        await fake.push_text(mary, "/start")
        hello = await next_to(fake, 1002, 0)
        assert hello.text.startswith("Hello Mary!")
        # **bold** arrived as a bold entity, not as asterisks.
        assert "**" not in hello.text and any(
            e["type"] == "bold" for e in hello.message.get("entities", [])
        )

        # /profile: a form with buttons; Back and Cancel are callbacks, each answered.
        await fake.push_text(zhang, "/profile")
        ask_name = await next_to(fake, 1001, 1)
        assert zh("What is your name?") in ask_name.text
        assert ask_name.buttons == [(zh("✖ Cancel"), "form:profile:cancel")]
        await fake.push_text(zhang, "张伟")
        ask_mobile = await next_to(fake, 1001, 2)
        assert zh("Your mobile number (11 digits)?") in ask_mobile.text
        back = await fake.press(zhang, ask_mobile, "form:profile:back")
        again = await next_to(fake, 1001, 3)
        assert zh("What is your name?") in again.text
        await fake.wait_for(lambda: back["callback_query"]["id"] in fake.answered)
        cancel = await fake.press(zhang, again, "form:profile:cancel")
        cancelled = await next_to(fake, 1001, 4)
        assert cancelled.text == zh("Cancelled. Nothing was submitted.")
        await fake.wait_for(lambda: cancel["callback_query"]["id"] in fake.answered)

        # A group: /help addressed to us is answered in the group; to another bot, not.
        group = fake.group_chat(-100_500, "北京项目群")
        await fake.push_text(zhang, "/help@otherbot", chat=group)
        helped = await fake.push_text(zhang, "/help@daiban_test_bot", chat=group)
        help_text = await next_to(fake, -100_500, 0)
        assert "/profile" in help_text.text

        # A document from the user arrives (no form wants a file now: a polite answer).
        await fake.push_document(mary, "plan.pdf", b"%PDF-1.4 fake")
        about_file = await next_to(fake, 1002, 1)
        assert about_file.text == en(
            "Sorry, I did not understand that. Send /help to see what you can do."
        )

        # The same update delivered again is acknowledged and ignored.
        await fake.redeliver(helped)
        await fake.push_text(mary, "/help")
        await next_to(fake, 1002, 2)
        assert len(fake.sent_to(-100_500)) == 1
        assert fake.pending_updates == 0

        for sent in fake.sent:
            parses_with_both_libraries(sent)
        assert fake.violations == 0
    finally:
        daiban.stop()
    assert daiban.proc is not None and daiban.proc.returncode == 0, daiban.output()


@pytest.mark.parametrize("library", LIBRARIES)
async def test_webhook_checks_the_secret_and_answers_once(fake, tmp_path, library):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    daiban = DaibanProcess(
        tmp_path,
        fake,
        library,
        DAIBAN_WEB_PORT=str(port),
        DAIBAN_TELEGRAM_MODE="webhook",
        DAIBAN_TELEGRAM_WEBHOOK_URL=url,
        DAIBAN_TELEGRAM_WEBHOOK_SECRET="s3cret-token",
    )
    daiban.upgrade()
    daiban.start()
    try:
        await fake.wait_for(lambda: fake.webhook is not None or not daiban.alive(), within=60)
        assert fake.webhook == {"url": url, "secret_token": "s3cret-token"}, daiban.output()
        user = fake.user(2001, "Li", "en")
        # The web server starts right after setWebhook; retry the first post briefly.
        update = None
        for _ in range(100):
            try:
                update = await fake.push_text(user, "/start")
                break
            except aiohttp.ClientConnectionError:
                await fake.wait_for(lambda: True)
        assert update is not None and update["_webhook_status"] == 200
        await next_to(fake, 2001, 0)

        # A wrong secret is refused; a redelivery is acknowledged and not handled again.
        assert await fake._post_webhook({"update_id": 1, "x": 1}, secret="wrong") == 403
        assert await fake.redeliver(update) == 200
        await fake.push_text(user, "/help")
        await next_to(fake, 2001, 1)
        assert len(fake.sent_to(2001)) == 2
    finally:
        daiban.stop()
