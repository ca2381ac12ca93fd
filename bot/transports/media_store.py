"""Files people send, kept on this machine (收到的文件留存): one place for the folder and the
writing, shared by Telegram, WeCom and WeChat, whose inbound sides each fetch the bytes
their own way while the messenger still has them.

A file is stored once under ``<sha256 prefix>-<safe name>`` (the same content again, or a
redelivered message, finds it there) and written under a temporary name first, so a
half-written file never carries the final name.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path

from sqlalchemy import make_url

from bot.config import ROOT, Settings

NAME_CHARS = 80  # the end of a long name is kept: it carries the extension


def media_folder(settings: Settings, name: str) -> Path:
    """``<name>/`` beside a SQLite file, else under ``var/`` of the checkout."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / name
    return ROOT / "var" / name


def stored_path(folder: Path, filename: str, data: bytes) -> Path:
    """Where these bytes are kept: their hash and the sender's name, made safe for a path."""
    safe = re.sub(r"[^\w.\-]+", "_", filename).strip("._")[-NAME_CHARS:] or "file"
    return folder / f"{hashlib.sha256(data).hexdigest()[:20]}-{safe}"


async def keep_bytes(folder: Path, filename: str, data: bytes) -> Path:
    """Store the bytes (once) and return their path."""
    path = stored_path(folder, filename, data)
    await asyncio.to_thread(_write, path, data)
    return path


def _write(path: Path, data: bytes) -> None:
    if path.exists():  # the same content again (or a redelivery): already kept
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    partial.replace(path)  # never a half-written file under the final name


__all__ = ["keep_bytes", "media_folder", "stored_path"]
