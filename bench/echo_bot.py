"""A bare echo bot on one library (the inbound benchmark's yardstick), idiomatic for each.

python bench/echo_bot.py aiogram|ptb API_URL TOKEN [REPLY_FILE]

Without REPLY_FILE it echoes the text it got. With it, it answers every message with that
file's text as HTML, so it sends exactly what Daiban sends (the same size, the same
entities for the fake to parse and the library to read back).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path


def run_aiogram(api_url: str, token: str, reply: str | None) -> None:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        if reply is None:
            await message.answer(message.text or "?")
        else:
            await message.answer(reply, parse_mode="HTML")

    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
    asyncio.run(dispatcher.start_polling(Bot(token, session=session), polling_timeout=25))


def run_ptb(api_url: str, token: str, reply: str | None) -> None:
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        if reply is None:
            await update.message.reply_text(update.message.text or "?")
        else:
            await update.message.reply_text(reply, parse_mode="HTML")

    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api_url}/bot")
        .base_file_url(f"{api_url}/file/bot")
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(timeout=25)


if __name__ == "__main__":
    library, url, secret = sys.argv[1:4]
    answer = Path(sys.argv[4]).read_text(encoding="utf-8") if len(sys.argv) > 4 else None
    (run_aiogram if library == "aiogram" else run_ptb)(url, secret, answer)
