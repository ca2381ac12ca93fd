"""Group messages addressed to the bot (群内@机器人), read the same by aiogram and PTB, and
the fake Bot API's entities for what users type and for the bot's mentions."""

from __future__ import annotations

import pytest
import telegram
from aiogram import types as aiogram_types

from bot.transports.telegram_render import incoming_from_update, split_text
from handlers.chat import ChatKind
from tests.fakes.fake_bot_api import parse_html, text_entities, text_mentions

BOT = "daiban_bot"


def group_update(text: str) -> dict:
    return {
        "update_id": 500,
        "message": {
            "message_id": 3,
            "date": 1_700_000_000,
            "chat": {"id": -1002, "type": "supergroup", "title": "项目群"},
            "from": {"id": 9, "is_bot": False, "first_name": "张"},
            "text": text,
            "entities": text_entities(text),
        },
    }


def read(library: str, text: str):
    data = group_update(text)
    if library == "aiogram":
        update = aiogram_types.Update.model_validate(data)
    else:
        update = telegram.Update.de_json(data, None)
    return incoming_from_update(update, BOT)


@pytest.mark.parametrize("library", ["aiogram", "ptb"])
@pytest.mark.parametrize(
    ("text", "command", "args"),
    [
        ("@daiban_bot /status", "status", ""),
        ("@Daiban_Bot, /log 明天去发改委", "log", "明天去发改委"),
        ("@daiban_bot：/status@daiban_bot overdue", "status", "overdue"),
        ("/status@daiban_bot", "status", ""),
        ("@daiban_bot 你好", None, ""),
    ],
)
def test_a_message_opening_with_our_mention_is_read_without_it(library, text, command, args):
    event = read(library, text)
    assert event is not None and event.chat_kind is ChatKind.GROUP
    assert (event.command, event.args) == (command, args)
    if command is None:
        assert event.text == "你好"


@pytest.mark.parametrize("library", ["aiogram", "ptb"])
@pytest.mark.parametrize("text", ["@daiban_bot2 /status", "@otherbot /status"])
def test_another_bots_mention_is_not_ours(library, text):
    event = read(library, text)
    assert event is not None and event.command is None and event.text == text


@pytest.mark.parametrize("library", ["aiogram", "ptb"])
def test_a_command_for_another_bot_after_our_mention_is_ignored(library):
    assert read(library, "@daiban_bot /status@otherbot") is None


def test_the_fake_marks_mentions_and_commands_as_telegram_does():
    text = "请 @daiban_bot 看看 /status@daiban_bot，邮箱 a@b.cn"
    found = [
        (e["type"], text[e["offset"] : e["offset"] + e["length"]]) for e in text_entities(text)
    ]
    assert found == [("mention", "@daiban_bot")]  # "/status@…，" is glued to the comma
    emoji = "👷 @daiban_bot /help"
    (mention, command) = text_entities(emoji)
    assert (mention["offset"], command["offset"], command["length"]) == (3, 15, 5)


def test_mentions_render_as_text_mentions_of_the_known_user():
    payload = {
        "text": "欢迎 @李娜 和 @王五！",
        "mentions": [
            {"person_id": 1, "display_name": "李娜", "external_id": "555"},
            {"person_id": 2, "display_name": "王五", "external_id": None},
            {"person_id": 3, "display_name": "👷老赵", "external_id": "777"},
        ],
    }
    (html_text,) = split_text(payload)
    users = {555: {"id": 555, "is_bot": False, "first_name": "娜", "language_code": "zh-hans"}}
    text, entities = parse_html(html_text, users)
    message = {
        "message_id": 1,
        "date": 1_700_000_000,
        "chat": {"id": -1002, "type": "supergroup", "title": "项目群"},
        "text": text,
        "entities": entities,
    }
    # 老赵 is not named in the text: the mention opens the message (before 欢迎).
    # A linked name shows without its "@"; 王五 has no Telegram account and stays plain.
    assert text == "👷老赵\n欢迎 李娜 和 @王五！"
    assert text_mentions(message) == [(777, "👷老赵"), (555, "李娜")]
    assert entities[1]["user"] == users[555]
    ours = aiogram_types.Message.model_validate(message)
    theirs = telegram.Message.de_json(message, None)
    assert [e.extract_from(text) for e in ours.entities or []] == ["👷老赵", "李娜"]
    assert list(theirs.parse_entities(["text_mention"]).values()) == ["👷老赵", "李娜"]
    with pytest.raises(Exception, match="wrong user id"):
        parse_html('<a href="tg://user?id=abc">x</a>')
