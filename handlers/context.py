"""What a handler works with (处理上下文): the event, the unit of work, who is asking.

A handler never sends: `reply` and `send_*` write outbox rows in the handler's own
transaction (DESIGN.md decision 1), each with a dedupe key derived from the inbound event,
so a replayed event can never produce a second copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from domain.calendar import WorkCalendar
from domain.clock import Clock
from domain.scheme import Scheme
from handlers.chat import ChatKind, Incoming, Mention, Outgoing
from handlers.i18n import gettext, ngettext
from storage.db import Database
from storage.models import Conversation, Person
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from handlers.router import Router


@dataclass
class Services:
    """Everything a flow may use besides the event: wired once in `bot/app.py`."""

    db: Database
    scheme: Scheme
    calendar: WorkCalendar
    clock: Clock
    router: Router
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    # Platforms whose transport can create a team's group chat (WeCom's appchat): each
    # such transport adds itself when it starts (handlers/groups.py).
    group_platforms: set[str] = field(default_factory=set)


@dataclass
class Ctx:
    """One inbound event being handled inside one transaction."""

    incoming: Incoming
    uow: UnitOfWork
    services: Services
    person: Person
    roles: frozenset[str]
    conversation: Conversation | None
    now: datetime
    _sent: int = 0

    # -- who and where ---------------------------------------------------------------
    @property
    def lang(self) -> str:
        return self.person.lang

    @property
    def in_group(self) -> bool:
        return self.incoming.chat_kind is ChatKind.GROUP

    @property
    def scheme(self) -> Scheme:
        return self.services.scheme

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.services.timezone)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    # -- text ------------------------------------------------------------------------
    def _(self, message: str, **params: Any) -> str:
        text = gettext(self.lang, message)
        return text.format(**params) if params else text

    def n_(self, singular: str, plural: str, n: int, **params: Any) -> str:
        return ngettext(self.lang, singular, plural, n).format(n=n, **params)

    def label(self, label: Any) -> str:
        """Pick a scheme `Label` ({zh, en}) in the user's language."""
        return str(label.en if self.lang == "en" else label.zh)

    # -- sending (into the outbox) ---------------------------------------------------
    def _dedupe_key(self) -> str:
        self._sent += 1
        return f"in:{self.incoming.platform}:{self.incoming.event_id}:{self._sent}"

    async def reply(self, message: Outgoing | str) -> None:
        """Answer in the chat the event came from."""
        await self.send_to_chat(self.incoming.platform, self.incoming.chat_id, message)

    async def send_to_chat(
        self, platform: str, chat_external_id: str, message: Outgoing | str
    ) -> None:
        out = Outgoing(message) if isinstance(message, str) else message
        # Written with the transaction (one INSERT for a whole polling batch); the key is
        # the event's own, so it cannot collide with an earlier row.
        self.uow.outbox.enqueue_later(
            platform=platform,
            chat_external_id=chat_external_id,
            payload=await resolve_mentions(self.uow, platform, out),
            dedupe_key=self._dedupe_key(),
            now=self.now,
            source_event_id=self.incoming.event_id,
        )

    async def send_to_person(self, person_id: int, message: Outgoing | str) -> bool:
        """DM a person on their account (the event's platform preferred); False if none."""
        account = await self.uow.people.dm_account(
            person_id, prefer_platform=self.incoming.platform
        )
        if account is None:
            return False
        await self.send_to_chat(account.platform, account.external_id, message)
        return True


async def resolve_mentions(uow: UnitOfWork, platform: str, out: Outgoing) -> dict[str, Any]:
    """Outbox payload with each mention's account id on the target platform filled in."""
    payload = out.to_payload()
    for mention, raw in zip(out.mentions, payload["mentions"], strict=True):
        account = await uow.people.dm_account(mention.person_id, prefer_platform=platform)
        raw["external_id"] = (
            account.external_id if account and account.platform == platform else None
        )
    return payload


def mention(person: Person) -> Mention:
    return Mention(person_id=person.id, display_name=person.name)
