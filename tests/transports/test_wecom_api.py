"""The WeCom sending transport against the fake WeCom server, and callback parsing."""

import pytest

from bot.config import ConfigError, Settings
from bot.transports.base import PermanentError, TransientError
from bot.transports.wecom import check_settings, to_incoming
from bot.transports.wecom_client import WeComApi
from bot.transports.wecom_crypto import parse_xml
from bot.transports.wecom_render import split_bytes
from bot.transports.wecom_state import SlidingWindow
from bot.transports.wecom_transport import WeComTransport, parse_robot_keys
from handlers.chat import ChatKind, Outgoing
from handlers.i18n import gettext
from tests.fakes.fake_wecom import (
    AES_KEY,
    AGENT_ID,
    CORP_ID,
    SECRET,
    FakeWeCom,
    card_event_xml,
    robot_group_xml,
    text_xml,
)

ROBOT_KEY = "robot-key-1"
HINT = "Reply with # and the number of your choice, for example #1."


@pytest.fixture
async def fake():
    server = FakeWeCom(robot_keys={ROBOT_KEY})
    await server.start()
    yield server
    await server.stop()


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
async def transport(fake):
    api = WeComApi(fake.url, CORP_ID, SECRET, AGENT_ID)
    clock = Clock()

    async def lang_of(userid: str) -> str:
        return "en" if userid.startswith("en") else "zh_CN"

    t = WeComTransport(
        api,
        robot_keys={"teamA": ROBOT_KEY},
        lang_of=lang_of,
        default_lang="zh_CN",
        clock=clock,
    )
    t.clock = clock  # type: ignore[attr-defined]
    yield t
    await api.close()


def payload(text, buttons=(), mentions=()):
    out = Outgoing(text).to_payload()
    out["buttons"] = [[{"label": label, "payload": p}] for label, p in buttons]
    out["mentions"] = [dict(m) for m in mentions]
    return out


async def test_text_goes_out_as_an_app_message_with_one_cached_token(fake, transport):
    await transport.send("zhangwei", payload("您好"))
    await transport.send("zhangwei", payload("再见"))
    assert [(s.api, s.target, s.body["msgtype"]) for s in fake.sent] == [
        ("message", "zhangwei", "text"),
        ("message", "zhangwei", "text"),
    ]
    assert fake.sent[0].body["text"]["content"] == "您好"
    assert fake.sent[0].body["agentid"] == AGENT_ID
    assert fake.token_requests == 1


async def test_bold_text_goes_out_as_markdown(fake, transport):
    await transport.send("zhangwei", payload("**进度**\n第一项"))
    assert fake.sent[0].body["msgtype"] == "markdown"
    assert fake.sent[0].body["markdown"]["content"] == "**进度**\n第一项"


async def test_a_long_text_is_split_at_2048_bytes_in_order(fake, transport):
    lines = [f"第{i}行" + "字" * 40 for i in range(100)]
    await transport.send("zhangwei", payload("\n".join(lines)))
    parts = [s.body["text"]["content"] for s in fake.sent]
    assert len(parts) > 1 and all(len(p.encode()) <= 2048 for p in parts)
    assert "\n".join(parts) == "\n".join(lines)


async def test_short_text_with_buttons_becomes_a_button_card(fake, transport):
    await transport.send(
        "zhangwei", payload("请选择语言：", [("中文", "lang:zh_CN"), ("English", "lang:en")])
    )
    body = fake.sent[0].body
    assert body["msgtype"] == "template_card"
    card = body["template_card"]
    assert card["card_type"] == "button_interaction"
    assert card["main_title"]["title"] == "请选择语言："
    assert [(b["text"], b["key"]) for b in card["button_list"]] == [
        ("中文", "lang:zh_CN"),
        ("English", "lang:en"),
    ]
    assert len(card["task_id"]) <= 128


async def test_long_text_or_many_buttons_fall_back_to_numbered_options(fake, transport):
    seven = [(f"选项{i}", f"p:{i}") for i in range(7)]
    await transport.send("zhangwei", payload("请选择：", seven))
    await transport.send("enuser", payload("Pick one\n" + "x" * 300, [("A", "a"), ("B", "b")]))
    first, second = (s.body for s in fake.sent)
    assert first["msgtype"] == "text"
    assert "#1 选项0" in first["text"]["content"] and "#7 选项6" in first["text"]["content"]
    # The hint is in the person's language (zh_CN here; its translation is merged centrally).
    assert first["text"]["content"].endswith(gettext("zh_CN", HINT))
    assert second["msgtype"] == "text" and "#2 B" in second["text"]["content"]
    assert second["text"]["content"].endswith(HINT)


async def test_a_button_key_over_1024_bytes_is_not_put_on_a_card(fake, transport):
    await transport.send("zhangwei", payload("选择", [("长", "k" * 1025)]))
    assert fake.sent[0].body["msgtype"] == "text"


