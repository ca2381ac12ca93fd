"""The emulator over its real web surface: WebSocket in, live entries out, clock, inspector,
story export, reset — through aiohttp's test client on a temporary SQLite store."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import build_app
from bot.config import Settings
from bot.emulator import attach_emulator
from bot.emulator.guard import TOKEN_HEADER
from bot.emulator.routes import TOKEN_KEY
from bot.stories import run_story_file
from bot.web import build_web_app
from domain.clock import FakeClock, OffsetClock
from storage.migrate import upgrade
from storage.models import Chat
from storage.uow import UnitOfWork

FRIDAY_4PM = datetime.fromisoformat("2026-11-27T16:00:00+08:00")


class Emulator:
    """A running emulator on a fresh store, with one page (WebSocket) open."""

    def __init__(self, client: TestClient, ws: Any, app: Any, data_dir: Path) -> None:
        self.client = client
        self.ws = ws
        self.app = app
        self.data_dir = data_dir
        self.seen: list[dict[str, Any]] = []

    async def say(self, text: str, persona: str = "enterprise", chat: str | None = None) -> None:
        await self.ws.send_json(
            {"type": "say", "persona": persona, "chat": chat or persona, "text": text}
        )

    async def press(self, label: str, persona: str = "enterprise") -> None:
        button = self.last_button(label, persona)
        await self.ws.send_json({"type": "press", "persona": persona, "chat": persona, **button})

    def last_button(self, label: str, chat: str) -> dict[str, str]:
        for entry in reversed(self.entries(chat)):
            for row in entry["buttons"]:
                for b in row:
                    if b["label"] == label:
                        return {"label": b["label"], "payload": b["payload"]}
        raise AssertionError(f"no button {label!r} in {chat}")

    def entries(self, chat: str) -> list[dict[str, Any]]:
        return [
            m["entry"] for m in self.seen if m["type"] == "entry" and m["entry"]["chat"] == chat
        ]

    async def wait_for(self, predicate, what: str, since: int = 0) -> dict[str, Any]:
        """The first pushed message (seen before, from index `since`, or arriving now) that
        matches."""
        for message in self.seen[since:]:
            if predicate(message):
                return message
        try:
            async with asyncio.timeout(20):
                while True:
                    message = await self.ws.receive_json()
                    self.seen.append(message)
                    if predicate(message):
                        return message
        except TimeoutError:
            raise AssertionError(f"never pushed: {what}; got {self.seen[-5:]}") from None

    async def bot_says(
        self, pattern: str, chat: str = "enterprise", since: int = 0
    ) -> dict[str, Any]:
        import re

        message = await self.wait_for(
            lambda m: (
                m["type"] == "entry"
                and m["entry"]["chat"] == chat
                and m["entry"]["sender"] == "bot"
                and re.search(pattern, m["entry"]["text"], re.DOTALL)
            ),
            f"bot message /{pattern}/ in {chat}",
            since,
        )
        return message["entry"]

    async def json(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        response = await self.client.request(method, path, **kwargs)
        return response.status, await response.json()


@pytest.fixture
async def emulator(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'emu.sqlite3'}"
    await upgrade(url)
    # Quarter-hour ticks, as stories use: a simulated day passes in a fraction of a second.
    settings = Settings(database_url=url, tick_seconds=900)
    app = await build_app(settings, clock=FakeClock(FRIDAY_4PM))
    web_app = build_web_app(app)
    stop = await attach_emulator(app, settings, web_app, data_dir=tmp_path / "var")
    token = web_app[TOKEN_KEY]  # what the page receives in its HTML
    async with TestClient(TestServer(web_app), headers={TOKEN_HEADER: token}) as client:
        ws = await client.ws_connect(f"/emulator/ws?token={token}")
        emu = Emulator(client, ws, app, tmp_path / "var")
        await emu.wait_for(lambda m: m["type"] == "clock", "the clock on connect")
        yield emu
        await ws.close()
    await stop()
    await app.close()


async def test_the_demo_cast_is_created_once_with_three_departments(emulator, tmp_path):
    status, personas = await emulator.json("GET", "/emulator/api/personas")
    assert status == 200
    roles = [p["role"] for p in personas]
    assert roles.count("specialist") == 3
    assert {"enterprise", "butler", "office", "leader"} <= set(roles)
    specialists = [p for p in personas if p["role"] == "specialist"]
    assert len({p["department"] for p in specialists}) == 3
    assert all(p["department_label"] for p in specialists)
    assert all(p["lang"] == "zh_CN" for p in personas)

    # Attaching again to the same store adds nobody.
    again = await build_app(Settings(database_url=emulator.app.settings.database_url))
    from aiohttp import web

    await attach_emulator(again, again.settings, web.Application(), data_dir=tmp_path / "v2")
    async with UnitOfWork(again.services.db) as uow:
        for role in set(roles):
            people = await uow.people.with_role(role)
            assert len(people) == roles.count(role)
        groups = await uow.session.execute(
            select(Chat.external_id, Chat.title).where(
                Chat.platform == "emulator", Chat.kind == "group"
            )
        )
        assert groups.all() == [("group-1", "项目群（演示）")]  # the demo group, once
    await again.close()


async def test_typing_and_pressing_buttons_arrive_live_and_switch_the_language(emulator):
    await emulator.say("/start")
    welcome = await emulator.bot_says("全程代办")
    rows = [[b["label"] for b in row] for row in welcome["buttons"]]
    assert ["中文", "English"] in rows
    await emulator.press("English")
    await emulator.bot_says("Language set to English")
    changed = await emulator.wait_for(lambda m: m["type"] == "persona", "a language change")
    assert changed["key"] == "enterprise" and changed["lang"] == "en"
    status, ui = await emulator.json("GET", "/emulator/api/ui?lang=en")
    assert status == 200 and ui["plus_workday"] == "+1 working day"
    mine = [e for e in emulator.entries("enterprise") if e["sender"] == "enterprise"]
    assert [e["kind"] for e in mine] == ["say", "press"]


async def test_the_inspector_shows_event_outbox_row_and_conversation(emulator):
    await emulator.say("/profile")
    prompt = await emulator.bot_says("您的姓名")
    status, seen = await emulator.json("GET", f"/emulator/api/inspect?seq={prompt['seq']}")
    assert status == 200
    row = seen["outbox"][0]
    assert row["status"] == "sent" and row["attempts"] == 1 and row["sent_at"]
    assert row["dedupe_key"] == f"in:emulator:{seen['event_id']}:1"
    assert seen["event"]["command"] == "profile" and seen["event"]["chat_kind"] == "dm"

    asked = next(e for e in emulator.entries("enterprise") if e["sender"] == "enterprise")
    status, caused = await emulator.json("GET", f"/emulator/api/inspect?seq={asked['seq']}")
    assert [r["id"] for r in caused["outbox"]] == [row["id"]]

    status, state = await emulator.json(
        "GET", "/emulator/api/conversation?persona=enterprise&chat=enterprise"
    )
    assert state["conversation"]["form"] == "profile" and state["conversation"]["step"] == "name"

    status, _ = await emulator.json(
        "POST", "/emulator/api/restart", json={"persona": "enterprise", "chat": "enterprise"}
    )
    assert status == 200
    status, state = await emulator.json(
        "GET", "/emulator/api/conversation?persona=enterprise&chat=enterprise"
    )
    assert state["conversation"] is None


async def test_a_working_day_forward_runs_the_reminder_and_it_arrives_live(emulator):
    await emulator.say("/profile")
    await emulator.say("张伟")
    await emulator.bot_says("手机号")
    status, clock = await emulator.json("POST", "/emulator/api/clock", json={"action": "hour"})
    assert status == 200 and clock["local"] == "2026-11-27 17:00"
    status, clock = await emulator.json("POST", "/emulator/api/clock", json={"action": "workday"})
    # Friday 17:00 + 1 working day = Monday 17:00; the reminder went out Monday morning.
    assert clock["local"] == "2026-11-30 17:00" and clock["workday"] is True
    reminder = await emulator.bot_says("未完成")
    assert reminder["at"].startswith("2026-11-30T01:")  # 09:xx in Shanghai
    _, seen = await emulator.json("GET", f"/emulator/api/inspect?seq={reminder['seq']}")
    assert seen["event"] is None and seen["outbox"][0]["dedupe_key"].startswith("form-reminder:")
    status, error = await emulator.json(
        "POST", "/emulator/api/clock", json={"action": "to", "to": "2026-11-01T09:00"}
    )
    assert status == 400 and "only moves forward" in error["error"]


async def test_the_clock_never_goes_back_across_a_restart(emulator):
    await emulator.json("POST", "/emulator/api/clock", json={"action": "to", "to": "2026-12-02"})
    app = await build_app(emulator.app.settings, clock=FakeClock(FRIDAY_4PM))
    from aiohttp import web

    await attach_emulator(app, app.settings, web.Application(), data_dir=emulator.data_dir)
    assert isinstance(app.services.clock, OffsetClock)
    assert app.services.clock.now() >= datetime.fromisoformat("2026-12-02T09:00:00+08:00")
    assert app.worker.clock is app.services.clock
    await app.close()


async def test_an_exported_chat_replays_green_with_simulate(emulator, tmp_path):
    await emulator.say("/start")
    await emulator.bot_says("全程代办")
    await emulator.say("/profile")
    await emulator.say("张伟")
    await emulator.say("1381234567")  # ten digits: refused
    await emulator.bot_says("11 位")
    await emulator.say("13812345678")
    await emulator.bot_says("企业全称")
    await emulator.json("POST", "/emulator/api/clock", json={"action": "workday"})
    await emulator.bot_says("未完成")
    response = await emulator.client.get("/emulator/api/export?chat=enterprise")
    assert response.status == 200
    text = await response.text()
    assert '{as: enterprise, say: "/profile"}' in text and "{at: " in text
    story = tmp_path / "exported.yaml"
    story.write_text(text, encoding="utf-8")
    result = await run_story_file(story)
    assert result.ok, "\n".join(str(f) for f in result.failures)
    expects = text.count("expect:")
    assert expects == 6  # every bot reply, the reminder included


async def test_an_export_of_an_empty_chat_is_refused_with_a_reason(emulator):
    status, error = await emulator.json("GET", "/emulator/api/export?chat=office")
    assert status == 400 and "nothing to export" in error["error"]


async def test_a_file_sent_from_the_page_is_stored_and_reaches_the_bot(emulator):
    form = FormData()
    form.add_field("persona", "enterprise")
    form.add_field("chat", "enterprise")
    form.add_field("file", b"%PDF-1.4 plan", filename="规划图.pdf", content_type="application/pdf")
    response = await emulator.client.post("/emulator/api/upload", data=form)
    assert response.status == 200
    entry = await response.json()
    assert entry["kind"] == "file" and entry["attachment"]["filename"] == "规划图.pdf"
    stored = emulator.data_dir / entry["attachment"]["ref"]
    assert stored.read_bytes() == b"%PDF-1.4 plan"
    download = await emulator.client.get(f"/emulator/{entry['attachment']['ref']}")
    assert await download.read() == b"%PDF-1.4 plan"
    assert (await emulator.client.get("/emulator/uploads/..%2Femu.sqlite3")).status == 404
    await emulator.bot_says(".")  # the core answered (no flow takes files yet: a hint)


async def test_a_file_the_bot_sends_is_offered_as_a_download(emulator):
    """`/ledger` in the office's chat: the spreadsheet arrives as a link the page downloads."""
    await emulator.say("/ledger", persona="office", chat="office")
    entry = await emulator.bot_says("台账", chat="office")
    attachment = entry["attachment"]
    assert attachment["filename"].startswith("台账") and attachment["filename"].endswith(".xlsx")
    assert attachment["ref"].startswith("uploads/")  # the page links uploads/… for download
    download = await emulator.client.get(f"/emulator/{attachment['ref']}")
    assert download.status == 200 and "attachment" in download.headers["Content-Disposition"]
    data = await download.read()
    assert data[:2] == b"PK" and len(data) == attachment["size"]


