"""A small world for the reminder tests: people, one accepted project, its group, items.

Rows are written directly (the project-team flows are not needed to test the clock), and
`World.advance_to` runs every job fire time in between, as the story runner does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import App, build_app
from bot.config import Settings
from bot.transports.memory import Delivered, MemoryTransport
from domain.application import project_snapshot
from domain.clock import FakeClock
from reminders.jobs import fire_times
from storage.migrate import upgrade
from storage.models import ChecklistItem, Person, PersonRole
from storage.uow import UnitOfWork

TZ = ZoneInfo("Asia/Shanghai")
P = "story"


def local(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@dataclass
class World:
    url: str
    clock: FakeClock
    delivered: list[Delivered] = field(default_factory=list)
    app: App | None = None
    ids: dict[str, int] = field(default_factory=dict)
    scheme: str = "tongzhou"

    async def start(self) -> App:
        transport = MemoryTransport(P)
        transport.delivered = self.delivered
        settings = Settings(database_url=self.url, scheme=self.scheme, tick_seconds=900)
        self.app = await build_app(settings, clock=self.clock, transports={P: transport})
        return self.app

    async def restart(self) -> App:
        assert self.app is not None
        await self.app.close()
        return await self.start()

    async def close(self) -> None:
        if self.app is not None:
            await self.app.close()

    async def advance_to(self, target: datetime, *, restart_each_fire: bool = False) -> None:
        assert self.app is not None
        start = self.clock.now()
        due = sorted((t, j.name) for j in self.app.jobs for t in fire_times(j, start, target))
        for at, name in due:
            if restart_each_fire and 8 <= at.astimezone(TZ).hour < 10:
                await self.restart()
            assert self.app is not None
            job = next(j for j in self.app.jobs if j.name == name)
            self.clock.set(at)
            await job.run(self.app.services, at)
            await self.app.worker.drain()
        self.clock.set(target)
        await self.app.worker.drain()

    def to(self, who: str) -> list[str]:
        return [d.message.text for d in self.delivered if d.chat_external_id == who]

    def group(self) -> list[str]:
        return self.to("group:g1")


async def make_world(
    tmp_path: Path, start: datetime, due_on: date, scheme: str = "tongzhou"
) -> World:
    url = f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"
    await upgrade(url)
    world = World(url, FakeClock(start), scheme=scheme)
    app = await world.start()
    now = start
    async with UnitOfWork(app.services.db) as uow:
        people: dict[str, Person] = {}
        for key, name, role in [
            ("spec", "李专员", "specialist"),
            ("backup", "王候补", "backup"),
            ("butler", "赵管家", "butler"),
            ("office", "钱办公室", "office"),
            ("leader", "孙领导", "leader"),
        ]:
            person = await uow.people.add(name, lang="zh_CN", roles=[(role, None)], now=now)
            await uow.people.add_account(person.id, P, key, name, now=now)
            people[key] = person
            world.ids[key] = person.id
        role = await uow.session.get(
            PersonRole, (await uow.people.roles_of(people["backup"].id))[0].id
        )
        assert role is not None
        role.backup_of_id = people["spec"].id
        categories = [c.id for c in app.services.scheme.categories]
        category = "building" if "building" in categories else categories[0]
        project = await uow.projects.add(
            code="TZ-2026-0001",
            name="运河数据中心",
            category=category,
            stage="planning_permit",
            status="accepted",
            butler_id=people["butler"].id,
            accepted_at=now - timedelta(days=30),
            snapshot=project_snapshot(app.services.scheme, category),
            created_at=now - timedelta(days=30),
        )
        world.ids["project"] = project.id
        chat = await uow.chats.get_or_create(P, "group:g1", "group", "运河数据中心", now)
        chat.project_id = project.id
        item = ChecklistItem(
            project_id=project.id,
            code="planning_permit",
            name_zh="建设工程规划许可证",
            name_en="Planning permit",
            stage="planning_permit",
            assignee_id=people["spec"].id,
            limit_workdays=10,
            state="in_review",
            due_on=due_on,
        )
        uow.session.add(item)
        await uow.flush()
        world.ids["item"] = item.id
    return world


# -- the tests ---------------------------------------------------------------------------
async def test_nudges_follow_working_days_and_mention_backup_later(tmp_path):
    # Due Wed 30 Sep 2026; 25 Sep (中秋) and 1–7 Oct (国庆) are off, Sat 10 Oct is a workday.
    world = await make_world(tmp_path, local(2026, 9, 24, 18, 30), date(2026, 9, 30))
    try:
        days: dict[str, list[str]] = {}
        day = date(2026, 9, 25)
        while day <= date(2026, 10, 13):
            before = len(world.delivered)
            await world.advance_to(local(day.year, day.month, day.day, 18, 30))
            new = world.delivered[before:]
            days[day.isoformat()] = [
                d.message.text for d in new if d.chat_external_id == "group:g1"
            ]
            day += timedelta(days=1)
        nudged = [d for d, texts in days.items() if any("规划许可证" in t for t in texts)]
        assert nudged == [
            "2026-09-28",  # 2 working days before due (the 25th is a holiday)
            "2026-09-30",  # the due day
            "2026-10-08",
            "2026-10-09",
            "2026-10-10",  # the make-up Saturday
            "2026-10-12",
            "2026-10-13",
        ]
        assert any("@李专员" in t for t in days["2026-09-28"])
        assert not any("@王候补" in t for t in days["2026-10-08"])  # 1 day overdue: not yet
        assert any("@王候补" in t for t in days["2026-10-09"])
        assert len(world.to("backup")) == 4  # DMs to the backup from day 2 overdue on
        spec_dms = world.to("spec")
        assert sum("规划许可证" in t for t in spec_dms) == 7  # one per nudged day, never twice
    finally:
        await world.close()


async def test_paused_item_is_not_nudged(tmp_path):
    world = await make_world(tmp_path, local(2026, 10, 12, 8, 0), date(2026, 10, 8))
    try:
        async with UnitOfWork(world.app.services.db) as uow:  # type: ignore[union-attr]
            item = await uow.items.get(world.ids["item"])
            item.state, item.paused_on = "correction_needed", date(2026, 10, 9)
        await world.advance_to(local(2026, 10, 14, 18, 0))
        assert world.group() == []
        assert world.to("spec") == []
    finally:
        await world.close()


async def test_ladder_climbs_and_unacked_problem_climbs_by_itself(tmp_path):
    world = await make_world(tmp_path, local(2026, 10, 7, 18, 0), date(2026, 9, 30))
    try:
        await world.advance_to(local(2026, 10, 8, 18, 0))  # 1 day overdue: level 1
        office = world.to("office")
        assert any("#1" in t and "日常调度" in t for t in office)
        assert any("逾期工作日" in t or "Working days overdue" in t for t in office) or office
        assert not world.to("leader") or all(
            "简报" in t or "digest" in t for t in world.to("leader")
        )
        await world.advance_to(local(2026, 10, 9, 18, 0))  # nobody acked: climbs to 2
        async with UnitOfWork(world.app.services.db) as uow:  # type: ignore[union-attr]
            problem = await uow.problems.get(1)
            assert problem is not None and problem.level == 2 and problem.state == "open"
        # 3 days overdue (Saturday 10-10 is a make-up working day): level 2's threshold is
        # crossed today, so its wait starts today; silence never runs ahead of the scheme.
        await world.advance_to(local(2026, 10, 10, 18, 0))
        async with UnitOfWork(world.app.services.db) as uow:  # type: ignore[union-attr]
            problem = await uow.problems.get(1)
            assert problem is not None and problem.level == 2
        assert not any("执行组" in t for t in world.to("leader"))
        await world.advance_to(local(2026, 10, 12, 18, 0))  # a day of silence: level 3
        async with UnitOfWork(world.app.services.db) as uow:  # type: ignore[union-attr]
            problem = await uow.problems.get(1)
            assert problem is not None and problem.level == 3
        assert any("执行组" in t for t in world.to("leader"))
    finally:
        await world.close()


async def test_ack_stops_climbing_until_it_expires(tmp_path):
    from handlers.chat import ChatKind, Incoming, Sender

    world = await make_world(tmp_path, local(2026, 10, 7, 18, 0), date(2026, 9, 30))
    try:
        await world.advance_to(local(2026, 10, 8, 18, 0))
        event = Incoming(
            "e1",
            Sender(P, "butler", "赵管家"),
            "group:g1",
            ChatKind.GROUP,
            "g1",
            text="/ack",
            command="ack",
        )
        assert world.app is not None
        await world.app.handle(event)
        await world.app.worker.drain()
        assert any("#1" in t for t in world.group())
        # Level 1 suppresses for 2 working days: 9 and 10 Oct stay at level 1.
        await world.advance_to(local(2026, 10, 10, 18, 0))
        async with UnitOfWork(world.app.services.db) as uow:
            problem = await uow.problems.get(1)
            assert problem is not None and problem.level == 1 and problem.state == "acked"
        await world.advance_to(local(2026, 10, 13, 18, 0))  # expired: the ladder resumes
        async with UnitOfWork(world.app.services.db) as uow:
            problem = await uow.problems.get(1)
            assert problem is not None and problem.level >= 2
        resolve = Incoming(
            "e2",
            Sender(P, "office", "钱办公室"),
            "group:g1",
            ChatKind.GROUP,
            "g1",
            text="/resolve 规划局三日内出证",
            command="resolve",
            args="规划局三日内出证",
        )
        await world.app.handle(resolve)
        await world.app.worker.drain()
        assert any("会议纪要" in t and "规划局三日内出证" in t for t in world.group())
        assert any("规划局三日内出证" in t for t in world.to("spec"))
    finally:
        await world.close()


async def test_restarts_between_ticks_and_at_the_digest_minute_send_everything_once(tmp_path):
    world = await make_world(tmp_path, local(2026, 10, 7, 18, 0), date(2026, 9, 30))
    try:
        # A restart before every job fire between 08:00 and 10:00 (digest and nudge time).
        await world.advance_to(local(2026, 10, 9, 18, 0), restart_each_fire=True)
        # At the digest minute: the cron job, a restart, the catch-up and a tick all ask.
        await world.advance_to(local(2026, 10, 12, 8, 30))
        await world.restart()
        from reminders.jobs import tick
        from reminders.schedule import catch_up

        assert world.app is not None
        at = world.clock.now()
        await catch_up(world.app.services, at)
        await tick(world.app.services, at)
        await world.app.worker.drain()
        texts = [(d.chat_external_id, d.message.text) for d in world.delivered]
        assert len(texts) == len(set(texts)), "a message went out twice"
        digests = [t for t in world.to("leader") if "2026-10-12 每日简报" in t]
        assert len(digests) == 1
        firsts = [t.split("\n")[0] for t in world.to("leader")]
        heads = [line for line in firsts if line.endswith(" 每日简报**")]
        assert heads == [
            "**2026-10-08 每日简报**",
            "**2026-10-09 每日简报**",
            "**2026-10-10 每日简报**",  # the make-up Saturday is a working day
            "**2026-10-12 每日简报**",
        ]
        assert sum("规划许可证" in t for t in world.to("spec")) == 3  # 8, 9 and Sat 10 Oct
    finally:
        await world.close()


async def test_missed_digest_goes_out_at_startup_same_day_and_stale_one_is_skipped(tmp_path):
    from reminders.schedule import catch_up

    world = await make_world(tmp_path, local(2026, 10, 12, 7, 0), date(2026, 9, 30))
    try:
        assert world.app is not None
        # Down from before 08:30 until 10:05: the start-up catch-up sends today's digest.
        world.clock.set(local(2026, 10, 12, 10, 5))
        await catch_up(world.app.services, world.clock.now())
        await world.app.worker.drain()
        assert len([t for t in world.to("leader") if "2026-10-12 每日简报" in t]) == 1
        # Down all of the 13th: on the 14th at 10:00 only the 14th's digest goes out.
        world.clock.set(local(2026, 10, 14, 10, 0))
        await catch_up(world.app.services, world.clock.now())
        await world.app.worker.drain()
        leader = world.to("leader")
        assert not any("2026-10-13 每日简报" in t for t in leader)
        assert len([t for t in leader if "2026-10-14 每日简报" in t]) == 1
    finally:
        await world.close()


async def test_a_weekly_list_missed_while_down_goes_out_late_once(tmp_path):
    from reminders.jobs import tick

    world = await make_world(tmp_path, local(2026, 10, 12, 7, 0), date(2026, 12, 30))
    try:
        assert world.app is not None
        await world.advance_to(local(2026, 10, 12, 10, 0))
        on_time = [t for t in world.to("office") if "补发" not in t]
        assert len(on_time) == 1  # Monday's list, on its day
        # Down from Friday until Tuesday 10:00: Monday's list goes out late, marked, once.
        await world.restart()
        for minute in (0, 15):
            world.clock.set(local(2026, 10, 20, 10, minute))
            await tick(world.app.services, world.clock.now())
            await world.app.worker.drain()
        late = [t for t in world.to("office") if t.startswith("【补发】")]
        assert len(late) == 1
        assert "2026-10-19" in late[0]
        assert len(world.to("office")) == 2
    finally:
        await world.close()


async def test_a_new_installation_sends_no_late_report_or_round(tmp_path):
    from reminders.jobs import tick

    # Installed on a Tuesday: Monday's list and the quarter's round were never its to send.
    world = await make_world(tmp_path, local(2026, 10, 20, 10, 0), date(2026, 12, 30))
    try:
        assert world.app is not None
        await tick(world.app.services, world.clock.now())
        await world.app.worker.drain()
        assert world.to("office") == []
        assert world.to("butler") == []
    finally:
        await world.close()


async def test_a_rating_round_missed_while_down_starts_late_once(tmp_path):
    from reminders.jobs import tick

    world = await make_world(tmp_path, local(2026, 12, 28, 7, 0), date(2027, 3, 30))
    try:
        assert world.app is not None
        await world.advance_to(local(2026, 12, 28, 10, 0))  # in service in December
        assert not any("评价" in t or "考评" in t for t in world.to("butler"))
        # Down over New Year until the quarter's first working day has passed.
        first_day = world.app.services.calendar.next_workday(date(2027, 1, 1))
        back = world.app.services.calendar.add_workdays(first_day, 1)
        await world.restart()
        for minute in (0, 15):
            world.clock.set(datetime.combine(back, datetime.min.time(), TZ).replace(hour=10,
                                                                                   minute=minute))
            await tick(world.app.services, world.clock.now())
            await world.app.worker.drain()
        asked = [t for t in world.to("butler") if "2027Q1" in t]
        assert len(asked) == 1
        assert asked[0].startswith("【补发】") and first_day.isoformat() in asked[0]
    finally:
        await world.close()
