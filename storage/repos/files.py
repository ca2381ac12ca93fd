"""Files the bot made to send (生成文件), kept in the store for any replica to attach."""

from __future__ import annotations

from datetime import datetime

from storage.models import StoredFile
from storage.repos._base import Repo

STORED_PREFIX = "stored:"
"""An attachment ``ref`` naming a stored file: ``stored:42``."""


class FileRepo(Repo):
    async def add(self, filename: str, mime_type: str, data: bytes, now: datetime) -> str:
        """Keep a file; returns the attachment reference that names it."""
        row = StoredFile(filename=filename, mime_type=mime_type, data=data, created_at=now)
        self.session.add(row)
        await self.session.flush()
        return f"{STORED_PREFIX}{row.id}"

    async def get(self, ref: str) -> StoredFile | None:
        """The stored file a ``stored:N`` reference names, or None."""
        number = ref.removeprefix(STORED_PREFIX)
        if not ref.startswith(STORED_PREFIX) or not number.isdigit():
            return None
        return await self.session.get(StoredFile, int(number))
