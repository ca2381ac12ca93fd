"""The Bot API through python-telegram-bot 22 (电报·PTB): HTTP calls, types, error mapping.

The same surface as `telegram_aiogram.AiogramClient`; chosen with
``DAIBAN_TELEGRAM_LIBRARY=ptb``. No flow logic here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from bot.transports.base import PermanentError, TransientError
from bot.transports.telegram_render import chat_ref

Keyboard = list[list[tuple[str, str]]]


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns while it moves from int to timedelta
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


@contextlib.contextmanager
def mapped_errors() -> Iterator[None]:
    """PTB's exceptions as the worker's: 429/5xx/network retry, the rest never will."""
    try:
        yield
    except RetryAfter as exc:
        raise TransientError(str(exc), retry_after=_seconds(exc)) from exc
    except ChatMigrated as exc:
        raise PermanentError(f"group moved to {exc.new_chat_id}") from exc
    except (Forbidden, BadRequest) as exc:  # BadRequest before NetworkError: it is one
        raise PermanentError(exc.message) from exc
    except InvalidToken as exc:
        raise TransientError(f"token rejected: {exc.message}") from exc
    except TelegramError as exc:  # NetworkError, TimedOut (5xx arrive as NetworkError)
        raise TransientError(str(exc)) from exc


def _markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in keyboard
        ]
    )


class PtbClient:
    """What `telegram.py` needs from the Bot API, spoken through python-telegram-bot."""

    library = "ptb"

    def __init__(self, token: str, api_url: str, timeout: float) -> None:
        base = api_url.rstrip("/")

        def request() -> HTTPXRequest:
            return HTTPXRequest(
                connection_pool_size=64,
                read_timeout=timeout,
                write_timeout=timeout,
                connect_timeout=timeout,
                pool_timeout=timeout,
            )

        self.bot = Bot(
            token,
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
            request=request(),
            get_updates_request=request(),
        )
        self.username = ""

    async def start(self) -> None:
        """getMe (PTB's initialize): learn the bot's username."""
        with mapped_errors():
            await self.bot.initialize()
        self.username = self.bot.username or ""

    async def close(self) -> None:
        with contextlib.suppress(TelegramError):
            await self.bot.shutdown()

    async def get_updates(self, offset: int | None, wait_seconds: int) -> list[Any]:
        with mapped_errors():
            return list(
                await self.bot.get_updates(
                    offset=offset,
                    timeout=wait_seconds,
                    allowed_updates=["message", "callback_query"],
                )
            )

    def parse_update(self, data: dict[str, Any]) -> Any:
        return Update.de_json(data, self.bot)

    async def download(self, file_id: str) -> bytes:
        """A file people sent (getFile, then the file itself)."""
        with mapped_errors():
            found = await self.bot.get_file(file_id)
            return bytes(await found.download_as_bytearray())

    async def answer_callback(self, callback_id: str) -> None:
        with mapped_errors():
            await self.bot.answer_callback_query(callback_id)

    async def send_message(self, chat_id: str, html_text: str, keyboard: Keyboard | None) -> None:
        with mapped_errors():
            await self.bot.send_message(
                chat_id=chat_ref(chat_id),
                text=html_text,
                parse_mode=ParseMode.HTML,
                reply_markup=_markup(keyboard),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )

    async def send_document(
        self,
        chat_id: str,
        ref: str,
        filename: str,
        caption_html: str | None,
        keyboard: Keyboard | None,
        upload: bool = False,
    ) -> None:
        document: str | Path = Path(ref) if upload else ref
        with mapped_errors():
            await self.bot.send_document(
                chat_id=chat_ref(chat_id),
                document=document,
                filename=filename if isinstance(document, Path) else None,
                caption=caption_html,
                parse_mode=ParseMode.HTML if caption_html else None,
                reply_markup=_markup(keyboard),
            )

    async def set_commands(self, commands: list[tuple[str, str]], language: str | None) -> None:
        with mapped_errors():
            await self.bot.set_my_commands(
                [BotCommand(name, text) for name, text in commands], language_code=language
            )

    async def set_webhook(self, url: str, secret: str) -> None:
        with mapped_errors():
            await self.bot.set_webhook(
                url=url, secret_token=secret, allowed_updates=["message", "callback_query"]
            )

    async def delete_webhook(self) -> None:
        with mapped_errors():
            await self.bot.delete_webhook(drop_pending_updates=False)
