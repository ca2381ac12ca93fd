"""A seeded Tongzhou world for the fault tests (故障测试世界): two projects with their teams,
bound groups, an outsider enterprise, the office and a leader, driven through the real
handlers and scheduler with a fake clock (the story runner's machinery).

The seeded database is built once per process and copied (SQLite backup) for every world,
so a hypothesis example starts in milliseconds.
"""

from __future__ import annotations

import logging
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.stories import PLATFORM, StoryRunner, parse_story
from bot.transports.memory import Delivered
from handlers.chat import ChatKind, Incoming, Outgoing, Sender
from storage.migrate import upgrade

SEED = """
scheme: tongzhou
start: 2026-11-23T09:00:00+08:00
people:
  - {id: ent_a, name: 甲企业联络人, role: enterprise}
  - {id: ent_b, name: 乙企业联络人, role: enterprise, lang: en}
  - {id: outsider, name: 丙企业联络人, role: enterprise}
  - {id: office, name: 办公室王, role: office}
  - {id: leader, name: 刘组长, role: leader}
  - {id: butler_a, name: 管家赵, role: butler}
  - {id: butler_b, name: 管家钱, role: butler, lang: en}
  - {id: spec_housing_a, name: 住建李, role: specialist, department: housing_construction}
  - {id: backup_housing_a, name: 住建周, role: backup, department: housing_construction,
     backup_of: spec_housing_a}
  - {id: spec_power_a, name: 供电孙, role: specialist, department: power_supply}
  - {id: spec_gas_a, name: 燃气马, role: specialist, department: gas}
  - {id: spec_plan_a, name: 规自吴, role: specialist, department: planning_natural_resources}
  - {id: spec_housing_b, name: Housing Zheng, role: specialist, department: housing_construction,
     lang: en}
  - {id: spec_plan_b, name: Planning Feng, role: specialist,
     department: planning_natural_resources, lang: en}
chats:
  - {id: ga, kind: group, title: 甲项目代办群}
  - {id: gb, kind: group, title: 乙项目代办群}
  - {id: gx, kind: group, title: 闲聊群}
projects:
  - {id: PA-0001, name: 运河物流中心, enterprise: ent_a, category: building, butler: butler_a,
     specialists: [spec_housing_a, spec_power_a, spec_gas_a, spec_plan_a], group: ga,
     accepted: 2026-11-20, stage: completion_acceptance}
  - {id: PB-0002, name: Songzhuang art park, enterprise: ent_b, category: building,
     butler: butler_b, specialists: [spec_housing_b, spec_plan_b], group: gb,
     accepted: 2026-11-20, stage: handover}
steps: []
"""

# Persons that exist in the store; "stranger" writes without any role (first contact).
STRANGER = "stranger"
GROUPS = {"ga": "group:ga", "gb": "group:gb", "gx": "group:gx"}
PROJECT_CODES = ("PA-0001", "PB-0002")
PROJECT_NAMES = {"PA-0001": "运河物流中心", "PB-0002": "Songzhuang art park"}


