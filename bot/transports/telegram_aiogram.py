"""The Bot API through aiogram 3 (电报·aiogram): HTTP calls, types and error mapping only.

Flow logic lives in handlers/; rendering and reading updates in `telegram_render`; the
polling loop, webhook and transport in `telegram`. This adapter turns aiogram's errors
into the delivery worker's contract (`TransientError` / `PermanentError`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from aiogram import Bot, methods
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods.base import Response
from aiogram.types import (
    BotCommand,
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)

from bot.transports.base import PermanentError, TransientError
from bot.transports.telegram_render import chat_ref

Keyboard = list[list[tuple[str, str]]]

# aiogram reads every answer as ``Response[method.__returning__]``, a pydantic generic that
# pydantic caches only weakly: after each garbage collection the next call rebuilt its
# schema, a few per cent of the process's CPU under load. Holding them keeps them built.
_ANSWER_MODELS = tuple(
    Response[method.__returning__]
    for method in (
        methods.AnswerCallbackQuery,
        methods.DeleteWebhook,
        methods.GetMe,
        methods.GetUpdates,
        methods.SendDocument,
        methods.SendMessage,
        methods.SetMyCommands,
        methods.SetWebhook,
    )
)


@contextlib.contextmanager
def mapped_errors() -> Iterator[None]:
    """aiogram's exceptions as the worker's: 429/5xx/network retry, the rest never will."""
    try:
        yield
    except TelegramRetryAfter as exc:
        raise TransientError(str(exc), retry_after=float(exc.retry_after)) from exc
    except TelegramMigrateToChat as exc:
        raise PermanentError(f"group moved to {exc.migrate_to_chat_id}") from exc
    except (TelegramForbiddenError, TelegramBadRequest, TelegramNotFound) as exc:
        raise PermanentError(exc.message) from exc
    except TelegramUnauthorizedError as exc:
        # A revoked token is fixed by an operator; keep the messages until then.
        raise TransientError(f"token rejected: {exc.message}") from exc
    except TelegramAPIError as exc:  # 5xx, network errors, timeouts, conflicts
        raise TransientError(str(exc)) from exc
    except TimeoutError as exc:
        raise TransientError("request timed out") from exc


def _markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=label, callback_data=data) for label, data in row]
            for row in keyboard
        ]
    )


class AiogramClient:
    """What `telegram.py` needs from the Bot API, spoken through aiogram."""

    library = "aiogram"

    def __init__(self, token: str, api_url: str, timeout: float) -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_url), timeout=timeout)
        self.bot = Bot(token, session=session)
        self.timeout = timeout
        self.username = ""

    async def start(self) -> None:
        """getMe: learn the bot's username (commands may be addressed to it)."""
        with mapped_errors():
            me = await self.bot.get_me()
        self.username = me.username or ""

    async def close(self) -> None:
        await self.bot.session.close()

    async def get_updates(self, offset: int | None, wait_seconds: int) -> list[Any]:
        with mapped_errors():
            return await self.bot.get_updates(
                offset=offset,
                timeout=wait_seconds,
                allowed_updates=["message", "callback_query"],
                request_timeout=int(self.timeout + wait_seconds),
            )

    def parse_update(self, data: dict[str, Any]) -> Any:
        return Update.model_validate(data, context={"bot": self.bot})

    async def download(self, file_id: str) -> bytes:
        """A file people sent (getFile, then the file itself)."""
        with mapped_errors():
            found = await self.bot.download(file_id)
        return found.getvalue() if found is not None else b""

    async def answer_callback(self, callback_id: str) -> None:
        with mapped_errors():
            await self.bot.answer_callback_query(callback_id)

    async def send_message(self, chat_id: str, html_text: str, keyboard: Keyboard | None) -> None:
        with mapped_errors():
            await self.bot.send_message(
                chat_id=chat_ref(chat_id),
                text=html_text,
                parse_mode="HTML",
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
        document: str | FSInputFile = FSInputFile(ref, filename=filename) if upload else ref
        with mapped_errors():
            await self.bot.send_document(
                chat_id=chat_ref(chat_id),
                document=document,
                caption=caption_html,
                parse_mode="HTML" if caption_html else None,
                reply_markup=_markup(keyboard),
            )

    async def set_commands(self, commands: list[tuple[str, str]], language: str | None) -> None:
        with mapped_errors():
            await self.bot.set_my_commands(
                [BotCommand(command=name, description=text) for name, text in commands],
                language_code=language,
            )

    async def set_webhook(self, url: str, secret: str) -> None:
        with mapped_errors():
            await self.bot.set_webhook(
                url=url, secret_token=secret, allowed_updates=["message", "callback_query"]
            )

    async def delete_webhook(self) -> None:
        with mapped_errors():
            await self.bot.delete_webhook(drop_pending_updates=False)
