"""What the bootstrap hands a transport (通道的宿主): the transport never imports `bot.app`.

`bot.app.App` satisfies this protocol; a transport's `start_*` function receives it, so
the bootstrap wires transports and no transport reaches back into the bootstrap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.config import Settings
from bot.outbox import DeliveryWorker
from bot.transports.base import Transport
from handlers.chat import Incoming
from handlers.context import Services
from reminders.jobs import Job


class TransportHost(Protocol):
    settings: Settings
    services: Services
    worker: DeliveryWorker
    transports: dict[str, Transport]
    jobs: list[Job]  # a transport may add its own scheduled job before the scheduler starts

    async def handle(self, event: Incoming) -> bool:
        """Handle one inbound event; False for a redelivery; raises `StorageError`."""
        ...

    async def handle_batch(self, events: Sequence[Incoming]) -> None:
        """Handle a polling batch in one transaction."""
        ...