async def test_a_group_robot_message_mentions_by_userid(fake, transport):
    mentions = [
        {"person_id": 1, "display_name": "李娜", "external_id": "lina"},
        {"person_id": 2, "display_name": "王强", "external_id": None},
    ]
    await transport.send("teamA", payload("**请** 补充材料", mentions=mentions))
    (sent,) = fake.sent
    assert (sent.api, sent.target) == ("webhook", ROBOT_KEY)
    assert sent.body["msgtype"] == "text"
    assert sent.body["text"]["mentioned_list"] == ["lina"]
    assert sent.body["text"]["content"] == "请 补充材料\n@王强"


async def test_an_api_created_group_chat_is_created_and_written_to(fake, transport):
    chat = await transport.api.create_appchat("项目组", "lina", ["lina", "zhangwei"], "proj42")
    assert chat == "appchat:proj42"
    await transport.send(chat, payload("材料已收到", [("确认", "ok")]))
    (sent,) = fake.sent
    assert (sent.api, sent.target) == ("appchat", "proj42")
    assert "#1 确认" in sent.body["text"]["content"]


async def test_an_expired_token_is_refreshed_and_the_send_retried_once(fake, transport):
    await transport.send("zhangwei", payload("一"))
    fake.expire_tokens()
    await transport.send("zhangwei", payload("二"))
    assert [s.content for s in fake.sent] == ["一", "二"]
    assert fake.token_requests == 2 and fake.rejected_tokens == 1


async def test_45009_is_transient_with_a_growing_backoff(fake, transport):
    fake.inject("message", 45009)
    fake.inject("message", 45009)
    with pytest.raises(TransientError) as first:
        await transport.send("zhangwei", payload("一"))
    with pytest.raises(TransientError) as second:
        await transport.send("zhangwei", payload("一"))
    assert 0 < first.value.retry_after < second.value.retry_after <= 60
    await transport.send("zhangwei", payload("一"))
    assert [s.content for s in fake.sent] == ["一"]


async def test_a_5xx_is_transient(fake, transport):
    fake.inject("webhook", 502)
    with pytest.raises(TransientError):
        await transport.send("teamA", payload("一"))
    await transport.send("teamA", payload("一"))
    assert len(fake.sent) == 1


async def test_an_unknown_member_is_permanent(fake, transport):
    with pytest.raises(PermanentError):
        await transport.send("nobody-1", payload("一"))


async def test_the_robot_limit_is_kept_without_blocking(fake, transport):
    for i in range(20):
        await transport.send("teamA", payload(f"m{i}"))
    with pytest.raises(TransientError) as held:
        await transport.send("teamA", payload("m20"))
    # A minute and WeCom's margin (2.5 %), so our window never closes before WeCom's.
    assert 61 <= held.value.retry_after <= 61.5
    transport.clock.t += 61.6
    fake._windows.clear()  # the fake's real-time window: the minute has passed for it too
    await transport.send("teamA", payload("m20"))
    assert len(fake.sent) == 21 and fake.violations == 0


async def test_the_member_limit_is_30_a_minute_per_member(fake, transport):
    for i in range(30):
        await transport.send("zhangwei", payload(f"m{i}"))
    with pytest.raises(TransientError):
        await transport.send("zhangwei", payload("m30"))
    await transport.send("lina", payload("other member"))
    assert fake.violations == 0 and len(fake.sent) == 31


def test_a_message_in_several_parts_is_admitted_whole():
    window = SlidingWindow(3, 60, clock=lambda: 0.0)
    window.note("k")
    window.note("k")
    assert window.wait("k", 1) == 0
    assert window.wait("k", 2) == 60


def test_split_keeps_every_character_and_respects_the_limit():
    text = "甲" * 1000 + "\n" + "b" * 10
    parts = split_bytes(text, 2048)
    assert all(len(p.encode()) <= 2048 for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


def test_robot_keys_parse_and_errors_do_not_echo_keys():
    assert parse_robot_keys("groupA=key1, groupB = key2") == {"groupA": "key1", "groupB": "key2"}
    assert parse_robot_keys(None) == {}
    with pytest.raises(ValueError) as bad:
        parse_robot_keys("groupA:secretkey")
    assert "secretkey" not in str(bad.value)
    with pytest.raises(ValueError):
        parse_robot_keys("a=1,a=2")


def wecom_settings(**changes):
    values = {
        "wecom_corp_id": CORP_ID,
        "wecom_agent_id": str(AGENT_ID),
        "wecom_secret": SECRET,
        "wecom_token": "tok",
        "wecom_aes_key": AES_KEY,
    }
    values.update(changes)
    return Settings(**{k: v for k, v in values.items() if v is not None})


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"wecom_agent_id": None}, "DAIBAN_WECOM_AGENT_ID"),
        ({"wecom_secret": None}, "DAIBAN_WECOM_SECRET"),
        ({"wecom_token": None}, "DAIBAN_WECOM_TOKEN"),
        ({"wecom_aes_key": None}, "DAIBAN_WECOM_AES_KEY"),
        ({"wecom_aes_key": AES_KEY[:-1]}, "DAIBAN_WECOM_AES_KEY"),
        ({"wecom_agent_id": "abc"}, "DAIBAN_WECOM_AGENT_ID"),
        ({"wecom_robot_keys": "nokey"}, "DAIBAN_WECOM_ROBOT_KEYS"),
    ],
)
def test_incomplete_wecom_settings_name_the_variable(change, variable):
    with pytest.raises(ConfigError) as error:
        check_settings(wecom_settings(**change))
    assert variable in str(error.value)
    assert AES_KEY not in str(error.value) and SECRET not in str(error.value)


