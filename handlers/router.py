"""The router (路由): handlers declare what they answer, in the spirit of aiogram.

    router = Router("basics")

    @router.command("start")
    async def start(ctx: Ctx) -> None: ...

    @router.button("lang:")                 # payload prefix
    async def set_lang(ctx: Ctx) -> None: ...

    @router.command("assign", roles={"office"}, chat=ChatKind.GROUP)

Reading a module's decorators tells you its whole surface. Routers nest with `include`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from handlers.chat import ChatKind
from handlers.context import Ctx

Handler = Callable[[Ctx], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    kind: str  # "command" | "button" | "text" | "file"
    key: str  # command name, payload prefix, or "" for text/file
    handler: Handler
    roles: frozenset[str] = frozenset()
    chat: ChatKind | None = None

    def matches(self, ctx: Ctx) -> bool:
        event = ctx.incoming
        if self.chat is not None and event.chat_kind is not self.chat:
            return False
        if self.kind == "command":
            return event.command == self.key
        if self.kind == "button":
            return event.payload is not None and event.payload.startswith(self.key)
        if self.kind == "file":
            return event.attachment is not None and event.command is None and event.payload is None
        return event.command is None and event.payload is None and event.attachment is None


class Router:
    """An ordered set of routes; included routers are searched after one's own."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._routes: list[Route] = []
        self._children: list[Router] = []

    def _register(self, kind: str, key: str, roles: set[str] | None, chat: ChatKind | None):
        def decorator(handler: Handler) -> Handler:
            self._routes.append(Route(kind, key, handler, frozenset(roles or ()), chat))
            return handler

        return decorator

    def command(self, name: str, *, roles: set[str] | None = None, chat: ChatKind | None = None):
        return self._register("command", name.lower(), roles, chat)

    def button(self, prefix: str, *, roles: set[str] | None = None, chat: ChatKind | None = None):
        return self._register("button", prefix, roles, chat)

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

    def commands(self) -> set[str]:
        return {r.key for r in self.routes() if r.kind == "command"}

    def find(self, ctx: Ctx) -> tuple[Route | None, Route | None]:
        """(the first route that matches and allows this person, the first that matches at all)."""
        first_match: Route | None = None
        for route in self.routes():
            if not route.matches(ctx):
                continue
            first_match = first_match or route
            if not route.roles or ctx.has_role(*route.roles):
                return route, first_match
        return None, first_match