async def test_reset_demo_forgets_only_emulator_rows(emulator):
    app = emulator.app
    now = app.services.clock.now()
    async with UnitOfWork(app.services.db) as uow:
        await uow.outbox.enqueue(
            platform="telegram",
            chat_external_id="42",
            payload={"text": "x"},
            dedupe_key="tg-1",
            now=now + timedelta(days=365),
        )
        stranger = await uow.people.add("Telegram 用户", now=now)
        await uow.conversations.save(
            "telegram", "42", stranger.id, form="profile", step="name", data={}, now=now
        )
    await emulator.say("/lang en")
    await emulator.bot_says("English")
    await emulator.say("/profile")
    await emulator.bot_says("name")
    # A claim of the demo's enterprise contact is forgotten with the rest.
    async with UnitOfWork(app.services.db) as uow:
        contact = await uow.people.by_account("emulator", "enterprise")
        assert contact is not None
        company = await uow.enterprises.get_or_create(name="甲公司", uscc=None, now=now)
        await uow.enterprises.claim(company.id, contact.id, "甲公司", now)
        await uow.commit()
    status, body = await emulator.json("POST", "/emulator/api/reset", json={})
    assert status == 200 and body["removed"]["outbox"] >= 2
    assert body["removed"]["enterprise_claims"] == 1
    await emulator.wait_for(lambda m: m["type"] == "reset", "the reset notice")
    async with UnitOfWork(app.services.db) as uow:
        assert await uow.conversations.load("telegram", "42", stranger.id) is not None
        assert [r.dedupe_key for r in await uow.outbox.recent_for_chat("telegram", "42")] == [
            "tg-1"
        ]
        assert await uow.outbox.recent_for_chat("emulator", "enterprise") == []
        person = await uow.people.by_account("emulator", "enterprise")
        assert person is not None and person.lang == "zh_CN"
    _, history = await emulator.json("GET", "/emulator/api/history?chat=enterprise")
    assert history == []


