"""Grouped problems (问题按项目归并) on the running ladder: one problem per project however
many items are late, who is named on its card, and the store's problem↔item links."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select

from storage.models import Account, ChecklistItem, OutboxMessage
from storage.uow import UnitOfWork
from tests.test_reminders_clock import local, make_world

DUE = date(2026, 9, 30)  # 1 working day overdue on 10-08 (the National Day week does not count)


async def add_items(world, count: int) -> list[int]:
    """``count`` more overdue items of the world's project, all the specialist's."""
    assert world.app is not None
    ids = []
    async with UnitOfWork(world.app.services.db) as uow:
        for n in range(count):
            item = ChecklistItem(
                project_id=world.ids["project"],
                code=f"extra_{n}",
                name_zh=f"附加事项{n}",
                name_en=f"Extra item {n}",
                stage="planning_permit",
                assignee_id=world.ids["spec"],
                limit_workdays=10,
                state="in_review",
                due_on=DUE,
            )
            uow.session.add(item)
            await uow.flush()
            ids.append(item.id)
    return ids


async def ladder_rows(world, person: str) -> list[OutboxMessage]:
    """The ladder's DMs to ``person`` (outbox keys ``ladder:…``)."""
    assert world.app is not None
    async with world.app.services.db.sessionmaker() as session:
        found = await session.execute(
            select(OutboxMessage).where(
                OutboxMessage.chat_external_id == person,
                OutboxMessage.dedupe_key.like("ladder:%"),
            )
        )
        return list(found.scalars())


async def test_sixteen_late_items_of_one_project_make_one_problem_and_few_messages(tmp_path):
    world = await make_world(tmp_path, local(2026, 10, 7, 18, 0), DUE)
    try:
        await add_items(world, 15)
        await world.advance_to(local(2026, 10, 30, 18, 0))  # three working weeks
        assert world.app is not None
        async with UnitOfWork(world.app.services.db) as uow:
            problems = await uow.problems.every()
            assert len(problems) == 1
            assert len(await uow.problems.items_of(problems[0].id)) == 16
            assert problems[0].level == 4
        ladder = world.app.services.scheme.escalation
        for who in ("office", "butler", "leader"):
            # The ladder sends them no DM of its own: its moves are news in their one
            # morning message, once per rung the problem stood on.
            assert await ladder_rows(world, who) == [], who
            news = [t for t in world.to(who) if "今日升至" in t or "今日在第" in t]
            assert 1 <= len(news) <= len(ladder), (who, news)
            assert all(t.count("问题 #") == 1 for t in news)
        group = [t for t in world.group() if t.startswith("问题 #")]
        assert len(group) == len(ladder), group
        assert all("16项事项逾期" in t for t in group)
    finally:
        await world.close()


async def test_a_specialist_never_reachable_is_named_and_the_climb_says_so(tmp_path):
    world = await make_world(tmp_path, local(2026, 10, 7, 18, 0), DUE)
    try:
        assert world.app is not None
        await unbind(world, "spec")
        await world.advance_to(local(2026, 10, 8, 18, 0))  # level 1
        first = [t for t in world.to("butler") if "今日在第1级提出" in t]
        assert len(first) == 1
        assert "服务专员 李专员（从未能联系上：未与我建立对话，未收到通知）" in first[0]
        assert "注意：" not in first[0], "at the first rung there is nothing to own up to yet"
        await world.advance_to(local(2026, 10, 9, 18, 0))  # silence: level 2
        climbed = [t for t in world.to("butler") if "今日升至第2级" in t]
        assert len(climbed) == 1
        assert "注意：以上有1项事项从未通知到服务专员" in climbed[0]
    finally:
        await world.close()


async def test_problem_item_links_join_split_and_find_the_open_problem(tmp_path):
    world = await make_world(tmp_path, local(2026, 10, 7, 18, 0), DUE)
    try:
        [second] = await add_items(world, 1)
        assert world.app is not None
        now = world.app.services.clock.now()
        first = world.ids["item"]
        async with UnitOfWork(world.app.services.db) as uow:
            problem = await uow.problems.open(
                project_id=world.ids["project"],
                item_id=first,
                level=1,
                reason="逾期事项",
                auto=True,
                opened_by_id=None,
                now=now,
            )
            await uow.problems.add_item(problem, second, now)
            await uow.problems.add_item(problem, second, now, "企业材料未齐")  # no duplicate
            links = await uow.problems.items_of(problem.id)
            assert [(link.item_id, link.reason) for link in links] == [
                (first, None),
                (second, "企业材料未齐"),
            ]
            assert (await uow.problems.unresolved_for_item(second)) is problem
            assert set(await uow.problems.unresolved_by_item()) == {first, second}
            await uow.problems.remove_item(problem, first)
            assert problem.item_id == second, "the first item listed stands for the problem"
            assert await uow.problems.unresolved_for_item(first) is None
            await uow.problems.resolve(problem, world.ids["butler"], "纪要", now)
            assert await uow.problems.unresolved_by_item() == {}
    finally:
        await world.close()


async def unbind(world, who: str) -> None:
    """``who`` never reached: no chat with the bot."""
    assert world.app is not None
    async with UnitOfWork(world.app.services.db) as uow:
        await uow.session.execute(delete(Account).where(Account.person_id == world.ids[who]))


async def test_a_rung_naming_specialists_tells_the_backup_when_the_specialist_is_unreachable(
    tmp_path,
):
    # Guangzhou's first rung tells the butler and the item's own specialist.
    world = await make_world(tmp_path, local(2026, 10, 7, 18, 0), DUE, scheme="guangzhou")
    try:
        await unbind(world, "spec")
        await world.advance_to(local(2026, 10, 8, 18, 0))
        card = [t for t in world.to("backup") if "问题 #" in t and not t.startswith("转给您")]
        assert len(card) == 1 and "今日在第1级提出" in card[0]
        assert "具体经办人 李专员（从未能联系上" in card[0]
        assert [t for t in world.to("butler") if "问题 #" in t]
        assert not [t for t in world.to("office") if "问题 #" in t], "not on rung 1"
    finally:
        await world.close()


async def test_a_reachable_specialist_one_day_late_hears_alone_without_their_backup(tmp_path):
    world = await make_world(tmp_path, local(2026, 10, 7, 18, 0), DUE, scheme="guangzhou")
    try:
        await world.advance_to(local(2026, 10, 8, 18, 0))
        assert [t for t in world.to("spec") if "今日在第1级提出" in t]
        assert not [t for t in world.to("backup") if "问题 #" in t]
    finally:
        await world.close()
