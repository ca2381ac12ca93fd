"""Files the bot made, on their way out (发件附件): written to this machine for the upload."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bot.transports.base import PermanentError
from storage.db import Database
from storage.repos.files import STORED_PREFIX
from storage.uow import UnitOfWork


@contextlib.asynccontextmanager
async def local_file(db: Database, payload: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    """The payload with a file the bot made (``stored:N``) written out as a file on this
    machine, which every transport can upload; removed once the send is over."""
    attachment = payload.get("attachment") or {}
    ref = str(attachment.get("ref") or "")
    if not ref.startswith(STORED_PREFIX):
        yield payload
        return
    async with UnitOfWork(db) as uow:
        stored = await uow.files.get(ref)
    if stored is None:
        raise PermanentError(f"the file {ref} is not in the store")
    folder = await asyncio.to_thread(tempfile.mkdtemp, prefix="daiban-file-")
    path = Path(folder) / (Path(stored.filename).name or "file")
    try:
        await asyncio.to_thread(path.write_bytes, stored.data)
        yield {**payload, "attachment": {**attachment, "ref": str(path)}}
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)


__all__ = ["local_file"]
