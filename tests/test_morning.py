"""The morning message (晨间待办): who hears which nudge, quiet settings, and a round
re-run the same day sending nothing twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.mute import quiet_until
from reminders.morning import send_nudges
from reminders.nudges import BEFORE, OVERDUE, Nudge, plan_morning
from reminders.round_slices import RoundSlices
from storage.repos.due import DueItem
from storage.uow import UnitOfWork
from tests.test_reminders_clock import local, make_world

TZ = ZoneInfo("Asia/Shanghai")


def item(item_id: int, project: int, assignee: int | None) -> DueItem:
    return DueItem(item_id, project, f"c{item_id}", "事项", "Item", 7, assignee, date(2026, 12, 1))


def test_a_nudge_reaches_only_its_own_specialist_and_the_backup_when_the_rule_applies():
    nudges = [
        Nudge(item(1, 10, 101), BEFORE, 2, False),
        Nudge(item(2, 10, 102), OVERDUE, 1, False),
        Nudge(item(3, 10, 102), OVERDUE, 2, True),
    ]
    plan = plan_morning(
        nudges,
        specialists={1: 101, 2: 102, 3: 102},
        backups={(10, 102): [202], (10, 101): [201]},
        butlers={10: 900},
        office=[800],
    )
    assert [n.item.item_id for n in plan.inboxes[101].mine] == [1]
    assert [n.item.item_id for n in plan.inboxes[102].mine] == [2, 3]
    assert [n.item.item_id for n in plan.inboxes[202].mine] == [3]  # backup rule: item 3 only
    assert 201 not in plan.inboxes  # item 1 is not overdue: 101's backup hears nothing
    assert [n.item.item_id for n in plan.inboxes[900].mine] == [2, 3]  # overdue only
    assert 800 not in plan.inboxes  # nothing needs the office
    assert plan.mentioned[3] == [102, 202]
    assert len(plan.projects[10]) == 3  # one group message carries all three


def test_an_item_without_specialist_is_named_to_butler_and_office_never_to_others():
    nudges = [Nudge(item(5, 11, None), OVERDUE, 3, True), Nudge(item(6, 11, 103), OVERDUE, 3, True)]
    plan = plan_morning(
        nudges,
        specialists={5: None, 6: 103},
        backups={(11, 103): []},
        butlers={11: 900},
        office=[800, 801],
    )
    assert [n.item.item_id for n in plan.inboxes[900].unassigned] == [5]
    assert [n.item.item_id for n in plan.inboxes[800].unassigned] == [5]
    assert [n.item.item_id for n in plan.inboxes[801].unassigned] == [5]
    assert [n.item.item_id for n in plan.inboxes[103].mine] == [6]  # not item 5
    assert plan.unassigned == {5}
    assert plan.mentioned[5] == [900]


def test_mute_arguments_are_bounded_and_validated():
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    today = date(2026, 12, 1)
    assert quiet_until("2h", now, today, TZ) == now + timedelta(hours=2)
    assert quiet_until("3天", now, today, TZ) == now + timedelta(days=3)
    assert quiet_until("until 2026-12-10", now, today, TZ) == datetime(2026, 12, 10, tzinfo=TZ)
    for bad in ("0h", "721h", "31d", "until 2026-12-01", "until 2027-01-01", "until 12/10", "soon"):
        assert isinstance(quiet_until(bad, now, today, TZ), str), bad


async def test_a_round_rerun_the_same_day_sends_nothing_twice(tmp_path):
    world = await make_world(tmp_path, local(2026, 10, 12, 8, 0), date(2026, 10, 8))
    try:
        services = world.app.services  # type: ignore[union-attr]
        at = local(2026, 10, 12, 10, 0)
        today = at.date()
        counts = []
        for _ in range(2):  # a second holder, as after a crash: the lease is let go
            async with UnitOfWork(services.db) as uow:
                items = await uow.due.running_due_by(today)
            slices = RoundSlices(services.db, today.isoformat())
            assert await slices.take()
            counts.append(await send_nudges(services, slices, at, today, items))
            await slices.let_go()
        async with UnitOfWork(services.db) as uow:
            logged = await uow.due.nudge_counts([world.ids["item"]])
        assert counts[0] == 4  # specialist, backup, butler (overdue), the group
        assert counts[1] == 0
        assert logged == {world.ids["item"]: 1}
    finally:
        await world.close()