async def test_unknown_persona_and_bad_requests_get_a_reason(emulator):
    await emulator.say("hi", persona="nobody")
    error = await emulator.wait_for(lambda m: m["type"] == "error", "an error")
    assert "nobody" in error["message"]
    status, body = await emulator.json("GET", "/emulator/api/inspect?seq=x")
    assert status == 400 and "number" in body["error"]
    status, body = await emulator.json("GET", "/emulator/api/chats")
    assert status == 400 and "persona" in body["error"]


async def test_the_page_and_its_assets_are_served_without_any_cdn(emulator):
    page = await (await emulator.client.get("/")).text()
    assert 'src="/emulator/static/app.js"' in page
    for asset in ("app.js", "style.css"):
        response = await emulator.client.get(f"/emulator/static/{asset}")
        assert response.status == 200
        assert "http://" not in (await response.text()) and "https://" not in page


async def _accepted_project(emulator) -> str:
    """The enterprise applies (in English) and the office accepts; the project code."""
    steps = [
        ("/lang en", "English"),
        ("/apply", "full name of your enterprise"),
        ("Acme Build Co", "unified social credit code"),
        ("91350100M000100Y43", "contact person's name"),
        ("Zhang Wei", "mobile number"),
        ("13800138000", "name of the project"),
        ("Canal Tower", "total investment"),
        ("12亿", "Which category"),
    ]
    for text, reply in steps:
        mark = len(emulator.seen)
        await emulator.say(text)
        await emulator.bot_says(reply, since=mark)
    for label, reply in [
        ("Social-investment building", "Where is the project"),
        (None, "Which stage"),
        ("Project approval", "Which services"),
        ("Agency", "Which services"),
        ("Done", "planned construction start date"),
        (None, "documents for your project's current and next stage"),
        ("Done", "please check before submitting"),
        ("✔ Submit", "application number is"),
    ]:
        mark = len(emulator.seen)  # a multi-select asks the same question again
        if label is None:
            typed = "Canal Business District" if "Which stage" in reply else "2027-03-01"
            await emulator.say(typed)
        else:
            await emulator.press(label)
        await emulator.bot_says(reply, since=mark)
    card = await emulator.bot_says("新申请", chat="office")
    button = next(b for row in card["buttons"] for b in row if b["label"] == "✔ 受理")
    await emulator.ws.send_json({"type": "press", "persona": "office", "chat": "office", **button})
    accepted = await emulator.bot_says(r"已受理.*P\d{4}-\d{4}", chat="office")
    import re

    found = re.search(r"P\d{4}-\d{4}", accepted["text"])
    assert found is not None
    return found.group(0)


