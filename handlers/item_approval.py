"""What closing an item may record: the approval's number (批复文号 / 证照编号) and its file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_NUMBER = 64  # 京发改〔2026〕123号, 110112202612010101: well under this


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
