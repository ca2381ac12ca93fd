"""The archive reads back what people sent only from the folders the transports keep it
in (handlers/documents.py): a ref never reaches outside its folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handlers.documents import application_documents, document_bytes


async def test_documents_are_read_from_their_folder_and_nowhere_else(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "a1-plan.pdf").write_bytes(b"%PDF plan")
    (tmp_path / "secret.txt").write_bytes(b"not yours")
    folders = {"uploads/": uploads}
    uow: Any = None  # only stored:N refs need the store
    assert await document_bytes(uow, folders, "uploads/a1-plan.pdf") == b"%PDF plan"
    assert await document_bytes(uow, folders, "uploads/../secret.txt") is None
    assert await document_bytes(uow, folders, "uploads/missing.pdf") is None
    assert await document_bytes(uow, folders, "AgACAgUAAxkBAAIBfile_id") is None  # Telegram id
    materials = {
        "plan": {"filename": "../plan.pdf", "ref": "uploads/a1-plan.pdf", "size": 9},
        "licence": {"filename": "licence.pdf", "ref": "BQACAgUAAxkB", "size": 5},
        "energy": None,
    }
    found = await application_documents(uow, folders, materials)
    assert [(d.key, d.filename, d.data) for d in found] == [
        ("plan", "plan.pdf", b"%PDF plan"),
        ("licence", "licence.pdf", None),
    ]
