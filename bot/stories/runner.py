"""Playing a story (对话脚本运行): the real app with a fake clock and a memory transport.

Acting steps (say, press, send_file, advance, at, restart) drive the app; `expect` and
`expect_none` check what the bot sent since the last acting step.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.app import App, build_app
from bot.config import Settings
from bot.stories.format import PLATFORM, Step, Story, StoryError, Target, parse_story
from bot.stories.world import populate
from bot.transports.memory import Delivered, MemoryTransport
from domain.clock import FakeClock
from handlers.chat import Attachment, ChatKind, Incoming, Outgoing, Sender
from reminders.jobs import fire_times
from storage.migrate import upgrade


@dataclass
class StoryFailure:
    step: int
    description: str
    expectation: str
    messages: list[str]

    def __str__(self) -> str:
        sent = "\n".join(f"    {m}" for m in self.messages) or "    (nothing)"
        return (
            f"step {self.step} ({self.description}) failed: {self.expectation}\n"
            f"  messages sent since the last action:\n{sent}"
        )


@dataclass
class StoryResult:
    failures: list[StoryFailure] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


_DURATION = re.compile(
    r"^\s*(\d+)\s*(workdays?|working days?|days?|hours?|minutes?)\s*$", re.IGNORECASE
)


class StoryRunner:
    def __init__(self, story: Story, database_url: str, workdir: Path) -> None:
        self.story = story
        self.database_url = database_url
        self.workdir = workdir
        self.clock = FakeClock(story.start)
        self.people = {p.id: p for p in story.people}
        self.chats = {c.id: c for c in story.chats}
        self.delivered: list[Delivered] = []
        self.mark = 0  # index into delivered at the last acting step
        self.seq = 0
        self.result = StoryResult()
        self.app: App | None = None
        # Named groups of `expect` patterns, e.g. "code: (?P<code>\\w+)", for later `${code}`.
        self.vars: dict[str, str] = {}

    # -- app lifecycle
    async def _start(self) -> App:
        transport = MemoryTransport(PLATFORM, on_message=self._record)
        transport.delivered = self.delivered
        settings = Settings(
            database_url=self.database_url, scheme=self.story.scheme, tick_seconds=900
        )
        app = await build_app(settings, clock=self.clock, transports={PLATFORM: transport})
        app.services.document_folders["story:"] = self.workdir  # files the story sent
        return app

    def _record(self, item: Delivered) -> None:
        self.result.transcript.append(
            {
                "at": self.clock.now().isoformat(),
                "from": "bot",
                "chat": item.chat_external_id,
                "text": item.message.text,
                "buttons": [[b.label for b in row] for row in item.message.buttons],
            }
        )

    async def _register_people(self, app: App) -> None:
        await populate(app, self.story, self.clock.now())

    async def run(self) -> StoryResult:
        await upgrade(self.database_url)
        self.app = await self._start()
        try:
            await self._register_people(self.app)
            for index, step in enumerate(self.story.steps, start=1):
                await self._step(index, step)
        finally:
            await self.app.close()
        return self.result

    # -- steps
    def _chat_of(self, person: str, chat: str | None) -> tuple[str, ChatKind, str]:
        if chat is None:
            return person, ChatKind.DM, ""
        if chat not in self.chats:
            raise StoryError(f"unknown chat {chat!r}; chats: {', '.join(self.chats) or 'none'}")
        spec = self.chats[chat]
        if spec.kind == "dm":
            return person, ChatKind.DM, ""
        return f"group:{chat}", ChatKind.GROUP, spec.title or chat

    async def _act(self, step: Step, **fields: Any) -> None:
        assert self.app is not None and step.as_ is not None
        if step.as_ not in self.people:
            raise StoryError(f"unknown person {step.as_!r}")
        spec = self.people[step.as_]
        chat_id, kind, title = self._chat_of(spec.id, step.in_)
        self.seq += 1
        event = Incoming(
            event_id=f"s{self.seq}",
            sender=Sender(PLATFORM, spec.id, spec.name, spec.lang),
            chat_id=chat_id,
            chat_kind=kind,
            chat_title=title,
            **fields,
        )
        self.result.transcript.append(
            {
                "at": self.clock.now().isoformat(),
                "from": spec.id,
                "chat": chat_id,
                **{
                    k: (v if isinstance(v, str) else repr(v))
                    for k, v in fields.items()
                    if v is not None
                },
            }
        )
        await self.app.handle(event)
        await self.app.worker.drain()

    def _button_payload(self, step: Step) -> str:
        assert step.as_ is not None and step.press is not None
        chat_id, _, _ = self._chat_of(step.as_, step.in_)
        wanted = step.press
        for item in reversed(self.delivered):
            if item.chat_external_id != chat_id or not item.message.buttons:
                continue
            buttons = [b for row in item.message.buttons for b in row]
            for match in (
                lambda b: b.label == wanted or b.payload == wanted,
                lambda b: wanted in b.label,
            ):
                found = [b for b in buttons if match(b)]
                if found:
                    return found[0].payload
            break  # only the last message with buttons counts, as on a phone
        raise StoryError(
            f"{step.as_} has no button {wanted!r} on the last message with buttons in "
            f"{step.in_ or 'their DM'}"
        )

    async def _step(self, index: int, step: Step) -> None:
        kind = step.kind()
        assert self.app is not None
        if kind in {"expect", "expect_none"}:
            self._check(index, kind, step.expect or step.expect_none)  # type: ignore[arg-type]
            return
        self.mark = len(self.delivered)
        if kind == "say":
            text = self._substitute(index, step.say or "")
            command, args = Incoming.parse_command(text)
            await self._act(step, text=text, command=command, args=args if command else "")
        elif kind == "press":
            await self._act(step, payload=self._button_payload(step))
        elif kind == "send_file":
            name = step.send_file or "file"
            path = self.workdir / name
            text = step.content if step.content is not None else f"story file {name}\n"
            path.write_bytes(text.encode("utf-8"))
            await self._act(
                step, attachment=Attachment(name, _mime(name), path.stat().st_size, f"story:{name}")
            )
        elif kind == "advance":
            await self._advance_to(self._target_of(step.advance or ""))
        elif kind == "at":
            assert step.at is not None
            if step.at.tzinfo is None:
                raise StoryError(f"step {index}: at: give a time zone, e.g. +08:00")
            await self._advance_to(step.at)
        elif kind == "restart":
            await self.app.close()
            self.app = await self._start()
            self.result.transcript.append(
                {"at": self.clock.now().isoformat(), "from": "story", "restart": True}
            )

    def _substitute(self, index: int, text: str) -> str:
        def value(found: re.Match[str]) -> str:
            if found.group(1) not in self.vars:
                raise StoryError(f"step {index}: ${{{found.group(1)}}} was not captured before")
            return self.vars[found.group(1)]

        return re.sub(r"\$\{(\w+)\}", value, text)

    def _target_of(self, spec: str) -> datetime:
        assert self.app is not None
        found = _DURATION.match(spec)
        if not found:
            raise StoryError(
                f"advance: {spec!r} is not a duration like '3 workdays', '2 hours', '1 day'"
            )
        amount, unit = int(found.group(1)), found.group(2).lower()
        now = self.clock.now()
        if unit.startswith("work"):
            tz = self.app.services.timezone
            local = now.astimezone(tz)
            day = self.app.services.calendar.add_workdays(local.date(), amount)
            return datetime.combine(day, time(local.hour, local.minute, local.second), tz)
        if unit.startswith("day"):
            return now + timedelta(days=amount)
        if unit.startswith("hour"):
            return now + timedelta(hours=amount)
        return now + timedelta(minutes=amount)

    async def _advance_to(self, target: datetime) -> None:
        assert self.app is not None
        start = self.clock.now()
        due = sorted((t, j.name, j) for j in self.app.jobs for t in fire_times(j, start, target))
        for at, _, job in due:
            self.clock.set(at)
            await job.run(self.app.services, at)
            await self.app.worker.drain()
        self.clock.set(target)
        await self.app.worker.drain()

    def _check(self, index: int, kind: str, target: Target) -> None:
        chat_id = target.to if target.to is not None else None
        if target.in_ is not None:
            chat_id, _, _ = self._chat_of("", target.in_)
        elif target.to not in self.people:
            raise StoryError(f"step {index}: unknown person {target.to!r}")
        recent = [d.message for d in self.delivered[self.mark :] if d.chat_external_id == chat_id]

        def matches(msg: Outgoing) -> bool:
            found = None
            if target.text is not None:
                found = re.search(target.text, msg.text, re.DOTALL)
                if not found:
                    return False
            labels = [b.label for row in msg.buttons for b in row]
            if not all(any(re.search(rx, label) for label in labels) for rx in target.buttons):
                return False
            if target.file is not None and (
                msg.attachment is None or not re.search(target.file, msg.attachment.filename)
            ):
                return False
            if found is not None:
                self.vars.update({k: v for k, v in found.groupdict().items() if v is not None})
            return True

        hit = any(matches(m) for m in recent)
        who = f"to {target.to}" if target.to else f"in {target.in_}"
        if kind == "expect" and not hit:
            want = f"a message {who} matching /{target.text or '.*'}/" + (
                f" with buttons {target.buttons}" if target.buttons else ""
            ) + (f" with a file /{target.file}/" if target.file else "")
            self.result.failures.append(StoryFailure(index, kind, want, [_show(m) for m in recent]))
        if kind == "expect_none" and hit:
            want = f"no message {who}" + (f" matching /{target.text}/" if target.text else "")
            self.result.failures.append(StoryFailure(index, kind, want, [_show(m) for m in recent]))


def _show(msg: Outgoing) -> str:
    buttons = " ".join(f"[{b.label}]" for row in msg.buttons for b in row)
    file = f"  📎 {msg.attachment.filename}" if msg.attachment is not None else ""
    return msg.text.replace("\n", " ⏎ ") + (f"  {buttons}" if buttons else "") + file


def _mime(name: str) -> str:
    return {
        "pdf": "application/pdf",
        "jpg": "image/jpeg",
        "png": "image/png",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


async def run_story_file(
    path: Path, transcript: Path | None = None, database_url: str | None = None
) -> StoryResult:
    """Play one story file on a fresh SQLite store (or the given database)."""
    story = parse_story(await asyncio.to_thread(path.read_text, encoding="utf-8"), str(path))
    with tempfile.TemporaryDirectory(prefix="daiban-story-") as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'story.sqlite3'}"
        result = await StoryRunner(story, url, Path(tmp)).run()
    if transcript is not None:
        with transcript.open("w", encoding="utf-8") as out:
            for line in result.transcript:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return result


__all__ = ["StoryFailure", "StoryResult", "StoryRunner", "run_story_file"]
