"""A bare echo bot on one library (the inbound benchmark's yardstick), idiomatic for each.

python bench/echo_bot.py aiogram|ptb API_URL TOKEN [REPLY_FILE]

Without REPLY_FILE it echoes the text it got. With a text REPLY_FILE, it answers every
message with that file's text as HTML, so it sends exactly what Daiban sends (the same
size, the same entities for the fake to parse and the library to read back). With a JSON
REPLY_FILE (``{"message": {"text", "reply_markup"}, "button": {...}}``) it answers a
message with the first and a button press with the second (after answering the press),
keyboards included: Daiban's welcome and its answer to the welcome's first button.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

Answers = dict[str, dict[str, Any]]


def read_answers(path: str | None) -> tuple[str | None, Answers | None]:
    """(plain HTML reply, None) for a text file; (None, answers) for a JSON one."""
    if path is None:
        return None, None
    if path.endswith(".json"):
        return None, json.loads(Path(path).read_text(encoding="utf-8"))
    return Path(path).read_text(encoding="utf-8"), None


def run_aiogram(api_url: str, token: str, reply: str | None, answers: Answers | None) -> None:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

    dispatcher = Dispatcher()
    markups = {
        kind: InlineKeyboardMarkup.model_validate(answer["reply_markup"])
        for kind, answer in (answers or {}).items()
        if answer.get("reply_markup")
    }

    @dispatcher.message()
    async def echo(message: Message) -> None:
        if answers is not None:
            text = answers["message"]["text"]
            await message.answer(text, parse_mode="HTML", reply_markup=markups.get("message"))
        elif reply is None:
            await message.answer(message.text or "?")
        else:
            await message.answer(reply, parse_mode="HTML")

    @dispatcher.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()
        if answers is not None and query.message is not None:
            text = answers["button"]["text"]
            markup = markups.get("button")
            await query.bot.send_message(  # type: ignore[union-attr]
                query.message.chat.id, text, parse_mode="HTML", reply_markup=markup
            )

    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
    asyncio.run(dispatcher.start_polling(Bot(token, session=session), polling_timeout=25))


def run_ptb(api_url: str, token: str, reply: str | None, answers: Answers | None) -> None:
    from telegram import InlineKeyboardMarkup, Update
    from telegram.ext import (
        ApplicationBuilder,
        CallbackQueryHandler,
        ContextTypes,
        MessageHandler,
        filters,
    )

    def markup(kind: str, bot: Any) -> InlineKeyboardMarkup | None:
        data = (answers or {}).get(kind, {}).get("reply_markup")
        return InlineKeyboardMarkup.de_json(data, bot) if data else None

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        if answers is not None:
            await update.message.reply_text(
                answers["message"]["text"],
                parse_mode="HTML",
                reply_markup=markup("message", context.bot),
            )
        elif reply is None:
            await update.message.reply_text(update.message.text or "?")
        else:
            await update.message.reply_text(reply, parse_mode="HTML")

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        if answers is not None and query.message is not None:
            await context.bot.send_message(
                query.message.chat.id,
                answers["button"]["text"],
                parse_mode="HTML",
                reply_markup=markup("button", context.bot),
            )

    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api_url}/bot")
        .base_file_url(f"{api_url}/file/bot")
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(pressed))
    application.run_polling(timeout=25)


if __name__ == "__main__":
    library, url, secret = sys.argv[1:4]
    text, json_answers = read_answers(sys.argv[4] if len(sys.argv) > 4 else None)
    (run_aiogram if library == "aiogram" else run_ptb)(url, secret, text, json_answers)
