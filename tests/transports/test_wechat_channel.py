"""The WeChat channel in one process: the real callback, store, handlers and delivery
worker against the fake WeChat platform (tests/fakes/fake_wechat.py), on both backends.

Daiban's clock is a FakeClock kept equal to the fake platform's clock, so "three days
later" moves both.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.app import App, build_app
from bot.config import Settings
from bot.transports.wechat import start_wechat
from bot.web import build_web_app
from domain.clock import FakeClock
from storage.migrate import upgrade
from storage.models import InboundEvent, OutboxMessage, PlatformToken
from storage.repos.held import HOLD_UNTIL, HeldRepo
from storage.repos.wechat import WeChatRepo
from storage.uow import UnitOfWork
from tests.fakes.fake_wechat import (
    AES_KEY,
    APP_ID,
    APP_SECRET,
    TOKEN,
    Contact,
    FakeWeChat,
    seal,
    text_xml,
)
from tests.pg import pg_admin_url, scratch_pg_database

TEMPLATES = {"accepted": "TPL-accepted-1", "materials": "TPL-materials-1", "rating": "TPL-rate"}
FIELDS = {"rating": ":thing2|thing4|time5"}
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Channel:
    app: App
    fake: FakeWeChat
    clock: FakeClock
    url: str

    def contact(self, openid: str) -> Contact:
        return Contact(self.fake, self.url, openid)

    def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        self.fake.advance(delta.total_seconds())

    async def deliver(self) -> int:
        return await self.app.worker.drain()

    async def count(self, model: type, *where: object) -> int:
        async with UnitOfWork(self.app.services.db) as uow:
            stmt = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
            return int((await uow.session.execute(stmt)).scalar_one())


@pytest.fixture(params=BACKENDS)
async def database_url(request, tmp_path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'wechat.sqlite3'}"
        return
    async with scratch_pg_database(pg_admin_url(), "daiban_wechat") as url:
        yield url


@pytest.fixture
async def channel(database_url) -> AsyncIterator[Channel]:
    fake = FakeWeChat(templates=set(TEMPLATES.values()))
    await fake.start()
    await upgrade(database_url)
    settings = Settings(
        database_url=database_url,
        wechat_app_id=APP_ID,
        wechat_app_secret=APP_SECRET,
        wechat_token=TOKEN,
        wechat_aes_key=AES_KEY,
        wechat_api_url=fake.url,
        wechat_templates=",".join(f"{k}={v}{FIELDS.get(k, '')}" for k, v in TEMPLATES.items()),
        wechat_link_url="https://daiban.example/wechat",
    )
    clock = FakeClock(datetime.now(UTC))
    app = await build_app(settings, clock=clock)
    web_app = build_web_app(app)
    stop = await start_wechat(app, settings, web_app)
    runner = web.AppRunner(web_app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield Channel(app, fake, clock, f"http://127.0.0.1:{port}/wechat/callback")
    finally:
        await runner.cleanup()
        await stop()
        await app.close()
        await fake.stop()


async def test_a_follow_is_start_and_the_welcome_is_a_menu_message(channel):
    zhang = channel.contact("o-zhang")
    assert await zhang.follow() == (200, "success")
    await channel.deliver()
    sent = channel.fake.to("o-zhang")
    assert len(sent) == 1 and sent[0].body["msgtype"] == "msgmenu"
    menu = sent[0].body["msgmenu"]
    assert "重大项目全程代办" in menu["head_content"] and "**" not in menu["head_content"]
    assert [c["content"] for c in menu["list"]][:2] == ["中文", "English"]
    # Tapping "English" comes back as a text carrying the choice's id: the button is pressed.
    english = menu["list"][1]
    assert await zhang.tap(int(english["id"]), english["content"]) == (200, "success")
    await channel.deliver()
    assert "English" in channel.fake.texts("o-zhang")[-1]
    assert channel.fake.violations == 0


async def test_the_url_check_answers_echostr_only_when_signed(channel):
    signed = seal(text_xml("o-x", "hi", 1))
    query = {k: signed.query[k] for k in ("signature", "timestamp", "nonce")}
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(channel.url, params={**query, "echostr": "e-123"}) as response:
            assert (response.status, await response.text()) == (200, "e-123")
        wrong = {**query, "signature": "0" * 40, "echostr": "e-123"}
        async with http.get(channel.url, params=wrong) as response:
            assert response.status == 403


@pytest.mark.parametrize(
    "attack",
    [
        "wrong signature",
        "stale timestamp",
        "unknown AppID",
        "not UTF-8",
        "not <xml>",
        "a DTD",
        "plain mode",
    ],
)
async def test_a_refused_callback_has_no_effect(channel, attack):
    xml = text_xml("o-mallory", "/start", 4242)
    if attack == "wrong signature":
        signed = seal(xml, token="another-token")
    elif attack == "stale timestamp":
        signed = seal(xml, timestamp=int(channel.clock.now().timestamp()) - 301)
    elif attack == "unknown AppID":
        signed = seal(xml, app_id="wx0000000000000000")
    else:
        signed = seal(xml)
    if attack == "not UTF-8":
        signed.body = "<xml><Encrypt>加密</Encrypt></xml>".encode("gb18030")
    elif attack == "not <xml>":
        signed.body = signed.body.replace(b"<xml>", b"<doc>").replace(b"</xml>", b"</doc>")
    elif attack == "a DTD":
        signed.body = b'<!DOCTYPE xml [<!ENTITY e "x">]>' + signed.body
    elif attack == "plain mode":
        signed.query.pop("encrypt_type")
    status, _ = await channel.contact("o-mallory").post(signed)
    assert status in (400, 403)
    await channel.deliver()
    assert channel.fake.sent == []
    assert await channel.count(InboundEvent) == 0
    async with UnitOfWork(channel.app.services.db) as uow:
        assert await WeChatRepo(uow.session).contact("o-mallory") is None


async def test_a_replayed_message_is_answered_but_done_once(channel):
    zhang = channel.contact("o-zhang")
    signed = seal(text_xml("o-zhang", "/start", 5150))
    channel.fake.user_wrote("o-zhang")
    assert await zhang.post(signed) == (200, "success")
    await channel.deliver()
    async with UnitOfWork(channel.app.services.db) as uow:
        left = (await WeChatRepo(uow.session).contact("o-zhang")).sends_left
    # The same POST again (WeChat's retry, or someone replaying it within 5 minutes).
    assert await zhang.post(signed) == (200, "success")
    await channel.deliver()
    assert len(channel.fake.to("o-zhang")) == 1
    async with UnitOfWork(channel.app.services.db) as uow:
        assert (await WeChatRepo(uow.session).contact("o-zhang")).sends_left == left
    assert await channel.count(OutboxMessage) == 1


async def test_events_are_deduplicated_by_sender_time_and_event(channel):
    zhang = channel.contact("o-zhang")
    from tests.fakes.fake_wechat import event_xml

    follow = event_xml("o-zhang", "subscribe", create_time=1764740000)
    assert await zhang.deliver(follow) == (200, "success")
    assert await zhang.deliver(follow) == (200, "success")
    await channel.deliver()
    assert len(channel.fake.to("o-zhang")) == 1


async def test_the_quota_holds_the_sixth_message_until_the_contact_writes(channel):
    zhang = channel.contact("o-zhang")
    await zhang.say("你好")  # an unknown text: one reply
    await channel.deliver()
    before = len(channel.fake.to("o-zhang"))
    now = channel.clock.now()
    async with UnitOfWork(channel.app.services.db) as uow:
        for n in range(7):
            await uow.outbox.enqueue(
                platform="wechat",
                chat_external_id="o-zhang",
                payload={"text": f"消息 {n}"},
                dedupe_key=f"t:{n}",
                now=now,
            )
    await channel.deliver()
    sent = channel.fake.texts("o-zhang")[before:]
    assert sent == [f"消息 {n}" for n in range(5 - before)]
    assert channel.fake.violations == 0  # the store's quota, not WeChat's refusal, held them
    async with UnitOfWork(channel.app.services.db) as uow:
        waiting = await HeldRepo(uow.session).waiting("wechat")
    assert [(w.chat_external_id, w.count) for w in waiting] == [("o-zhang", 7 - len(sent))]
    # The contact writes again: the waiting ones come first, in order, saying how many.
    await zhang.say("还在吗")
    await channel.deliver()
    after = channel.fake.texts("o-zhang")[before + len(sent) :]
    assert after[0].startswith(f"在对话关闭期间等您查收的消息：{7 - len(sent)} 条") and after[
        0
    ].endswith(f"消息 {len(sent)}")
    assert [t.rsplit("\n", 1)[-1] for t in after[: 7 - len(sent)]] == [
        f"消息 {n}" for n in range(len(sent), 7)
    ]


async def test_a_notice_outside_the_window_goes_as_a_template_then_waits(channel):
    zhang = channel.contact("o-zhang")
    await zhang.say("/start")
    await channel.deliver()
    channel.advance(timedelta(days=3))
    now = channel.clock.now()
    async with UnitOfWork(channel.app.services.db) as uow:
        await uow.outbox.enqueue(
            platform="wechat",
            chat_external_id="o-zhang",
            payload={
                "text": "您的申请 A2026-0001 已受理。项目编号：P2026-0001。",
                "notice": "accepted",
            },
            dedupe_key="accept:1",
            now=now,
        )
        await uow.outbox.enqueue(
            platform="wechat",
            chat_external_id="o-zhang",
            payload={"text": "不是通知的消息"},
            dedupe_key="plain:1",
            now=now,
        )
    for _ in range(3):  # however often the worker comes back, one template
        await channel.deliver()
        async with UnitOfWork(channel.app.services.db) as uow:
            await HeldRepo(uow.session).release("wechat", "o-zhang", channel.clock.now())
    await channel.deliver()
    templates = channel.fake.to("o-zhang", "template")
    assert len(templates) == 1
    body = templates[0].body
    assert (
        body["template_id"] == "TPL-accepted-1" and body["url"] == "https://daiban.example/wechat"
    )
    assert body["data"]["thing1"]["value"] == "申请已受理"
    assert channel.fake.violations == 0
    assert await channel.count(OutboxMessage, OutboxMessage.not_before == HOLD_UNTIL) == 2
    await zhang.say("好的")
    await channel.deliver()
    texts = channel.fake.texts("o-zhang")
    assert "等您查收的消息：2 条" in texts[-3] and "A2026-0001" in texts[-3]
    assert texts[-2] == "不是通知的消息"


async def test_wechat_refusing_the_window_closes_it_in_the_store(channel):
    zhang = channel.contact("o-zhang")
    await zhang.say("/help")
    await channel.deliver()
    channel.fake.advance(49 * 3600)  # WeChat's clock ran ahead of ours
    async with UnitOfWork(channel.app.services.db) as uow:
        await uow.outbox.enqueue(
            platform="wechat",
            chat_external_id="o-zhang",
            payload={"text": "一条提醒"},
            dedupe_key="r:1",
            now=channel.clock.now(),
        )
    await channel.deliver()
    assert ("custom", 45015) in channel.fake.refused
    async with UnitOfWork(channel.app.services.db) as uow:
        assert (await WeChatRepo(uow.session).contact("o-zhang")).sends_left == 0
        assert [w.count for w in await HeldRepo(uow.session).waiting("wechat")] == [1]


async def test_the_access_token_is_shared_through_the_store_and_refreshed_once(channel):
    zhang = channel.contact("o-zhang")
    await zhang.say("/help")
    await channel.deliver()
    assert channel.fake.token_requests == 1
    assert await channel.count(PlatformToken) == 1
    channel.fake.expire_tokens()
    await zhang.say("/help")
    await channel.deliver()
    assert channel.fake.token_requests == 2
    assert len(channel.fake.to("o-zhang")) == 2


async def test_the_menu_is_set_once_from_the_scheme(channel):
    from bot.transports.wechat_menu import set_menu

    api = channel.app.transports["wechat"].api  # type: ignore[attr-defined]
    for _ in range(50):
        if channel.fake.menu is not None:
            break
        import asyncio

        await asyncio.sleep(0.05)
    names = [b["name"] for b in channel.fake.menu]
    assert names == ["咨询", "办事", "我的项目"]
    assert channel.fake.menu[2]["key"] == "/progress"
    assert await set_menu(api, channel.app.services.scheme) is False
    assert channel.fake.menu_creates == 1


async def test_the_office_sees_who_has_messages_waiting(channel):
    from handlers.chat import Incoming, Sender

    zhang = channel.contact("o-zhang")
    await zhang.say("/start")
    await channel.deliver()
    now = channel.clock.now()
    async with UnitOfWork(channel.app.services.db) as uow:
        person = await uow.people.by_account("wechat", "o-zhang")
        person.name = "张伟"
        office = await uow.people.add("刘芳", roles=[("office", None)], now=now)
        await uow.people.add_account(office.id, "story", "u-office", "刘芳", now)
        for n in range(2):
            await uow.outbox.enqueue(
                platform="wechat",
                chat_external_id="o-zhang",
                payload={"text": f"通知 {n}"},
                dedupe_key=f"n:{n}",
                now=now,
                person_id=person.id,
            )
    channel.advance(timedelta(days=3))
    await channel.deliver()

    async def ask(event_id: str) -> str:
        await channel.app.handle(
            Incoming(
                event_id,
                Sender("story", "u-office", "刘芳"),
                "u-office",
                text="/waiting",
                command="waiting",
            )
        )
        async with UnitOfWork(channel.app.services.db) as uow:
            rows = await uow.outbox.recent_for_chat("story", "u-office", limit=1)
        return rows[-1].payload["text"]

    answer = await ask("w1")
    assert "张伟（微信）：2 条" in answer and "wechat" not in answer
    await zhang.say("我回来了")
    await channel.deliver()
    assert "没有待达消息" in await ask("w2")


async def enqueue(channel: Channel, key: str, payload: dict) -> None:
    async with UnitOfWork(channel.app.services.db) as uow:
        await uow.outbox.enqueue(
            platform="wechat",
            chat_external_id="o-zhang",
            payload=payload,
            dedupe_key=key,
            now=channel.clock.now(),
        )


async def test_an_unstored_message_is_not_acknowledged_and_wechat_delivers_it_again(channel):
    from storage.db import StorageError

    real, calls = channel.app.handle, []

    async def flaky(event):
        calls.append(event.event_id)
        if len(calls) == 1:
            raise StorageError("the store is down")
        return await real(event)

    channel.app.handle = flaky  # type: ignore[method-assign]
    zhang = channel.contact("o-zhang")
    assert await zhang.say("/help") == (200, "success")
    assert zhang.attempts == 2 and len(calls) == 2 and calls[0] == calls[1]
    await channel.deliver()
    assert len(channel.fake.to("o-zhang")) == 1


async def test_images_are_uploaded_other_files_named_long_texts_split(channel, tmp_path):
    zhang = channel.contact("o-zhang")
    await zhang.say("你好")
    await channel.deliver()
    before = len(channel.fake.to("o-zhang"))
    photo = tmp_path / "现场照片.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 a photo of the site")
    pdf = tmp_path / "批复.pdf"
    pdf.write_bytes(b"%PDF-1.4 the approval")

    def attached(path, mime):
        return {"filename": path.name, "mime_type": mime, "size": 0, "ref": str(path)}

    await enqueue(channel, "img", {"text": "现场照片", "attachment": attached(photo, "image/jpeg")})
    await enqueue(
        channel, "pdf", {"text": "批复文件", "attachment": attached(pdf, "application/pdf")}
    )
    await channel.deliver()
    sent = channel.fake.to("o-zhang")[before:]
    assert [s.body["msgtype"] for s in sent] == ["text", "image", "text"]
    assert channel.fake.uploads[sent[1].body["image"]["media_id"]] == photo.read_bytes()
    assert sent[2].content == "批复文件\n📎 批复.pdf"

    await zhang.say("再来")
    await channel.deliver()
    before = len(channel.fake.to("o-zhang"))
    long_text = "\n".join(f"第 {n} 行：" + "材料说明" * 20 for n in range(20))
    await enqueue(channel, "long", {"text": long_text})
    await channel.deliver()
    parts = [s.content for s in channel.fake.to("o-zhang")[before:]]
    assert len(parts) == 3 and all(len(p.encode()) <= 2000 for p in parts)
    assert "\n".join(parts) == long_text


async def test_messages_held_while_the_contact_wrote_are_released_by_the_sweep(channel):
    from bot.transports.wechat import WeChatCallback
    from bot.transports.wecom_crypto import WXBizMsgCrypt

    zhang = channel.contact("o-zhang")
    await zhang.say("你好")
    await channel.deliver()
    await enqueue(channel, "raced", {"text": "在对方写消息时被搁置的消息"})
    wrote_at = channel.clock.now()
    async with UnitOfWork(channel.app.services.db) as uow:
        (row,) = await uow.outbox.recent_for_chat("wechat", "o-zhang", statuses=["pending"])
        # The worker holds it with a decision taken just before the contact's message.
        await HeldRepo(uow.session).hold([row.id], "window closed", wrote_at - timedelta(seconds=1))
    callback = WeChatCallback(channel.app, WXBizMsgCrypt(TOKEN, AES_KEY, APP_ID), TOKEN)
    assert await callback.sweep() == 1
    assert await callback.sweep() == 0
    await channel.deliver()
    assert channel.fake.texts("o-zhang")[-1].endswith("在对方写消息时被搁置的消息")
    # Held after the contact's last message: it waits for the next one.
    await enqueue(channel, "later", {"text": "之后被搁置的消息"})
    async with UnitOfWork(channel.app.services.db) as uow:
        (row,) = await uow.outbox.recent_for_chat("wechat", "o-zhang", statuses=["pending"])
        await HeldRepo(uow.session).hold([row.id], "quota used", channel.clock.now())
    assert await callback.sweep() == 0


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"wechat_token": None}, "DAIBAN_WECHAT_TOKEN"),
        ({"wechat_aes_key": "too-short"}, "DAIBAN_WECHAT_AES_KEY"),
        ({"wechat_templates": "accepted"}, "DAIBAN_WECHAT_TEMPLATES"),
        ({"wechat_templates": "welcome=T1"}, "DAIBAN_WECHAT_TEMPLATES"),
        ({"wechat_templates": "rating=T1:thing1|time2"}, "DAIBAN_WECHAT_TEMPLATES"),
    ],
)
def test_a_wrong_wechat_setting_is_named(change, named):
    from bot.config import ConfigError
    from bot.transports.wechat import check_settings

    values = {
        "wechat_app_id": APP_ID,
        "wechat_app_secret": APP_SECRET,
        "wechat_token": TOKEN,
        "wechat_aes_key": AES_KEY,
    } | change
    with pytest.raises(ConfigError, match=named) as raised:
        check_settings(Settings(**values))
    assert AES_KEY not in str(raised.value) and APP_SECRET not in str(raised.value)


async def test_a_template_with_its_own_field_keys_gets_them(channel):
    zhang = channel.contact("o-zhang")
    await zhang.say("/start")
    await channel.deliver()
    channel.advance(timedelta(days=3))
    await enqueue(
        channel, "rate", {"text": "满意度评价 2026Q4：请为项目团队打分。", "notice": "rating"}
    )
    await channel.deliver()
    (template,) = channel.fake.to("o-zhang", "template")
    assert template.body["template_id"] == "TPL-rate"
    data = template.body["data"]
    assert set(data) == {"thing2", "thing4", "time5"}
    assert data["thing2"]["value"] == "满意度评价"
    assert len(data["thing4"]["value"]) <= 20
    local = channel.clock.now().astimezone(channel.app.services.timezone)
    assert data["time5"]["value"] == local.strftime("%Y-%m-%d %H:%M")


async def test_a_person_known_on_another_channel_links_wechat_with_an_invite_code(channel):
    from handlers.invites import issue_person_code

    now = channel.clock.now()
    async with UnitOfWork(channel.app.services.db) as uow:
        zhang = await uow.people.add("张伟", mobile="13800138000", now=now)
        await uow.people.add_account(zhang.id, "telegram", "7001", "张伟", now)
        code = await issue_person_code(uow, zhang, now=now)
    contact = channel.contact("o-zhang")
    await contact.follow()  # following first makes a new contact …
    await contact.say(f"/start {code}")  # … whom the code then makes 张伟 on WeChat too
    await channel.deliver()
    async with UnitOfWork(channel.app.services.db) as uow:
        person = await uow.people.by_account("wechat", "o-zhang")
        account = await uow.people.dm_account(zhang.id, prefer_platform="wechat")
    assert person is not None and person.id == zhang.id
    assert account is not None and account.external_id == "o-zhang"
    assert "张伟" in channel.fake.texts("o-zhang")[-1]


def test_what_wechat_sends_becomes_platform_neutral_events():
    from bot.transports.wechat_parse import parse_body, to_incoming
    from tests.fakes.fake_wechat import event_xml, image_xml

    def incoming(xml: str):
        return to_incoming(parse_body(xml.encode()))

    scanned = incoming(event_xml("o-a", "subscribe", "qrscene_K7PQ2M9X", 1764740000))
    assert (scanned.command, scanned.args) == ("start", "K7PQ2M9X")
    assert scanned.event_id == "e:o-a:1764740000:subscribe"
    assert incoming(event_xml("o-a", "CLICK", "menu:consult")).payload == "menu:consult"
    progress = incoming(event_xml("o-a", "CLICK", "/progress"))
    assert (progress.command, progress.payload) == ("progress", None)
    assert incoming(event_xml("o-a", "VIEW", "https://example.org")) is None
    assert incoming(event_xml("o-a", "unsubscribe")) is None
    photo = incoming(image_xml("o-a", "media-1", 42))
    assert photo.attachment.ref == "media-1" and photo.attachment.mime_type == "image/jpeg"
    assert photo.event_id == "m:42"
    text = incoming(text_xml("o-a", "/check 12亿", 43))
    assert (text.command, text.args, text.chat_id) == ("check", "12亿", "o-a")


async def test_a_second_replica_uses_the_stored_token_and_never_logs_it(channel, caplog):
    import asyncio

    from bot.transports.wechat_api import WeChatApi

    services = channel.app.services
    first = WeChatApi(channel.fake.url, APP_ID, APP_SECRET, services.db, services.clock)
    second = WeChatApi(channel.fake.url, APP_ID, APP_SECRET, services.db, services.clock)
    try:
        with caplog.at_level("DEBUG"):
            # Both start at once (as the app's own menu task does): they end up with one token.
            token, other = await asyncio.gather(first.access_token(), second.access_token())
            assert token == other == await first.access_token() == await second.access_token()
            channel.fake.expire_tokens()
            fetched = first.token_fetches
            await second.current_menu()  # refused (42001): replaced once, then it works
            await first.current_menu()  # refused too: it finds the new one in the store
            assert first.token_fetches == fetched
            assert await first.access_token() == await second.access_token() != token
    finally:
        await first.close()
        await second.close()
    # Daiban's own lines (the fake platform's access log is WeChat's side, not ours).
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot."))
    assert "access token" in logged  # it did log about the token …
    assert token not in logged and APP_SECRET not in logged and "TOKEN-" not in logged  # … not it


async def test_a_slow_answer_is_delivered_again_and_still_handled_once(channel):
    import asyncio

    real, calls = channel.app.handle_batch, []

    async def slow(events):
        calls.append([e.event_id for e in events])
        if len(calls) == 1:
            await asyncio.sleep(0.6)  # longer than the (shortened) 5 seconds WeChat waits
        return await real(events)

    channel.app.handle_batch = slow  # type: ignore[method-assign]
    zhang = Contact(channel.fake, channel.url, "o-zhang", timeout=0.3)
    assert await zhang.say("/help") == (200, "success")
    assert zhang.attempts >= 2  # WeChat gave up waiting and delivered it again
    await asyncio.sleep(0.5)  # the first, slow attempt finishes too
    await channel.deliver()
    assert len(channel.fake.to("o-zhang")) == 1
    assert await channel.count(InboundEvent) == 1


async def test_wechat_refusing_the_quota_holds_the_rest_in_order(channel):
    channel.fake.quota = 2  # WeChat counts differently from the store this time
    zhang = channel.contact("o-zhang")
    await zhang.say("你好")
    await channel.deliver()
    before = len(channel.fake.to("o-zhang"))
    for n in range(3):
        await enqueue(channel, f"q:{n}", {"text": f"第 {n} 条"})
    await channel.deliver()
    assert ("custom", 45047) in channel.fake.refused
    assert channel.fake.texts("o-zhang")[before:] == ["第 0 条"][: 2 - before]
    async with UnitOfWork(channel.app.services.db) as uow:
        assert (await WeChatRepo(uow.session).contact("o-zhang")).sends_left == 0
        waiting = await HeldRepo(uow.session).waiting("wechat")
    assert [w.count for w in waiting] == [3 - (2 - before)]
    await zhang.say("继续")
    await channel.deliver()
    texts = channel.fake.texts("o-zhang")
    assert texts[-2].endswith(f"第 {2 - before} 条") and "等您查收的消息" in texts[-2]


async def test_the_emulator_shows_a_chat_as_wechat_would(tmp_path):
    from aiohttp.test_utils import TestClient, TestServer

    from bot.demo import PLATFORM as EMULATOR
    from bot.transports.wechat_view import PATH, add_wechat_view
    from handlers.chat import Button, Outgoing

    url = f"sqlite+aiosqlite:///{tmp_path / 'view.sqlite3'}"
    await upgrade(url)
    app = await build_app(Settings(database_url=url))
    menu = Outgoing(
        "请选择语言：", buttons=[[Button("中文", "lang:zh_CN"), Button("English", "lang:en")]]
    )
    many = Outgoing("请选择材料：", buttons=[[Button(f"材料{n}", f"m:{n}")] for n in range(12)])
    async with UnitOfWork(app.services.db) as uow:
        for n, out in enumerate((menu, many, Outgoing("**受理**通知 <b>"))):
            await uow.outbox.enqueue(
                platform=EMULATOR,
                chat_external_id="zhang",
                payload=out.to_payload(),
                dedupe_key=f"v:{n}",
                now=app.services.clock.now(),
            )
    web_app = build_web_app(app)
    add_wechat_view(app, web_app)
    async with TestClient(TestServer(web_app)) as client:
        response = await client.get(PATH, params={"chat": "zhang"})
        page = await response.text()
    await app.close()
    assert response.status == 200
    assert '<div class="b m">请选择语言：<a>中文</a><a>English</a></div>' in page
    assert "#12 材料11" in page and "例如 #1" in page  # past ten choices: numbered
    assert "受理通知 &lt;b&gt;" in page  # plain text, escaped


async def test_a_message_longer_than_a_whole_quota_goes_quota_by_quota(channel):
    zhang = channel.contact("o-zhang")
    await zhang.say("你好")
    await channel.deliver()
    before = len(channel.fake.to("o-zhang"))
    huge = "\n".join(f"第 {n} 行：" + "材料清单说明" * 30 for n in range(21))  # 7 parts
    await enqueue(channel, "huge", {"text": huge})
    await channel.deliver()
    first = channel.fake.texts("o-zhang")[before:]
    assert len(first) == 4  # what the window had left; the rest waits, nothing repeated
    await zhang.say("继续")
    await channel.deliver()
    rest = channel.fake.texts("o-zhang")[before + 4 :]
    assert "\n".join([*first, *rest[:3]]) == huge  # the rest, then the answer to 继续
    assert channel.fake.violations == 0


async def test_an_unfollowed_contact_gets_nothing_until_they_follow_again(channel):
    from tests.fakes.fake_wechat import event_xml

    zhang = channel.contact("o-zhang")
    await zhang.say("你好")
    await channel.deliver()
    before = len(channel.fake.to("o-zhang"))
    assert await zhang.deliver(event_xml("o-zhang", "unsubscribe")) == (200, "success")
    channel.fake.followers.discard("o-zhang")
    await enqueue(channel, "after", {"text": "受理通知", "notice": "accepted"})
    await channel.deliver()
    assert len(channel.fake.to("o-zhang")) == before  # no custom message, no template
    assert ("template", 43004) in channel.fake.refused
    assert channel.fake.violations == 0  # the store knew the window had closed
    await zhang.follow()
    await channel.deliver()
    texts = channel.fake.texts("o-zhang")[before:]
    assert "等您查收的消息：1 条" in texts[0] and texts[0].endswith("受理通知")


async def test_plain_mode_only_when_the_deployment_allows_it(channel):
    import secrets

    from aiohttp.test_utils import TestClient, TestServer

    from bot.transports.wechat import WeChatCallback
    from bot.transports.wecom_crypto import signature

    stamp, nonce = str(int(channel.clock.now().timestamp())), secrets.token_hex(4)
    signed = {"signature": signature(TOKEN, stamp, nonce, ""), "timestamp": stamp, "nonce": nonce}
    body = text_xml("o-plain", "/help", 777).encode()
    channel.fake.user_wrote("o-plain")
    answers = []
    for allowed, query in (
        (False, signed),
        (True, {**signed, "signature": "0" * 40}),
        (True, signed),
    ):
        callback = WeChatCallback(channel.app, None, TOKEN, plain_mode=allowed)
        web_app = web.Application()
        web_app.router.add_post("/cb", callback.receive)
        async with TestClient(TestServer(web_app)) as client:
            response = await client.post("/cb", params=query, data=body)
            answers.append((response.status, await response.text()))
    assert [status for status, _ in answers] == [403, 403, 200]
    await channel.deliver()
    assert len(channel.fake.to("o-plain")) == 1  # answered once, to the allowed, signed POST
    assert await channel.count(InboundEvent) == 1


def test_plain_mode_needs_no_aes_key_but_safe_mode_does():
    from bot.config import ConfigError
    from bot.transports.wechat import check_settings

    base = {"wechat_app_id": APP_ID, "wechat_app_secret": APP_SECRET, "wechat_token": TOKEN}
    assert check_settings(Settings(**base, wechat_plain_mode=True))[2] is None
    with pytest.raises(ConfigError, match="DAIBAN_WECHAT_AES_KEY"):
        check_settings(Settings(**base))


def test_template_values_fit_their_field_types():
    from bot.transports.wechat_render import field_value

    long = "北京运河建设有限公司关于运河大厦项目立项阶段的全部材料"
    assert field_value("thing2", long) == long[:19] + "…"
    assert (
        field_value("character_string5", "A2026-0001 " * 5)
        == ("A2026-0001 " * 5).strip()[:31] + "…"
    )
    assert field_value("phrase3", "已受理完毕啦") == "已受理完…"
    assert field_value("time4", "2026-12-03 09:00") == "2026-12-03 09:00"


async def test_a_template_wechat_refuses_still_leaves_the_message_waiting(channel):
    zhang = channel.contact("o-zhang")
    await zhang.say("/start")
    await channel.deliver()
    channel.advance(timedelta(days=3))
    channel.fake.templates.clear()  # the office deleted its templates in the 公众平台
    await enqueue(channel, "acc", {"text": "您的申请已受理。", "notice": "accepted"})
    await channel.deliver()
    assert ("template", 40037) in channel.fake.refused
    async with UnitOfWork(channel.app.services.db) as uow:
        assert [w.count for w in await HeldRepo(uow.session).waiting("wechat")] == [1]
        (row,) = await uow.outbox.recent_for_chat("wechat", "o-zhang", statuses=["pending"])
    assert row.status == "pending"  # not failed: it waits for the contact


async def test_the_quota_holds_across_replicas_and_restarts(channel):
    """A second process on the same store (a replica, or this one restarted) sees the
    sends already used: together they never exceed WeChat's quota."""
    zhang = channel.contact("o-zhang")
    await zhang.say("你好")
    await channel.deliver()
    used = len(channel.fake.to("o-zhang"))
    settings = channel.app.settings
    replica = await build_app(settings, clock=channel.clock)
    stop = await start_wechat(replica, settings, build_web_app(replica))
    try:
        for n in range(8):
            await enqueue(channel, f"r:{n}", {"text": f"第 {n} 条"})
            # Each message goes out through whichever process claims it first.
            await (replica if n % 2 else channel.app).worker.drain()
        await channel.deliver()
        await replica.worker.drain()
    finally:
        await stop()
        await replica.close()
    assert len(channel.fake.to("o-zhang")) == 5 and channel.fake.violations == 0
    async with UnitOfWork(channel.app.services.db) as uow:
        waiting = await HeldRepo(uow.session).waiting("wechat")
    assert [w.count for w in waiting] == [8 - (5 - used)]
    await zhang.say("还有吗")
    await channel.deliver()
    rest = channel.fake.texts("o-zhang")[5:9]
    assert rest[0].startswith(f"在对话关闭期间等您查收的消息：{8 - (5 - used)} 条")
    assert [t.rsplit("\n", 1)[-1] for t in rest] == [f"第 {n} 条" for n in range(5 - used, 8)]
