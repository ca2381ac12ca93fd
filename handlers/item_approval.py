"""What closing an item may record: the approval's number (批复文号 / 证照编号) and its file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handlers.render import Speaks
from storage.models import ChecklistItem
from storage.uow import UnitOfWork

MAX_NUMBER = 64  # 京发改〔2026〕123号, 110112202612010101: well under this
LOOK_BACK = 20  # work-log lines read back to find the closing one


@dataclass(frozen=True)
class Approval:
    """The document an item was closed with; either part may be missing."""

    number: str | None = None
    file: dict[str, Any] | None = None  # a received file as the form engine keeps it

    def to_json(self) -> dict[str, Any]:
        """The work log's fields for it (工作日志)."""
        return {"approval_number": self.number, "approval_file": self.file}

    @property
    def empty(self) -> bool:
        return not self.number and not self.file


async def recorded_approval(uow: UnitOfWork, item: ChecklistItem) -> Approval | None:
    """The approval the item was last closed with, from its work log; None if none."""
    for event in reversed(await uow.due.item_events(item.project_id, item.id, LOOK_BACK)):
        if event.kind == "item.complete":
            data = event.data or {}
            file = data.get("approval_file")
            found = Approval(data.get("approval_number"), file if isinstance(file, dict) else None)
            return None if found.empty else found
    return None


def approval_lines(say: Speaks, approval: Approval) -> list[str]:
    """The approval as a card shows it: its number and the file's name."""
    lines = []
    if approval.number:
        lines.append(say._("Approval number: {number}", number=approval.number))
    if approval.file:
        lines.append(say._("Approval file: {name}", name=approval.file.get("filename", "—")))
    return lines
