"""Shared set-up of the metrics and log tests: an app on SQLite, a project with a bound
group and an overdue item, a scrape of /metrics parsed with prometheus_client's parser."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert

from bot.app import App, build_app
from bot.config import Settings
from bot.transports.base import Transport
from domain.application import project_snapshot
from domain.clock import FakeClock
from domain.scheme_loader import load_scheme
from handlers.chat import ChatKind, Incoming, Sender
from storage.migrate import upgrade
from storage.models import ChecklistItem, PersonRole, Project
from storage.uow import UnitOfWork

MONDAY = datetime.fromisoformat("2026-03-02T10:00:00+08:00")  # a working day, after 09:30
GROUP = "-1001234"
SPECIALIST = "tg-specialist"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass
class Seeded:
    project_id: int
    project_code: str
    specialist_id: int


async def new_app(tmp_path: Path, transports: dict[str, Transport], **settings: object) -> App:
    url = f"sqlite+aiosqlite:///{tmp_path / 'observed.sqlite3'}"
    await upgrade(url)
    return await build_app(
        Settings(database_url=url, scheme="tongzhou", **settings),  # type: ignore[arg-type]
        clock=FakeClock(MONDAY),
        transports=transports,
    )


async def seed_overdue_project(app: App) -> Seeded:
    """A specialist (Telegram DM), a project bound to a Telegram group, one item of theirs
    a month overdue: the day's round nudges them and the ladder escalates it."""
    now = app.services.clock.now()
    snapshot = project_snapshot(load_scheme("tongzhou"), "building")
    async with UnitOfWork(app.services.db) as uow:
        person = await uow.people.add("李明", lang="zh_CN", now=now)
        await uow.people.add_account(person.id, "telegram", SPECIALIST, "李明", now=now)
        await uow.session.execute(insert(PersonRole).values(person_id=person.id, role="specialist"))
        project_id = (
            await uow.session.execute(
                insert(Project)
                .values(
                    code="P2026-0042",
                    name="观测项目",
                    category="building",
                    stage="planning_permit",
                    status="accepted",
                    snapshot=snapshot,
                    created_at=now,
                )
                .returning(Project.id)
            )
        ).scalar_one()
        await uow.members.add(project_id, person.id, "specialist")
        chat = await uow.chats.get_or_create("telegram", GROUP, "group", "项目群", now=now)
        chat.project_id = project_id
        await uow.session.execute(
            insert(ChecklistItem).values(
                project_id=project_id,
                code="item1",
                name_zh="规划许可",
                name_en="Planning permit",
                stage="planning_permit",
                limit_workdays=10,
                prerequisites=[],
                state="in_review",
                assignee_id=person.id,
                due_on=date(2026, 1, 30),
                sort=0,
            )
        )
    return Seeded(project_id, "P2026-0042", person.id)


def group_event(event_id: str, text: str, sender: str = SPECIALIST) -> Incoming:
    command, args = Incoming.parse_command(text)
    return Incoming(
        event_id,
        Sender("telegram", sender, "李明", "zh"),
        GROUP,
        chat_kind=ChatKind.GROUP,
        chat_title="项目群",
        text=text,
        command=command,
        args=args,
    )


def dm_event(event_id: str, text: str, sender: str = "tg-enterprise") -> Incoming:
    command, args = Incoming.parse_command(text)
    return Incoming(
        event_id,
        Sender("telegram", sender, "王", "zh"),
        sender,
        text=text,
        command=command,
        args=args,
    )


async def scrape(client: TestClient) -> Samples:
    """GET /metrics and parse it: {(sample name, labels): value}."""
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 for a labelled counter never incremented (not exported)."""
    return samples.get((name, frozenset(labels.items())), 0.0)
