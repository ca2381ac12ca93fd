"""What a transport (通道) must do to deliver: send one message to one chat, or say why not."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


class TransientError(Exception):
    """Try again later (rate limit, 5xx, timeout); `retry_after` seconds if the platform said."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Will never succeed (chat not found, bot blocked): the row is marked failed."""


class Unreachable(PermanentError):
    """The recipient's account cannot be reached at all (left the organisation): the row is
    marked failed, the account unreachable, and the office told once per account."""
class HoldUntilReachable(Exception):
    """The chat cannot be reached now (WeChat's 48-hour window closed, its quota used): the
    message and the chat's later ones wait, in order, until the person writes again."""


class Transport(Protocol):
    platform: str

    async def send(self, chat_external_id: str, payload: dict[str, Any]) -> None:
        """Deliver one outbox payload (text, buttons, mentions, attachment) or raise."""
        ...


@runtime_checkable
class KeyedTransport(Transport, Protocol):
    """A transport that wants the outbox row's id: to resume a message sent in parts, or to
    name a card after the row, whichever replica sends it."""

    async def send_row(
        self, row_id: int | None, chat_external_id: str, payload: dict[str, Any]
    ) -> None: ...
