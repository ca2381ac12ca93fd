"""`daiban archive PROJECT [--lang en]` (一事一档): write the one-project file as a ZIP."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings
from domain.scheme import Scheme
from handlers.project_file import build_archive
from storage.db import Database
from storage.uow import UnitOfWork


async def write_archive(
    db: Database,
    scheme: Scheme,
    code: str,
    output: Path | None = None,
    lang: str = "zh_CN",
    folders: Mapping[str, Path] | None = None,
) -> Path:
    """Write the project's file to `output` (default ``CODE.zip``); LookupError if unknown.
    `folders` are where the transports keep what people sent (`Services.document_folders`)."""
    async with UnitOfWork(db) as uow:
        project = await uow.projects.by_code(code)
        if project is None:
            raise LookupError(f"no project {code!r}")
        data = await build_archive(uow, scheme, project, lang, folders)
        await uow.events.append(
            "project.archive_made",
            at=datetime.now(UTC),
            project_id=project.id,
            data={"bytes": len(data), "via": "cli"},
        )
        target = output or Path(f"{project.code}.zip")
    target.write_bytes(data)
    return target


def document_folders(settings: Settings) -> dict[str, Path]:
    """Where this installation keeps what people sent: the emulator's uploads, WeCom's and
    WeChat's media folders (the same places the running bot registers)."""
    from bot.emulator import data_dir
    from bot.transports.wechat import media_folder as wechat_media
    from bot.transports.wecom_media import media_folder

    wecom, wechat = media_folder(settings), wechat_media(settings)
    return {"uploads/": data_dir(settings) / "uploads", f"{wecom}/": wecom, f"{wechat}/": wechat}