class ErrorLog(logging.Handler):
    """Collects ERROR records (a handler that failed, a job that raised)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in self.records]


@dataclass
class Sent:
    """One delivered message with the fake time it went out."""

    at: datetime
    chat: str
    message: Outgoing


@dataclass
class World:
    runner: StoryRunner
    sent: list[Sent] = field(default_factory=list)
    errors: ErrorLog = field(default_factory=ErrorLog)
    seq: int = 0
    stranger_lang: str = "zh"

    @property
    def app(self) -> Any:
        assert self.runner.app is not None
        return self.runner.app

    @property
    def now(self) -> datetime:
        return self.runner.clock.now()

    def names(self) -> list[str]:
        return [*self.runner.people, STRANGER]

    def _record(self, item: Delivered) -> None:
        self.sent.append(Sent(self.runner.clock.now(), item.chat_external_id, item.message))

    async def event(
        self,
        person: str,
        chat: str | None,
        *,
        text: str | None = None,
        payload: str | None = None,
    ) -> list[Sent]:
        """`person` says `text` or presses `payload` in a group (`ga`, `gb`, `gx`) or in their
        DM (`chat=None`); the messages delivered as a result."""
        spec = self.runner.people.get(person)
        name, lang = (spec.name, spec.lang) if spec else ("陌生人", self.stranger_lang)
        chat_id, kind = (GROUPS[chat], ChatKind.GROUP) if chat else (person, ChatKind.DM)
        command, args = Incoming.parse_command(text) if text is not None else (None, "")
        self.seq += 1
        event = Incoming(
            event_id=f"fz{self.seq}",
            sender=Sender(PLATFORM, person, name, lang),
            chat_id=chat_id,
            chat_kind=kind,
            chat_title=chat or "",
            text=text,
            command=command,
            args=args if command else "",
            payload=payload,
        )
        mark = len(self.sent)
        await self.app.handle(event)
        await self.app.worker.drain()
        return self.sent[mark:]

    def said(self, person: str, chat: str | None, text: str) -> Any:
        return self.event(person, chat, text=text)

    async def advance(self, delta: timedelta) -> list[Sent]:
        """Move the clock, running every scheduled job that falls due (and delivering)."""
        mark = len(self.sent)
        await self.runner._advance_to(self.now + delta)
        return self.sent[mark:]

    def _workdays_later(self, n: int) -> datetime:
        tz = self.app.services.timezone
        local = self.now.astimezone(tz)
        day = self.app.services.calendar.add_workdays(local.date(), n)
        return datetime.combine(day, local.timetz().replace(tzinfo=None), tz)

    async def advance_workdays(self, n: int) -> list[Sent]:
        return await self.advance(self._workdays_later(n) - self.now)

    def skip_workdays(self, n: int) -> None:
        """Jump the clock without running any job, as if the bot had been down."""
        self.runner.clock.set(self._workdays_later(n))

    def buttons_seen(self, person: str, chat: str | None) -> list[str]:
        """Payloads of the buttons on the last message with buttons in that chat."""
        chat_id = GROUPS[chat] if chat else person
        for sent in reversed(self.sent):
            if sent.chat == chat_id and sent.message.buttons:
                return [b.payload for row in sent.message.buttons for b in row]
        return []

    async def speak_english(self) -> None:
        """Everyone reads English from now on (tests match the English msgids)."""
        from sqlalchemy import update

        from storage.models import Person

        self.stranger_lang = "en"
        async with self.app.services.db.sessionmaker() as session, session.begin():
            await session.execute(update(Person).values(lang="en"))

    async def close(self) -> None:
        logging.getLogger().removeHandler(self.errors)
        await self.app.close()


_TEMPLATE: dict[str, Path] = {}


async def _template() -> Path:
    """The seeded database, built once per process."""
    if "db" not in _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="daiban-world-"))
        path = folder / "template.sqlite3"
        await _seed(_url(path), folder)
        _TEMPLATE["db"] = path
    return _TEMPLATE["db"]


async def _seed(database_url: str, folder: Path) -> None:
    """Migrate and seed the world into an empty database."""
    runner = StoryRunner(parse_story(SEED), database_url, folder)
    await upgrade(runner.database_url)
    runner.app = await runner._start()
    try:
        await runner._register_people(runner.app)
        await _add_enterprises(runner)
    finally:
        await runner.app.close()


async def _add_enterprises(runner: StoryRunner) -> None:
    """Each project's contact works for its own enterprise, as after an accepted application
    (stories seed projects without one)."""
    from storage.models import Enterprise
    from storage.uow import UnitOfWork

    assert runner.app is not None
    now = runner.clock.now()
    async with UnitOfWork(runner.app.services.db) as uow:
        for spec in runner.story.projects:
            project = await uow.projects.by_code(spec.id)
            contact = await uow.people.by_account(PLATFORM, spec.enterprise)
            assert project is not None and contact is not None
            enterprise = Enterprise(name=f"{spec.name}建设单位", created_at=now)
            uow.session.add(enterprise)
            await uow.flush()
            project.enterprise_id = enterprise.id
            contact.enterprise_id = enterprise.id


def _copy(template: Path, target: Path) -> None:
    """Copy the seeded database (the online-backup API takes its WAL along)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    src, dst = sqlite3.connect(template), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def open_world(
    workdir: Path, *, tick: timedelta = timedelta(minutes=15), database_url: str | None = None
) -> World:
    """A fresh copy of the seeded world in `workdir`; or, given the URL of an empty database
    (a scratch PostgreSQL one), the world seeded there."""
    if database_url is None:
        template = await _template()
        target = workdir / "world.sqlite3"
        _copy(template, target)
        database_url = _url(target)
    else:
        await _seed(database_url, workdir)
    runner = StoryRunner(parse_story(SEED), database_url, workdir)
    world = World(runner)
    runner.app = await _start(runner, world, tick)
    logging.getLogger().addHandler(world.errors)
    return world


async def _start(runner: StoryRunner, world: World, tick: timedelta) -> Any:
    from bot.app import build_app
    from bot.config import Settings
    from bot.transports.memory import MemoryTransport

    transport = MemoryTransport(PLATFORM, on_message=world._record)
    settings = Settings(
        database_url=runner.database_url,
        scheme=runner.story.scheme,
        tick_seconds=int(tick.total_seconds()),
    )
    return await build_app(settings, clock=runner.clock, transports={PLATFORM: transport})
