"""Stories (对话脚本): a conversation script played through the real app with a fake clock.

The format is a public interface (offices write their own); see README "Stories". A story
lists people, chats and steps; acting steps (say, press, send_file, advance, at, restart)
drive the app, `expect`/`expect_none` check what the bot sent since the last acting step.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.app import App, build_app
from bot.config import Settings
from bot.transports.memory import Delivered, MemoryTransport
from domain.application import project_snapshot
from domain.clock import FakeClock
from handlers.chat import Attachment, ChatKind, Incoming, Outgoing, Sender
from handlers.i18n import normalize_lang
from handlers.roles import ROLES
from handlers.team import assign_team, bind_chat
from reminders.jobs import fire_times
from storage.migrate import upgrade
from storage.uow import UnitOfWork

PLATFORM = "story"


class StoryError(Exception):
    """The story file itself is wrong (not an expectation failing)."""


# -- the file format ---------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PersonSpec(_Strict):
    id: str
    name: str
    role: str
    department: str | None = None
    backup_of: str | None = None  # a person id: this one is their backup specialist
    lang: Literal["zh", "en"] = "zh"

    @model_validator(mode="after")
    def _known_role(self) -> PersonSpec:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; roles are {', '.join(ROLES)}")
        return self


class ChatSpec(_Strict):
    id: str
    kind: Literal["group", "dm"] = "group"
    members: list[str] = Field(default_factory=list)
    title: str | None = None


class ProjectSpec(_Strict):
    """An accepted project with its team and bound group, set up before the steps run.

    ``id`` becomes the project code; ``enterprise`` is the contact's person id; the plan
    starts on ``accepted`` (the day the group is bound), exactly as /assign and /bind do.
    Without ``butler`` the project only waits for /assign; without ``group`` it is not bound.
    """

    id: str
    name: str
    enterprise: str
    category: str
    butler: str | None = None  # none: accepted only, waiting for /assign
    specialists: list[str] = Field(default_factory=list)
    group: str | None = None  # none: the team has not bound its group yet
    accepted: date
    stage: str | None = None
    zone: str | None = None


class Target(_Strict):
    to: str | None = None
    in_: str | None = Field(default=None, alias="in")
    text: str | None = None
    buttons: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_target(self) -> Target:
        if (self.to is None) == (self.in_ is None):
            raise ValueError("say either `to: PERSON` or `in: CHAT`")
        return self


class Step(_Strict):
    as_: str | None = Field(default=None, alias="as")
    in_: str | None = Field(default=None, alias="in")
    say: str | None = None
    press: str | None = None
    send_file: str | None = None
    advance: str | None = None
    at: datetime | None = None
    restart: bool | None = None
    expect: Target | None = None
    expect_none: Target | None = None

    def kind(self) -> str:
        kinds = [
            k
            for k in (
                "say",
                "press",
                "send_file",
                "advance",
                "at",
                "restart",
                "expect",
                "expect_none",
            )
            if getattr(self, k) is not None
        ]
        if len(kinds) != 1:
            raise ValueError(f"a step does exactly one thing; this one has {kinds or 'nothing'}")
        if kinds[0] in {"say", "press", "send_file"} and not self.as_:
            raise ValueError(f"`{kinds[0]}` needs `as: PERSON`")
        return kinds[0]


class Story(_Strict):
    scheme: str = "tongzhou"
    start: datetime
    people: list[PersonSpec]
    chats: list[ChatSpec] = Field(default_factory=list)
    projects: list[ProjectSpec] = Field(default_factory=list)
    steps: list[Step]
    title: str | None = None
    description: str | None = None


def parse_story(text: str, source: str = "<story>") -> Story:
    try:
        story = Story.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise StoryError(f"{source}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise StoryError(f"{source}: {where}: {err['msg']}") from None
    if story.start.tzinfo is None:
        raise StoryError(f"{source}: start: give a time zone, e.g. 2026-11-23T09:00:00+08:00")
    for index, step in enumerate(story.steps, start=1):
        try:
            step.kind()
        except ValueError as exc:
            raise StoryError(f"{source}: step {index}: {exc}") from None
    for project in story.projects:
        if project.group is not None and project.group not in {
            c.id for c in story.chats if c.kind == "group"
        }:
            raise StoryError(
                f"{source}: project {project.id}: group {project.group!r} is not a group chat"
            )
    return story


# -- running -----------------------------------------------------------------------------
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
        return await build_app(settings, clock=self.clock, transports={PLATFORM: transport})

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
        scheme = app.services.scheme
        by_name = {d.name.zh: d.id for d in scheme.departments} | {
            d.id: d.id for d in scheme.departments
        }
        async with UnitOfWork(app.services.db) as uow:
            for spec in self.story.people:
                if await uow.people.by_account(PLATFORM, spec.id) is not None:
                    continue
                dept = None
                if spec.department is not None:
                    dept = by_name.get(spec.department)
                    if dept is None:
                        raise StoryError(
                            f"person {spec.id}: department {spec.department!r} is not in scheme "
                            f"{scheme.id} (known: {', '.join(sorted(by_name)[:12])}…)"
                        )
                person = await uow.people.add(
                    spec.name,
                    lang=normalize_lang(spec.lang),
                    roles=[(spec.role, dept)],
                    now=self.clock.now(),
                )
                await uow.people.add_account(
                    person.id, PLATFORM, spec.id, spec.name, now=self.clock.now()
                )
            for spec in self.story.people:
                if spec.backup_of is None:
                    continue
                backup = await uow.people.by_account(PLATFORM, spec.id)
                backed = await uow.people.by_account(PLATFORM, spec.backup_of)
                if backup is None or backed is None:
                    raise StoryError(f"person {spec.id}: backup_of {spec.backup_of!r} is unknown")
                department = by_name.get(spec.department or "") or next(
                    (
                        by_name.get(p.department or "")
                        for p in self.story.people
                        if p.id == spec.backup_of
                    ),
                    None,
                )
                await uow.people.add_role(backup.id, "backup", department, backup_of_id=backed.id)
            for project in self.story.projects:
                await self._setup_project(uow, app, project, by_name)

    async def _setup_project(
        self, uow: UnitOfWork, app: App, spec: ProjectSpec, by_name: dict[str, str]
    ) -> None:
        """Accept, staff and bind one project through the same functions /assign and /bind use."""
        if await uow.projects.by_code(spec.id) is not None:
            return  # a restart: the store already has it
        scheme = app.services.scheme
        now = self.clock.now()
        stage = spec.stage or scheme.stages[0].id
        try:
            scheme.category(spec.category)
            scheme.stage(stage)
        except KeyError as exc:
            raise StoryError(f"project {spec.id}: {exc} is not in scheme {scheme.id}") from None

        async def person(pid: str):
            found = await uow.people.by_account(PLATFORM, pid)
            if found is None:
                raise StoryError(f"project {spec.id}: unknown person {pid!r}")
            return found

        contact = await person(spec.enterprise)
        accepted_at = datetime.combine(spec.accepted, time(9), app.services.timezone)
        project = await uow.projects.add(
            code=spec.id,
            name=spec.name,
            category=spec.category,
            stage=stage,
            status="accepted",
            zone=spec.zone,
            accepted_at=accepted_at,
            snapshot=project_snapshot(scheme, spec.category),
            created_at=accepted_at,
        )
        await uow.members.add(project.id, contact.id, "enterprise")
        chosen: dict[str, int] = {}
        for pid in spec.specialists:
            person_spec = self.people.get(pid)
            department = by_name.get(person_spec.department or "") if person_spec else None
            if department is None:
                raise StoryError(f"project {spec.id}: specialist {pid!r} has no department")
            chosen[department] = (await person(pid)).id
        if spec.butler is None:
            return
        butler = await person(spec.butler)
        await assign_team(uow, project, butler.id, now=now, actor_id=None, specialists=chosen)
        if spec.group is None:
            return
        chat = await uow.chats.get_or_create(
            PLATFORM,
            f"group:{spec.group}",
            "group",
            self.chats[spec.group].title or spec.group,
            now,
        )
        await bind_chat(
            uow,
            scheme,
            app.services.calendar,
            project,
            chat,
            today=spec.accepted,
            now=now,
            actor_id=butler.id,
        )

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
            path.write_bytes(f"story file {name}\n".encode())
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
            if found is not None:
                self.vars.update({k: v for k, v in found.groupdict().items() if v is not None})
            return True

        hit = any(matches(m) for m in recent)
        who = f"to {target.to}" if target.to else f"in {target.in_}"
        if kind == "expect" and not hit:
            want = f"a message {who} matching /{target.text or '.*'}/" + (
                f" with buttons {target.buttons}" if target.buttons else ""
            )
            self.result.failures.append(StoryFailure(index, kind, want, [_show(m) for m in recent]))
        if kind == "expect_none" and hit:
            want = f"no message {who}" + (f" matching /{target.text}/" if target.text else "")
            self.result.failures.append(StoryFailure(index, kind, want, [_show(m) for m in recent]))


def _show(msg: Outgoing) -> str:
    buttons = " ".join(f"[{b.label}]" for row in msg.buttons for b in row)
    return msg.text.replace("\n", " ⏎ ") + (f"  {buttons}" if buttons else "")


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
