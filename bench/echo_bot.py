"""A bare echo bot on one library (the inbound benchmark's yardstick), idiomatic for each.

python bench/echo_bot.py aiogram|ptb API_URL TOKEN
"""

from __future__ import annotations

import asyncio
import sys


def run_aiogram(api_url: str, token: str) -> None:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
    asyncio.run(dispatcher.start_polling(Bot(token, session=session), polling_timeout=25))


def run_ptb(api_url: str, token: str) -> None:
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "?")

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
    (run_aiogram if library == "aiogram" else run_ptb)(url, secret)
