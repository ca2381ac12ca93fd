"""What a handler works with (处理上下文): the event, the unit of work, who is asking.

A handler never sends: everything it says goes through `ctx.post`, the event's postman
(`handlers/postman.py`), into outbox rows of the handler's own transaction (DESIGN.md
decision 1), each with a dedupe key derived from the inbound event, so a replayed event
can never produce a second copy. `ctx.reply` answers in the chat of the event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from domain.calendar import WorkCalendar
from domain.clock import Clock
from domain.scheme import Scheme
from handlers.chat import ChatKind, Incoming, Mention, Outgoing
from handlers.i18n import ngettext, normalize_lang
from handlers.postman import Postman
from handlers.render import Voice, names_roles, role_words
from handlers.role_placement import fill
from storage.db import Database
from storage.models import Conversation, Person, Project
from storage.uow import UnitOfWork


class Routes(Protocol):
    """What the pipeline and /help ask of the router (`handlers.router.Router`); named by
    its shape here because the router builds on this module."""

    async def dispatch(self, ctx: Ctx) -> bool: ...
    def menu(self, roles: frozenset[str]) -> list[tuple[str, str]]: ...


@dataclass
class Services:
    """Everything a flow may use besides the event: wired once in `bot/app.py`."""

    db: Database
    scheme: Scheme
    calendar: WorkCalendar
    clock: Clock
    router: Routes
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    # A daily round whose holder has not renewed its lease for this long (real time) is
    # taken over by the next tick (reminders/round_slices.py).
    round_silent: timedelta = timedelta(seconds=15)
    # Platforms whose transport can create a team's group chat (WeCom's appchat): each
    # such transport adds itself when it starts (handlers/groups.py).
    group_platforms: set[str] = field(default_factory=set)
    # Where the files people send are kept, by the prefix of their attachment ref (the
    # emulator's ``uploads/``, WeCom's media folder): the archive (一事一档) reads them.
    document_folders: dict[str, Path] = field(default_factory=dict)


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
    _post: Postman | None = None
    # Filled by the router from the route's scope (handlers/access.py) before the handler
    # runs: the project acted on, the arguments after its code, the item or problem named.
    project: Project | None = None
    scoped_args: str | None = None
    target: Any = None

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

    @property
    def args(self) -> str:
        """The command's arguments, after the project code its scope consumed."""
        return self.incoming.args if self.scoped_args is None else self.scoped_args

    # -- text ------------------------------------------------------------------------
    def _(self, message: str, **params: Any) -> str:
        return Voice(self.lang, self.scheme)._(message, **params)

    def n_(self, singular: str, plural: str, n: int, **params: Any) -> str:
        if names_roles(singular):
            params = {**role_words(self, self.scheme), **params}
        text = ngettext(self.lang, singular, plural, n)
        return fill(normalize_lang(self.lang), text, {"n": n, **params})

    def label(self, label: Any) -> str:
        """Pick a scheme `Label` ({zh, en}) in the user's language."""
        return Voice(self.lang).label(label)

    # -- posting (into the outbox) ---------------------------------------------------
    @property
    def post(self) -> Postman:
        """The event's postman: every message this event causes is posted through it."""
        if self._post is None:
            self._post = Postman.for_event(
                self.uow, self.now, self.incoming.platform, self.incoming.event_id
            )
        return self._post

    async def reply(self, message: Outgoing | str) -> None:
        """Answer in the chat the event came from."""
        await self.post.to_chat(self.incoming.platform, self.incoming.chat_id, message)


def mention(person: Person) -> Mention:
    return Mention(person_id=person.id, display_name=person.name)
