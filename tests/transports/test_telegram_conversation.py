"""Daiban on Telegram end to end: `daiban run` as a separate process against the fake Bot
API, once on aiogram and once on python-telegram-bot, with the same conversations: start,
a form with buttons and callbacks, a document, redelivery, the webhook; and a project
group where the welcome @mentions the team by user id and commands addressed to the bot
(``/status@bot`` or ``@bot /status``) are answered."""

from __future__ import annotations

import asyncio
import re
import subprocess
from datetime import UTC, datetime

import aiohttp
import pytest
import telegram
from aiogram import types as aiogram_types

from bot.people_cli import invite
from domain.application import project_snapshot
from domain.scheme_loader import load_scheme
from handlers.i18n import gettext
from storage.db import Database
from storage.uow import UnitOfWork
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
        # …and is kept on this machine at once (getFile), for the project's file.
        [kept] = tmp_path.rglob("telegram-media/*-plan.pdf")
        assert kept.read_bytes() == b"%PDF-1.4 fake"

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


# -- a project group: the team is @mentioned by user id, commands reach us in the group --
ROSTER = """姓名,手机,角色,部门,备份
王芳,13900000001,办公室,,
赵强,13900000002,项目管家,,
孙丽,13900000003,服务专员,区发展改革委,
周雨,13900000004,候补,,孙丽
刘总,13900000005,企业联系人,,
钱工,13900000006,服务专员,市规划自然资源委通州分局,
"""
ON_TELEGRAM = {"王芳": 5001, "赵强": 5002, "孙丽": 5003, "周雨": 5004, "刘总": 5005}
PROJECT = "P2026-0042"


def run_cli(daiban: DaibanProcess, *args: str) -> str:
    done = subprocess.run(
        daiban._cli(*args),
        env=daiban.env,
        cwd=daiban.workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def seed_accepted_project(db_url: str) -> dict[str, str]:
    """Invite codes for the people on Telegram, and project PROJECT accepted (no team yet)
    with 刘总 as its enterprise contact — as the office's acceptance leaves it."""
    db = Database(db_url)
    scheme = load_scheme("tongzhou")
    now = datetime.now(UTC)
    try:
        codes = {name: (await invite(db, name, now))[0][1] for name in ON_TELEGRAM}
        async with UnitOfWork(db) as uow:
            contact = next(p for p in await uow.people.with_role("enterprise") if p.name == "刘总")
            project = await uow.projects.add(
                code=PROJECT,
                name="通州物流园",
                category="building",
                stage=scheme.stages[0].id,
                status="accepted",
                accepted_at=now,
                snapshot=project_snapshot(scheme, "building"),
                created_at=now,
            )
            await uow.members.add(project.id, contact.id, "enterprise")
    finally:
        await db.dispose()
    return codes


def read_mentions(sent: Sent) -> dict[int, str]:
    """user id → mentioned text, read by aiogram and by PTB, which must agree."""
    ours = aiogram_types.Message.model_validate(sent.message)
    theirs = telegram.Message.de_json(sent.message, None)
    assert theirs is not None
    by_aiogram = {
        e.user.id: e.extract_from(ours.text or "")
        for e in ours.entities or []
        if e.type == "text_mention" and e.user is not None
    }
    by_ptb = {
        e.user.id: text
        for e, text in theirs.parse_entities([telegram.MessageEntity.TEXT_MENTION]).items()
        if e.user is not None
    }
    assert by_aiogram == by_ptb == dict(sent.mentions)
    return by_aiogram


@pytest.mark.parametrize("library", LIBRARIES)
async def test_project_group_mentions_the_team_and_answers_commands_addressed_to_us(
    fake, tmp_path, library
):
    daiban = DaibanProcess(tmp_path, fake, library)
    daiban.upgrade()
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    assert "6 new" in run_cli(daiban, "people", "import", str(roster), "--lang", "en")
    codes = await seed_accepted_project(daiban.db_url)
    daiban.start()
    try:
        await wait_until_polling(fake, daiban)
        users = {name: fake.user(uid, name, "zh-hans") for name, uid in ON_TELEGRAM.items()}
        # Everyone binds their Telegram account with the office's invite code.
        for name, user in users.items():
            await fake.push_text(user, f"/start {codes[name]}")
            bound = await next_to(fake, user["id"], 0)
            assert name in bound.text

        # The office assigns the butler with a button.
        office, butler = users["王芳"], users["赵强"]
        await fake.push_text(office, f"/assign {PROJECT}")
        choose = await next_to(fake, office["id"], 1)
        pick = next(data for label, data in choose.buttons if "赵强" in label)
        await fake.press(office, choose, pick)
        await next_to(fake, office["id"], 2)  # the team as the office sees it
        told = await next_to(fake, butler["id"], 1)
        assert PROJECT in told.text and "/bind" in told.text

        # The butler gets a group code in a DM and binds the group with it.
        await fake.push_text(butler, "/bind")
        code_message = await next_to(fake, butler["id"], 2)
        group_code = re.search(r"/bind (\S+)", code_message.text)
        assert group_code is not None, code_message.text
        group = fake.group_chat(-100_4242, "通州物流园代办群")
        await fake.push_text(butler, f"/bind@daiban_test_bot {group_code.group(1)}", chat=group)
        welcome = await next_to(fake, group["id"], 0)
        assert PROJECT in welcome.text

        # Each member on Telegram is mentioned by user id where the text names them; 钱工
        # has no Telegram account, so their name stays plain text.
        mentioned = read_mentions(welcome)
        assert mentioned == {uid: name for name, uid in ON_TELEGRAM.items() if name != "王芳"}
        assert "@钱工" in welcome.text
        for entity in welcome.message["entities"]:
            if entity["type"] == "text_mention":
                assert entity["user"] == users[mentioned[entity["user"]["id"]]]

        # In the group: a command addressed to us, and a message mentioning us, are
        # answered there; chatter and another bot's command are not.
        specialist, backup = users["孙丽"], users["周雨"]

        def statuses() -> list[Sent]:
            return [
                s for s in fake.sent_to(group["id"]) if s.text.startswith(f"{PROJECT} 通州物流园\n")
            ]

        await fake.push_text(specialist, "/status@daiban_test_bot", chat=group)
        await fake.wait_for(lambda: len(statuses()) == 1)
        await fake.push_text(backup, "大家好，明天上午去发改委。", chat=group)
        await fake.push_text(backup, "/status@otherbot", chat=group)
        await fake.push_text(backup, "@daiban_test_bot /status", chat=group)
        await fake.wait_for(lambda: len(statuses()) == 2)
        stranger = fake.user(5999, "路人", "zh-hans")
        await fake.push_text(stranger, "@daiban_test_bot /log 你好", chat=group)
        refused = await fake.wait_for(
            lambda: next((s for s in fake.sent_to(group["id"]) if "路人" in s.text), None)
        )
        assert PROJECT in refused.text
        settled = len(fake.sent_to(group["id"]))
        await fake.wait_for(lambda: fake.pending_updates == 0)
        await asyncio.sleep(1.0)  # nothing else may arrive for the chatter
        assert len(fake.sent_to(group["id"])) == settled
        assert len(statuses()) == 2

        for sent in fake.sent:
            parses_with_both_libraries(sent)
        assert fake.violations == 0
    finally:
        daiban.stop()
    assert daiban.proc is not None and daiban.proc.returncode == 0, daiban.output()
