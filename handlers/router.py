"""The router (路由): handlers declare what they answer and who may ask, in aiogram's spirit.

    router = Router("plan")

    @router.command("plan", roles={"butler"}, scope=OnProject("butler"), help=N_("…"))
    async def plan(ctx: Ctx) -> None: ...     # ctx.project is the butler's own project

    @router.button("lang:")                     # payload prefix
    async def set_lang(ctx: Ctx) -> None: ...

    @router.command("assign", roles={"office"}, chat=ChatKind.DM, help=N_("…"))

Reading a module's decorators tells you its whole surface: what it answers, in which
kind of chat, for which roles, on which project (handlers/access.py). The router checks
all of it before a handler runs and refuses in one way; /help is read from the same
declarations. Routers nest with `include`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from handlers.chat import ChatKind
from handlers.context import Ctx
from handlers.refusals import refuse_chat, refuse_roles
from handlers.roles import ROLES

Handler = Callable[[Ctx], Awaitable[None]]


class Scope(Protocol):
    """What a route acts on beyond the sender's roles (a project, a rating round): found
    and checked by the router before the handler runs (handlers/access.py)."""

    @property
    def audience(self) -> frozenset[str]:
        """The roles that may use the route (for /help); empty: everyone."""
        ...

    async def admit(self, ctx: Ctx) -> bool:
        """Fill the context with what the event is about; False after refusing."""
        ...


@dataclass(frozen=True)
class Route:
    kind: str  # "command" | "button" | "text" | "file"
    key: str  # command name, payload prefix, or "" for text/file
    handler: Handler
    roles: frozenset[str] = frozenset()
    chat: ChatKind | None = None
    scope: Scope | None = None
    help: str | None = None  # msgid of the /help line (commands)
    elsewhere: str | None = None  # msgid answered in the wrong kind of chat, if not the usual
    # Roles it is not for even though it is open to everyone else (staff do not /apply):
    # refused to them, and left out of their /help.
    not_for: frozenset[str] = frozenset()

    def matches(self, ctx: Ctx) -> bool:
        """The event is of this route's kind and key (in whatever chat)."""
        event = ctx.incoming
        if self.kind == "command":
            return event.command == self.key
        if self.kind == "button":
            return event.payload is not None and event.payload.startswith(self.key)
        if self.kind == "file":
            return event.attachment is not None and event.command is None and event.payload is None
        return event.command is None and event.payload is None and event.attachment is None

    def fits_chat(self, ctx: Ctx) -> bool:
        return self.chat is None or ctx.incoming.chat_kind is self.chat

    def allows(self, ctx: Ctx) -> bool:
        if self.not_for and ctx.has_role(*self.not_for):
            return False
        return not self.roles or ctx.has_role(*self.roles)

    @property
    def refused_for(self) -> frozenset[str]:
        """The roles a refusal names: its roles, else every role it is not closed to."""
        return self.roles or frozenset(ROLES) - self.not_for

    def listed_for(self, roles: frozenset[str]) -> bool:
        """Whether /help lists it to someone with `roles`."""
        if self.not_for & roles:
            return False
        return not self.audience or bool(self.audience & roles)

    @property
    def audience(self) -> frozenset[str]:
        """Who may use it: its roles, else its scope's audience; empty: everyone."""
        if self.roles:
            return self.roles
        return self.scope.audience if self.scope is not None else frozenset()


class Router:
    """An ordered set of routes; included routers are searched after one's own."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._routes: list[Route] = []
        self._children: list[Router] = []

    def _register(
        self,
        kind: str,
        key: str,
        roles: set[str] | frozenset[str] | None,
        chat: ChatKind | None,
        scope: Scope | None = None,
        help: str | None = None,
        elsewhere: str | None = None,
        not_for: frozenset[str] = frozenset(),
    ) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            route = Route(
                kind, key, handler, frozenset(roles or ()), chat, scope, help, elsewhere, not_for
            )
            self._routes.append(route)
            return handler

        return decorator

    def command(
        self,
        name: str,
        *,
        roles: set[str] | frozenset[str] | None = None,
        chat: ChatKind | None = None,
        scope: Scope | None = None,
        help: str | None = None,
        elsewhere: str | None = None,
        not_for: frozenset[str] = frozenset(),
    ) -> Callable[[Handler], Handler]:
        return self._register(
            "command", name.lower(), roles, chat, scope, help, elsewhere, frozenset(not_for)
        )

    def button(
        self,
        prefix: str,
        *,
        roles: set[str] | frozenset[str] | None = None,
        chat: ChatKind | None = None,
        scope: Scope | None = None,
    ) -> Callable[[Handler], Handler]:
        return self._register("button", prefix, roles, chat, scope)

    def text(self, *, roles: set[str] | None = None, chat: ChatKind | None = None):
        return self._register("text", "", roles, chat)

    def file(self, *, roles: set[str] | None = None, chat: ChatKind | None = None):
        return self._register("file", "", roles, chat)

    def include(self, child: Router) -> Router:
        self._children.append(child)
        return self

    def routes(self) -> Iterator[Route]:
        yield from self._routes
        for child in self._children:
            yield from child.routes()

    def menu(self, roles: frozenset[str]) -> list[tuple[str, str]]:
        """(command, help msgid) for each command someone with `roles` may use, in the
        order the routes are declared; the first route of a command with help names it."""
        helps: dict[str, str] = {}
        usable: set[str] = set()
        for route in self.routes():
            if route.kind != "command":
                continue
            if route.help and route.key not in helps:
                helps[route.key] = route.help
            if route.listed_for(roles):
                usable.add(route.key)
        return [(name, text) for name, text in helps.items() if name in usable]

    async def dispatch(self, ctx: Ctx) -> bool:
        """Run the route the event asks for, after its chat, roles and scope admit it;
        False when no route answers this kind of event at all."""
        candidates = [r for r in self.routes() if r.matches(ctx)]
        if not candidates:
            return False
        here = [r for r in candidates if r.fits_chat(ctx)]
        if here:
            route = next((r for r in here if r.allows(ctx)), None)
            if route is None:
                await refuse_roles(ctx, here[0].refused_for)
            elif route.scope is None or await route.scope.admit(ctx):
                await route.handler(ctx)
            return True
        first = candidates[0]
        if first.kind == "text":
            return False  # free text of another kind of chat is not for us
        if first.kind != "command":
            return True  # a button of a direct-chat screen pressed in a group: ignored
        if not any(r.allows(ctx) for r in candidates):
            await refuse_roles(ctx, first.refused_for)
        else:
            await refuse_chat(ctx, first.chat, first.elsewhere)
        return True
