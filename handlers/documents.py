"""The documents people sent (申报材料), read back for the project's file (一事一档).

An attachment's ``ref`` says where its bytes are: ``stored:N`` in the store, or a file
under one of the folders the transports keep uploads in (`Services.document_folders`,
by ref prefix). A ref elsewhere (a Telegram file id) has no bytes on this machine; the
file lists it instead. Paths never leave their folder.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.repos.files import STORED_PREFIX
from storage.uow import UnitOfWork

MAX_DOCUMENT_BYTES = 50 * 1024 * 1024  # one document; a larger one is listed, not copied


@dataclass(frozen=True)
class Document:
    """One document of an application: its material key, file name and bytes (or None)."""

    key: str
    filename: str
    size: int
    data: bytes | None


def _read(path: Path) -> bytes | None:
    if not path.is_file() or path.stat().st_size > MAX_DOCUMENT_BYTES:
        return None
    return path.read_bytes()


async def document_bytes(uow: UnitOfWork, folders: Mapping[str, Path], ref: str) -> bytes | None:
    """The bytes an attachment ref names, when this machine holds them."""
    if ref.startswith(STORED_PREFIX):
        stored = await uow.files.get(ref)
        return stored.data if stored is not None else None
    for prefix, folder in folders.items():
        if not ref.startswith(prefix):
            continue
        root = folder.resolve()
        path = (root / ref[len(prefix) :]).resolve()
        if not path.is_relative_to(root):
            return None
        return await asyncio.to_thread(_read, path)
    return None


async def application_documents(
    uow: UnitOfWork, folders: Mapping[str, Path], materials: dict[str, Any]
) -> list[Document]:
    """The documents an application's materials name, with their bytes where held."""
    found: list[Document] = []
    for key, answer in materials.items():
        if not isinstance(answer, dict) or not answer.get("ref"):
            continue
        ref = str(answer["ref"])
        data = await document_bytes(uow, folders, ref)
        filename = Path(str(answer.get("filename") or key)).name or key
        found.append(Document(key, filename, int(answer.get("size") or 0), data))
    return found


__all__ = ["Document", "application_documents", "document_bytes"]
