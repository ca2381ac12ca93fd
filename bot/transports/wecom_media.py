"""Files on WeCom (企业微信文件): what can be sent, and media_ids already uploaded.

An attachment whose `ref` is a file on this machine is uploaded as temporary media (素材)
and sent as a `file` message after the text. A media_id lives 3 days (上传临时素材), so an
upload is remembered per uploader and content hash for 2 days and reused. WeCom takes files
of more than 5 bytes and at most 20 MB; any other attachment is named in the text instead.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.transports.base import PermanentError, TransientError
from bot.transports.media_store import keep_bytes
from bot.transports.media_store import media_folder as shared_folder
from bot.transports.wecom_client import WeComApi
from handlers.chat import Attachment, Incoming

log = logging.getLogger(__name__)

# 上传临时素材: "所有文件size必须大于5个字节", 普通文件(file) at most 20 MB; the robots'
# upload_media has the same bounds. A media_id is valid for 3 days; we reuse one for 2.
MEDIA_MIN_BYTES = 6
FILE_MAX_BYTES = 20 * 1024 * 1024
MEDIA_REUSE_SECONDS = 2 * 24 * 3600.0
# WeCom waits 5 s for the callback's answer, which now follows the store's commit: a
# download that takes longer keeps the MediaId instead (logged), and the event goes on.
DOWNLOAD_WAIT = 3.0


@dataclass(frozen=True)
class LocalFile:
    """An attachment WeCom can take as a file message: a file on this machine."""

    path: Path
    filename: str
    data: bytes
    digest: str


def local_file(attachment: Attachment | None) -> LocalFile | None:
    """The attachment as a sendable file, or None (no file, not local, or out of bounds)."""
    if attachment is None or not attachment.ref or not os.path.isfile(attachment.ref):
        return None
    path = Path(attachment.ref)
    size = path.stat().st_size
    if not MEDIA_MIN_BYTES <= size <= FILE_MAX_BYTES:
        log.warning("WeCom: %s is %d bytes, outside 6 B–20 MB; named instead", path.name, size)
        return None
    data = path.read_bytes()
    name = attachment.filename or path.name
    return LocalFile(path, name, data, hashlib.sha256(data).hexdigest())


class MediaCache:
    """media_ids already uploaded, per uploader and file (content hash and name), reused
    for `ttl` seconds (WeCom keeps them 3 days)."""

    def __init__(
        self,
        clock: Callable[[], float],
        ttl: float = MEDIA_REUSE_SECONDS,
        capacity: int = 512,
    ) -> None:
        self.clock, self.ttl, self.capacity = clock, ttl, capacity
        self._ids: OrderedDict[tuple[str, str, str], tuple[str, float]] = OrderedDict()

    def get(self, uploader: str, file: LocalFile) -> str | None:
        key = (uploader, file.digest, file.filename)
        found = self._ids.get(key)
        if found is None or found[1] <= self.clock():
            self._ids.pop(key, None)
            return None
        return found[0]

    def put(self, uploader: str, file: LocalFile, media_id: str) -> None:
        key = (uploader, file.digest, file.filename)
        self._ids[key] = (media_id, self.clock() + self.ttl)
        self._ids.move_to_end(key)
        while len(self._ids) > self.capacity:
            self._ids.popitem(last=False)

    def forget(self, uploader: str, file: LocalFile) -> None:
        self._ids.pop((uploader, file.digest, file.filename), None)


@dataclass(frozen=True)
class FileStep:
    """The file message after the text: who uploads it, and how."""

    file: LocalFile
    uploader: str  # "app" or "robot:<name>": media_ids are not shared between them
    upload: Callable[[str, bytes], Awaitable[str]]


# -- media people send -------------------------------------------------------------------
def media_folder(settings: Settings) -> Path:
    """``wecom-media/`` beside a SQLite file, else under ``var/`` of the checkout."""
    return shared_folder(settings, "wecom-media")


class MediaInbox:
    """Downloads the media of incoming messages before WeCom forgets them (3 days)."""

    def __init__(self, api: WeComApi, folder: Path, wait: float = DOWNLOAD_WAIT) -> None:
        self.api = api
        self.folder = folder
        self.wait = wait

    async def keep(self, event: Incoming) -> Incoming:
        """The event with its attachment downloaded and referring to the local file."""
        attachment = event.attachment
        if attachment is None or not attachment.ref:
            return event
        try:
            _, mime, data = await asyncio.wait_for(
                self.api.download_media(attachment.ref), timeout=self.wait
            )
        except (TransientError, PermanentError, TimeoutError) as exc:
            log.warning("WeCom media of event %s not downloaded: %s", event.event_id, exc)
            return event
        path = await keep_bytes(self.folder, attachment.filename, data)
        if mime in {"", "application/octet-stream"}:
            mime = attachment.mime_type
        kept = dataclasses.replace(attachment, mime_type=mime, size=len(data), ref=str(path))
        return dataclasses.replace(event, attachment=kept)


__all__ = ["FileStep", "LocalFile", "MediaCache", "MediaInbox", "local_file", "media_folder"]
