"""Repositories: inbound dedupe, people and accounts, chats, conversations, departments,
the append-only work log and job-run claims."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, update

from storage.db import Database
from storage.models import AppendOnlyError, Event
from storage.uow import UnitOfWork

pytestmark = pytest.mark.asyncio


async def test_inbound_second_record_of_same_event_returns_false(
    db: Database, now: datetime
) -> None:
    async with UnitOfWork(db) as uow:
        assert await uow.inbound.record("telegram", "1001", now) is True
        assert await uow.inbound.record("telegram", "1001", now) is False
        assert await uow.inbound.record("wecom", "1001", now) is True
    async with UnitOfWork(db) as uow:
        assert await uow.inbound.record("telegram", "1001", now) is False


async def test_person_with_telegram_and_wecom_accounts_resolves_to_one_person(
    db: Database, now: datetime
) -> None:
    async with UnitOfWork(db) as uow:
        person = await uow.people.add("赵六", mobile="13800138000", now=now)
        await uow.people.add_account(person.id, "telegram", "tg-1", "Zhao", now)
        await uow.people.add_account(person.id, "wecom", "zhaoliu", "赵六", now + timedelta(1))
    async with UnitOfWork(db) as uow:
        via_tg = await uow.people.by_account("telegram", "tg-1")
        via_wecom = await uow.people.by_account("wecom", "zhaoliu")
        assert via_tg is not None and via_wecom is not None
        assert via_tg.id == via_wecom.id == person.id
        assert await uow.people.by_account("telegram", "zhaoliu") is None
        tg = await uow.people.dm_account(person.id, prefer_platform="telegram")
        assert tg is not None and tg.external_id == "tg-1"
        newest = await uow.people.dm_account(person.id, prefer_platform="emulator")
        assert newest is not None and newest.platform == "wecom"
        assert (await uow.people.dm_account(person.id, None)) == newest
        assert len(await uow.people.accounts_of(person.id)) == 2
        await uow.people.set_lang(person.id, "en")
    async with UnitOfWork(db) as uow:
        reloaded = await uow.people.get(person.id)
        assert reloaded is not None and reloaded.lang == "en"
        assert reloaded.created_at == now


async def test_roles_with_departments(db: Database, now: datetime) -> None:
    async with UnitOfWork(db) as uow:
        await uow.departments.ensure("planning", "规划自然资源局", "Planning Bureau")
        butler = await uow.people.add("管家", roles=[("butler", None)], now=now)
        specialist = await uow.people.add(
            "专员", roles=[("specialist", "planning"), ("office", None)], now=now
        )
        backup = await uow.people.add("候补", now=now)
        await uow.people.add_role(backup.id, "backup", "planning", backup_of_id=specialist.id)
        again = await uow.people.add_role(specialist.id, "specialist", "planning")
        with pytest.raises(ValueError, match="unknown department"):
            await uow.people.add_role(butler.id, "specialist", "nowhere")
    async with UnitOfWork(db) as uow:
        roles = await uow.people.roles_of(specialist.id)
        assert [(r.role, r.department.code if r.department else None) for r in roles] == [
            ("specialist", "planning"),
            ("office", None),
        ]
        assert again.id == roles[0].id
        assert await uow.people.has_role(specialist.id, "office")
        assert not await uow.people.has_role(butler.id, "office")
        assert [p.id for p in await uow.people.with_role("butler")] == [butler.id]
        backup_roles = await uow.people.roles_of(backup.id)
        assert backup_roles[0].backup_of_id == specialist.id
        butler_row = await uow.people.get(butler.id)
        assert butler_row is not None
        butler_row.active = False
    async with UnitOfWork(db) as uow:
        assert await uow.people.with_role("butler") == []
        assert len(await uow.people.with_role("butler", active_only=False)) == 1


async def test_department_ensure_is_idempotent_and_renames(db: Database) -> None:
    async with UnitOfWork(db) as uow:
        first = await uow.departments.ensure("water", "水务局", "Water Authority")
        second = await uow.departments.ensure("water", "水务局", "Water Authority")
        assert first.id == second.id
    async with UnitOfWork(db) as uow:
        renamed = await uow.departments.ensure("water", "水利局", "Water Resources Bureau")
        assert renamed.id == first.id and renamed.name_zh == "水利局"
    async with UnitOfWork(db) as uow:
        found = await uow.departments.by_code("water")
        assert found is not None and found.name_en == "Water Resources Bureau"
        assert await uow.departments.by_code("nope") is None


async def test_department_names_by_language_follow_a_rename(db: Database) -> None:
    async with UnitOfWork(db) as uow:
        water = await uow.departments.ensure("water", "水务局", "Water Authority")
        assert await uow.departments.name(water.id, "zh_CN") == "水务局"
        assert await uow.departments.name(water.id, "en") == "Water Authority"
        assert await uow.departments.name(water.id + 999, "en") is None
        await uow.departments.ensure("water", "水利局", "Water Resources Bureau")
        assert await uow.departments.name(water.id, "zh_CN") == "水利局"
        land = await uow.departments.ensure("land", "自然资源局", "Natural Resources Bureau")
        assert await uow.departments.name(land.id, "en") == "Natural Resources Bureau"


async def test_chat_get_or_create(db: Database, now: datetime) -> None:
    async with UnitOfWork(db) as uow:
        chat = await uow.chats.get_or_create("wecom", "g1", "group", "项目群", now)
        same = await uow.chats.get_or_create("wecom", "g1", "group", "项目群（新）", now)
        assert same.id == chat.id and same.title == "项目群（新）"
        assert await uow.chats.get("wecom", "nope") is None
    async with UnitOfWork(db) as uow:
        stored = await uow.chats.get("wecom", "g1")
        assert stored is not None and stored.kind == "group" and stored.created_at == now


async def test_conversation_upsert_load_and_clear(db: Database, make_person, now: datetime) -> None:
    person = await make_person()
    async with UnitOfWork(db) as uow:
        assert await uow.conversations.load("emu", "dm1", person.id) is None
        await uow.conversations.save(
            "emu", "dm1", person.id, form="apply", step="name", data={}, now=now
        )
        loaded = await uow.conversations.load("emu", "dm1", person.id)
        assert loaded is not None and loaded.step == "name"
        later = now + timedelta(days=7)
        await uow.conversations.save(
            "emu",
            "dm1",
            person.id,
            form="apply",
            step="investment",
            data={"name": "新厂房"},
            now=later,
        )
        # The copy loaded earlier in this unit of work sees the saved state.
        assert loaded.step == "investment" and loaded.data == {"name": "新厂房"}
    async with UnitOfWork(db) as uow:  # a week later, after a restart
        resumed = await uow.conversations.load("emu", "dm1", person.id)
        assert resumed is not None
        assert (resumed.form, resumed.step, resumed.data) == (
            "apply",
            "investment",
            {"name": "新厂房"},
        )
        assert resumed.updated_at == now + timedelta(days=7)
        assert await uow.conversations.load("emu", "group9", person.id) is None
        await uow.conversations.clear("emu", "dm1", person.id)
        assert await uow.conversations.load("emu", "dm1", person.id) is None
        await uow.conversations.clear("emu", "dm1", person.id)  # clearing twice is fine
    async with UnitOfWork(db) as uow:
        assert await uow.conversations.load("emu", "dm1", person.id) is None


async def test_event_log_reads_newest_last(db: Database, now: datetime) -> None:
    async with UnitOfWork(db) as uow:
        for i in range(5):
            await uow.events.append(
                "item.updated", at=now + timedelta(minutes=i), project_id=7, data={"i": i}
            )
        await uow.events.append("other", at=now, project_id=8)
    async with UnitOfWork(db) as uow:
        latest = await uow.events.for_project(7, limit=3)
        assert [e.data["i"] for e in latest] == [2, 3, 4]
        assert [e.kind for e in await uow.events.recent(2)] == ["item.updated", "other"]
        assert latest[0].at == now + timedelta(minutes=2)


async def test_event_log_refuses_update_and_delete(db: Database, now: datetime) -> None:
    async with UnitOfWork(db) as uow:
        event = await uow.events.append("project.accepted", at=now, project_id=1)
    with pytest.raises(AppendOnlyError):
        async with UnitOfWork(db) as uow:
            stored = await uow.session.get(Event, event.id)
            assert stored is not None
            stored.kind = "tampered"
            await uow.flush()
    with pytest.raises(AppendOnlyError):
        async with UnitOfWork(db) as uow:
            stored = await uow.session.get(Event, event.id)
            await uow.session.delete(stored)
            await uow.flush()
    with pytest.raises(AppendOnlyError):
        async with UnitOfWork(db) as uow:
            await uow.session.execute(update(Event).values(kind="tampered"))
    with pytest.raises(AppendOnlyError):
        async with UnitOfWork(db) as uow:
            await uow.session.execute(delete(Event))
    async with UnitOfWork(db) as uow:
        [stored] = await uow.events.recent(10)
        assert stored.kind == "project.accepted"


async def test_job_run_claimed_only_once(db: Database, now: datetime) -> None:
    async with UnitOfWork(db) as uow:
        assert await uow.jobs.claim("daily_digest", "2026-03-02", now) is True
        assert await uow.jobs.claim("daily_digest", "2026-03-02", now) is False
        assert await uow.jobs.claim("daily_digest", "2026-03-03", now) is True
    async with UnitOfWork(db) as uow:
        assert await uow.jobs.claim("daily_digest", "2026-03-02", now) is False


async def test_enterprise_found_by_credit_code_and_never_renamed(
    db: Database, now: datetime
) -> None:
    """A credit code is public: whoever types it later must not rename the company."""
    uscc = "91110000600037341L"
    async with UnitOfWork(db) as uow:
        first = await uow.enterprises.get_or_create(name="甲建设公司", uscc=uscc, now=now)
        same = await uow.enterprises.get_or_create(name="甲建设集团", uscc=uscc, now=now)
        assert same.id == first.id and same.name == "甲建设公司"
        no_code = await uow.enterprises.get_or_create(name="乙公司", uscc=None, now=now)
        again = await uow.enterprises.get_or_create(name="乙公司", uscc=None, now=now)
        assert again.id == no_code.id != first.id
    async with UnitOfWork(db) as uow:
        found = await uow.enterprises.by_uscc(uscc)
        assert found is not None and found.name == "甲建设公司"


async def test_unfinished_forms_untouched_since(db: Database, make_person, now: datetime) -> None:
    person = await make_person()
    async with UnitOfWork(db) as uow:
        for chat, form, days_ago in [("a", "apply", 3), ("b", None, 5), ("c", "rate", 0)]:
            await uow.conversations.save(
                "emu",
                chat,
                person.id,
                form=form,
                step=None,
                data={},
                now=now - timedelta(days=days_ago),
            )
    async with UnitOfWork(db) as uow:
        stalled = await uow.conversations.untouched_since(now - timedelta(days=1))
        assert [c.chat_external_id for c in stalled] == ["a"]


async def test_ladders_come_from_the_snapshot_and_follow_its_changes(
    db: Database, now: datetime
) -> None:
    own = [{"level": 1, "label": "butler"}, {"level": 2, "label": "director"}]
    async with UnitOfWork(db) as uow:
        common = [
            await uow.projects.add(
                code=f"P-{n}", name=f"project {n}", category="industrial", stage="approval",
                status="active", snapshot={"escalation": [{"level": 1}], "checklist": []},
                created_at=now,
            )
            for n in range(3)
        ]
        special = await uow.projects.add(
            code="P-own", name="own ladder", category="industrial", stage="approval",
            status="active", snapshot={"escalation": own}, created_at=now,
        )
        bare = await uow.projects.add(
            code="P-bare", name="no ladder", category="industrial", stage="approval",
            status="active", snapshot={}, created_at=now,
        )
        ids = [p.id for p in (*common, special, bare)]
    async with UnitOfWork(db) as uow:
        ladders = await uow.due.ladders(ids)
        assert ladders[special.id] == own
        assert ladders[bare.id] == []
        assert all(ladders[p.id] == [{"level": 1}] for p in common)
        assert len({id(ladders[p.id]) for p in common}) == 1  # equal ladders: one object
        # The generated column follows a rewritten snapshot (the plan, the completion…).
        project = await uow.projects.get(special.id)
        assert project is not None
        project.snapshot = {**project.snapshot, "escalation": own[:1], "plan": {"rows": []}}
    async with UnitOfWork(db) as uow:
        assert (await uow.due.ladders([special.id]))[special.id] == own[:1]


async def test_lookups_by_id_take_more_ids_than_a_statement_has_parameters(
    db: Database, now: datetime
) -> None:
    async with UnitOfWork(db) as uow:
        person = await uow.people.add("钱七", now=now)
    wanted = [person.id, *range(10**6, 10**6 + 40_000)]  # > 32,767: both drivers' cap
    async with UnitOfWork(db) as uow:
        assert await uow.due.person_names(wanted) == {person.id: "钱七"}
        assert await uow.due.person_names([]) == {}