def test_complete_wecom_settings_pass():
    agent, secret, token, key, robots = check_settings(wecom_settings(wecom_robot_keys="teamA=k1"))
    assert (agent, secret, token, key, robots) == (
        AGENT_ID,
        SECRET,
        "tok",
        AES_KEY,
        {"teamA": "k1"},
    )


def test_a_text_message_becomes_an_incoming_command():
    event = to_incoming(parse_xml(text_xml("zhangwei", "/start ABC", "123")))
    assert event.event_id == "m:123" and event.chat_id == "zhangwei"
    assert (event.command, event.args) == ("start", "ABC")
    assert event.sender.language_code is None and event.chat_kind is ChatKind.DM


def test_a_card_press_becomes_a_payload_with_an_event_id_from_sender_time_key_and_card():
    event = to_incoming(parse_xml(card_event_xml("zhangwei", "lang:en", 1700000000)))
    assert event.payload == "lang:en"
    assert event.event_id == "e:zhangwei:1700000000:template_card_event:lang:en:daiban-t1"
    other_card = card_event_xml("zhangwei", "lang:en", 1700000000, task_id="daiban-t2")
    assert to_incoming(parse_xml(other_card)).event_id != event.event_id
    long = to_incoming(parse_xml(card_event_xml("zhangwei", "k" * 1000, 1700000000)))
    assert len(long.event_id) <= 128


def test_a_robot_group_message_is_a_group_event_without_the_leading_mention():
    event = to_incoming(
        parse_xml(robot_group_xml("wrGroup1", "lina", "李娜", "@代办 /help", "CAEQ"))
    )
    assert event.chat_kind is ChatKind.GROUP and event.chat_id == "wrGroup1"
    assert event.sender.external_id == "lina" and event.sender.display_name == "李娜"
    assert event.command == "help"


def test_an_image_becomes_an_attachment_with_the_media_id():
    xml = (
        f"<xml><ToUserName>{CORP_ID}</ToUserName><FromUserName>zhangwei</FromUserName>"
        "<CreateTime>1</CreateTime><MsgType>image</MsgType><PicUrl>http://x</PicUrl>"
        "<MediaId>MEDIA123</MediaId><MsgId>77</MsgId></xml>"
    )
    event = to_incoming(parse_xml(xml))
    assert event.attachment.ref == "MEDIA123" and event.attachment.mime_type == "image/jpeg"


def test_entering_the_app_is_not_an_event_we_handle():
    xml = (
        f"<xml><ToUserName>{CORP_ID}</ToUserName><FromUserName>zhangwei</FromUserName>"
        "<CreateTime>1</CreateTime><MsgType>event</MsgType><Event>enter_agent</Event>"
        "<EventKey></EventKey></xml>"
    )
    assert to_incoming(parse_xml(xml)) is None


@pytest.mark.parametrize("errcode", [40001, 40091])
async def test_a_configuration_error_holds_the_app_and_healthz_says_so(fake, errcode, tmp_path):
    from aiohttp.test_utils import TestClient, TestServer

    from bot.app import build_app
    from bot.web import build_web_app
    from storage.migrate import upgrade

    fake.bad_secret_errcode = errcode
    api = WeComApi(fake.url, CORP_ID, "a-wrong-secret", AGENT_ID)

    async def lang_of(_userid: str) -> str:
        return "zh_CN"

    t = WeComTransport(api, robot_keys={}, lang_of=lang_of, default_lang="zh_CN")
    with pytest.raises(TransientError) as held:
        await t.send("zhangwei", payload("请查收"))
    assert held.value.retry_after == 300  # waits in the outbox; never failed for good
    asked = len(fake.calls)
    with pytest.raises(TransientError) as again:
        await t.send("lina", payload("另一条"))
    assert len(fake.calls) == asked  # held: WeCom is not asked again meanwhile
    assert 299 < again.value.retry_after <= 300
    assert t.problems and f"errcode {errcode}" in t.problems[0]
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}"
    await upgrade(url)
    app = await build_app(Settings(database_url=url), transports={"wecom": t})
    async with TestClient(TestServer(build_web_app(app))) as client:
        response = await client.get("/healthz")
        body = await response.json()
    await app.close()
    await api.close()
    assert response.status == 503
    assert any(f"errcode {errcode}" in problem for problem in body["problems"])
    assert "a-wrong-secret" not in str(body)
