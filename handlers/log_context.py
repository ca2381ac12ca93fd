"""The log context (日志上下文): which chat and project the current work is about.

`bot/app.py` opens a scope per inbound event and per scheduler job; code below it binds
the project once it knows it. The log setup (`bot/logs.py`) stamps every line with the
scope's fields. A context variable, so concurrent events and jobs never mix their scopes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(slots=True)
class LogScope:
    """What one event or job step is about; `failed` is set when it logged an error."""

    chat: str | None = None  # "platform:chat id"
    event: str | None = None  # the platform's event id
    job: str | None = None
    project: int | None = None
    project_code: str | None = None
    failed: bool = False

    def fields(self) -> dict[str, str]:
        """The known fields as strings, for a log line."""
        out: dict[str, str] = {}
        if self.project is not None:
            out["project"] = str(self.project)
        if self.project_code is not None:
            out["project_code"] = self.project_code
        if self.chat is not None:
            out["chat"] = self.chat
        if self.event is not None:
            out["event"] = self.event
        if self.job is not None:
            out["job"] = self.job
        return out


_scope: ContextVar[LogScope | None] = ContextVar("daiban_log_scope", default=None)


def current() -> LogScope | None:
    """The scope of the work running now, if any."""
    return _scope.get()


@contextmanager
def scope(
    *, chat: str | None = None, event: str | None = None, job: str | None = None
) -> Iterator[LogScope]:
    """A fresh scope for one event or job run; the previous one is back afterwards."""
    new = LogScope(chat=chat, event=event, job=job)
    token = _scope.set(new)
    try:
        yield new
    finally:
        _scope.reset(token)


def begin(*, chat: str | None = None, job: str | None = None) -> LogScope:
    """A fresh scope for the rest of the current task (a task's context ends with it)."""
    new = LogScope(chat=chat, job=job)
    _scope.set(new)
    return new


def _here() -> LogScope:
    found = _scope.get()
    if found is None:  # work outside any event or job (a script, a test): start one
        found = LogScope()
        _scope.set(found)
    return found


def bind_project(project_id: int, code: str | None = None) -> None:
    """The current work is about this project (until the next bind or the scope's end).

    Called once per item in the reminder loops, so kept to a lookup and two stores."""
    here = _scope.get()
    if here is None:
        here = _here()
    here.project = project_id
    here.project_code = code


def bind_chat(platform: str, chat_id: str) -> None:
    """The current work is about this chat."""
    _here().chat = f"{platform}:{chat_id}"


def mark_failed() -> None:
    """The current event's handling failed (it logged an error)."""
    found = _scope.get()
    if found is not None:
        found.failed = True


__all__ = ["LogScope", "begin", "bind_chat", "bind_project", "current", "mark_failed", "scope"]
