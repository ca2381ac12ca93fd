"""`daiban archive PROJECT` (一事一档): write the one-project file as a ZIP."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from domain.scheme import Scheme
from handlers.project_file import build_archive
from storage.db import Database
from storage.uow import UnitOfWork


async def write_archive(
    db: Database, scheme: Scheme, code: str, output: Path | None = None, lang: str = "zh_CN"
) -> Path:
    """Write the project's file to `output` (default ``CODE.zip``); LookupError if unknown."""
    async with UnitOfWork(db) as uow:
        project = await uow.projects.by_code(code)
        if project is None:
            raise LookupError(f"no project {code!r}")
        data = await build_archive(uow, scheme, project, lang)
        await uow.events.append(
            "project.archive_made",
            at=datetime.now(UTC),
            project_id=project.id,
            data={"bytes": len(data), "via": "cli"},
        )
        target = output or Path(f"{project.code}.zip")
    target.write_bytes(data)
    return target
