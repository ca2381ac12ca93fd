"""Documents people send on Telegram, kept on this machine (电报文件留存).

A Telegram document is a ``file_id`` the bot can fetch later; the project's file (一事一档)
wants the bytes. The inbound side downloads it at once (getFile, at most 20 MB) into
``telegram-media/`` and the event refers to the local file; when the download fails the
``file_id`` stays the reference and the failure is logged, and the event goes on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.config import Settings
from bot.transports.base import PermanentError, TransientError
from bot.transports.media_store import keep_bytes
from bot.transports.media_store import media_folder as shared_folder
from handlers.chat import Incoming

log = logging.getLogger(__name__)

DOWNLOAD_WAIT = 20.0  # seconds; a slower download keeps the file_id


def media_folder(settings: Settings) -> Path:
    """``telegram-media/`` beside a SQLite file, else under ``var/`` of the checkout."""
    return shared_folder(settings, "telegram-media")


class TelegramMediaInbox:
    """Downloads the document of an incoming message and refers the event to it."""

    def __init__(
        self,
        download: Callable[[str], Awaitable[bytes]],
        folder: Path,
        wait: float = DOWNLOAD_WAIT,
    ) -> None:
        self.download = download
        self.folder = folder
        self.wait = wait

    async def keep(self, event: Incoming) -> Incoming:
        """The event with its attachment downloaded and referring to the local file."""
        attachment = event.attachment
        if attachment is None or not attachment.ref:
            return event
        try:
            data = await asyncio.wait_for(self.download(attachment.ref), timeout=self.wait)
        except (TransientError, PermanentError, TimeoutError, Exception) as exc:
            # Never lose the message over its file: the file_id stays the reference.
            log.warning("Telegram file of event %s not downloaded: %s", event.event_id, exc)
            return event
        path = await keep_bytes(self.folder, attachment.filename, data)
        kept = dataclasses.replace(attachment, size=len(data), ref=str(path))
        return dataclasses.replace(event, attachment=kept)


__all__ = ["TelegramMediaInbox", "media_folder"]
