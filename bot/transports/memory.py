"""An in-process transport that records what would be sent (stories, the terminal, tests)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from handlers.chat import Outgoing


@dataclass(frozen=True)
class Delivered:
    chat_external_id: str
    message: Outgoing
    seq: int


class MemoryTransport:
    def __init__(
        self, platform: str, on_message: Callable[[Delivered], None] | None = None
    ) -> None:
        self.platform = platform
        self.delivered: list[Delivered] = []
        self._on_message = on_message

    async def send(self, chat_external_id: str, payload: dict[str, Any]) -> None:
        item = Delivered(chat_external_id, Outgoing.from_payload(payload), len(self.delivered))
        self.delivered.append(item)
        if self._on_message is not None:
            self._on_message(item)