async def _press_in(emulator, persona: str, chat: str, label: str) -> None:
    button = emulator.last_button(label, chat)
    await emulator.ws.send_json({"type": "press", "persona": persona, "chat": chat, **button})


async def test_the_team_binds_the_demo_group_and_the_nudge_arrives_there(emulator, tmp_path):
    """Assign, bind the demo group with the butler's code, move the clock past a due date:
    the nudge lands in the group @mentioning the specialist; the session replays green."""
    import re

    _, chats = await emulator.json("GET", "/emulator/api/chats?persona=office")
    assert [(c["id"], c["title"], c["project"]) for c in chats if c["kind"] == "group"] == [
        ("group-1", "项目群（演示）", None)
    ]
    code = await _accepted_project(emulator)
    await emulator.say("/assign", persona="office")
    await emulator.bot_says("为哪个项目组建代办组", chat="office")
    await _press_in(emulator, "office", "office", f"{code} Canal Tower")
    choose = await emulator.bot_says("请选择项目管家", chat="office")
    butler = next(b["label"] for row in choose["buttons"] for b in row if "李娜" in b["label"])
    await _press_in(emulator, "office", "office", butler)
    team = await emulator.bot_says(rf"项目 {code} 代办组", chat="office")
    for name in ("王强", "刘洋", "孙丽"):  # the three demo specialists are on the team
        assert name in team["text"]
    await emulator.say(f"/bind {code}", persona="butler")
    issued = await emulator.bot_says("群绑定码", chat="butler")
    group_code = re.search(r"[A-Z2-9]{8}", issued["text"].split("：", 1)[1]).group(0)
    await emulator.say(f"/bind {group_code}", persona="butler", chat="group-1")
    welcome = await emulator.bot_says("欢迎加入项目", chat="group-1")
    assert {"王强", "李娜"} <= {m["display_name"] for m in welcome["mentions"]}
    await emulator.bot_says("一项目一册", chat="group-1")
    await emulator.wait_for(lambda m: m["type"] == "chats", "the chat lists to reload")
    _, chats = await emulator.json("GET", "/emulator/api/chats?persona=specialist-1")
    assert {"id": "group-1", "kind": "group", "title": "项目群（演示）", "project": code} in chats
    _, chats = await emulator.json("GET", "/emulator/api/chats?persona=leader")
    assert [c for c in chats if c["kind"] == "group"] == []  # not on the team

    # The first item (即办件) is due the day the group is bound, Friday; Monday it is late.
    status, clock = await emulator.json("POST", "/emulator/api/clock", json={"action": "workday"})
    assert status == 200 and clock["local"].startswith("2026-11-30")
    group_nudge = r"^@王强 .*今日催办：\n· 企业投资项目备案 — 已逾期"  # one message a day
    nudge = await emulator.bot_says(group_nudge, chat="group-1")
    assert nudge["at"].startswith("2026-11-30T01:30")  # the round at 09:30 Shanghai
    assert [m["external_id"] for m in nudge["mentions"]] == ["specialist-1"]
    await emulator.bot_says("企业投资项目备案", chat="specialist-1")  # and to them directly

    response = await emulator.client.get("/emulator/api/export")
    text = await response.text()
    assert response.status == 200, text
    assert "(?P<code1>" in text and '{as: butler, in: group1, say: "/bind ${code1}"}' in text
    story = tmp_path / "team.yaml"
    story.write_text(text, encoding="utf-8")
    result = await run_story_file(story)
    assert result.ok, "\n".join(str(f) for f in result.failures) + "\n" + text


async def test_a_new_group_from_the_page_is_shown_to_everyone_until_bound(emulator):
    status, made = await emulator.json(
        "POST", "/emulator/api/groups", json={"title": " 第二个 群 "}
    )
    assert status == 201 and made == {
        "id": "group-2",
        "kind": "group",
        "title": "第二个 群",
        "project": None,
    }
    await emulator.wait_for(lambda m: m["type"] == "chats", "the chat lists to reload")
    for persona in ("enterprise", "leader"):
        _, chats = await emulator.json("GET", f"/emulator/api/chats?persona={persona}")
        assert [c["id"] for c in chats if c["kind"] == "group"] == ["group-1", "group-2"]
    await emulator.say("/status", persona="leader", chat="group-2")
    await emulator.bot_says("not bound|未绑定", chat="group-2")
    status, error = await emulator.json("POST", "/emulator/api/groups", json={"title": "  "})
    assert status == 400 and "title" in error["error"]
