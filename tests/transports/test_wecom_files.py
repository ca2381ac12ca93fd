"""Files on WeCom (企业微信文件): uploads as temporary media and `file` messages out, and
media downloads in, against the fake WeCom server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.transports.base import PermanentError, TransientError
from bot.transports.wecom import to_incoming
from bot.transports.wecom_client import WeComApi
from bot.transports.wecom_crypto import parse_xml
from bot.transports.wecom_media import MediaCache, MediaInbox, local_file
from bot.transports.wecom_transport import WeComTransport
from handlers.chat import Attachment, Outgoing
from tests.fakes.fake_wecom import AGENT_ID, CORP_ID, SECRET, FakeWeCom, media_xml

ROBOT_KEY = "robot-key-files"
PDF = b"%PDF-1.4 \xe9\xa1\xb9\xe7\x9b\xae archive \x00\x01" * 50


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
async def fake():
    server = FakeWeCom(robot_keys={ROBOT_KEY})
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def transport(fake):
    api = WeComApi(fake.url, CORP_ID, SECRET, AGENT_ID)
    clock = Clock()

    async def lang_of(userid: str) -> str:
        return "zh_CN"

    t = WeComTransport(
        api, robot_keys={"teamA": ROBOT_KEY}, lang_of=lang_of, default_lang="zh_CN", clock=clock
    )
    t.clock = clock  # type: ignore[attr-defined]
    yield t
    await api.close()


def with_file(text: str, path, filename: str = "项目档案 P2026-0001.zip", buttons=()) -> dict:
    out = Outgoing(text, attachment=Attachment(filename, "application/zip", 0, str(path)))
    payload = out.to_payload()
    payload["buttons"] = [[{"label": label, "payload": p}] for label, p in buttons]
    return payload


async def test_a_file_to_a_member_is_uploaded_then_sent_after_the_text(fake, transport, tmp_path):
    archive = tmp_path / "P2026-0001.zip"
    archive.write_bytes(PDF)
    await transport.send("zhangwei", with_file("**项目档案** 已生成", archive))
    text, document = fake.sent
    assert (text.api, text.target, text.body["msgtype"]) == ("message", "zhangwei", "markdown")
    assert "📎" not in text.content  # the file itself follows; it is not just named
    assert (document.api, document.target, document.body["msgtype"]) == (
        "message",
        "zhangwei",
        "file",
    )
    assert document.body["agentid"] == AGENT_ID
    media = fake.file_of(document)
    assert (media.owner, media.filename, media.data) == ("app", "项目档案 P2026-0001.zip", PDF)
    assert fake.calls.count("media/upload") == 1


async def test_the_same_file_is_uploaded_once_and_again_after_two_days(fake, transport, tmp_path):
    archive = tmp_path / "a.zip"
    archive.write_bytes(PDF)
    await transport.send("zhangwei", with_file("", archive))
    await transport.send("lina", with_file("给您", archive))
    assert fake.calls.count("media/upload") == 1  # the media_id is reused
    assert [s.body["msgtype"] for s in fake.sent] == ["file", "text", "file"]  # no empty text
    first, _, second = fake.sent
    assert first.body["file"] == second.body["file"]
    transport.clock.t += 2 * 24 * 3600 + 1  # WeCom keeps a media_id 3 days; we reuse it for 2
    await transport.send("zhangwei", with_file("", archive))
    assert fake.calls.count("media/upload") == 2
    assert fake.sent[-1].body["file"] != first.body["file"]


async def test_an_expired_media_id_is_uploaded_again_once(fake, transport, tmp_path):
    archive = tmp_path / "a.zip"
    archive.write_bytes(PDF)
    await transport.send("zhangwei", with_file("", archive))
    fake.expire_media()  # WeCom forgot it (40007) before our two days were up
    await transport.send("zhangwei", with_file("", archive))
    assert fake.calls.count("media/upload") == 2
    assert len(fake.to("zhangwei")) == 2 and fake.file_of(fake.sent[-1]).data == PDF


async def test_upload_needs_a_valid_token_and_refreshes_it(fake, transport, tmp_path):
    archive = tmp_path / "a.zip"
    archive.write_bytes(PDF)
    await transport.send("zhangwei", with_file("一", archive.with_name("none.zip")))  # named only
    assert fake.sent[-1].content.endswith("📎 项目档案 P2026-0001.zip")
    fake.expire_tokens()
    await transport.send("zhangwei", with_file("", archive))
    assert fake.rejected_tokens == 1 and fake.token_requests == 2
    assert fake.sent[-1].body["msgtype"] == "file"


async def test_a_robot_uploads_with_its_key_and_sends_a_file_message(fake, transport, tmp_path):
    archive = tmp_path / "a.zip"
    archive.write_bytes(PDF)
    mentions = [{"person_id": 1, "display_name": "李娜", "external_id": "lina"}]
    payload = with_file("请查收档案", archive) | {"mentions": mentions}
    await transport.send("teamA", payload)
    text, document = fake.sent
    assert text.body["text"]["mentioned_list"] == ["lina"]
    assert (document.api, document.target, document.body) == (
        "webhook",
        ROBOT_KEY,
        {"msgtype": "file", "file": {"media_id": document.body["file"]["media_id"]}},
    )
    assert fake.file_of(document).owner == f"robot:{ROBOT_KEY}"
    assert "media/upload" not in fake.calls and fake.calls.count("webhook/upload_media") == 1
    assert fake.token_requests == 0  # robots need no access_token


async def test_an_app_group_chat_gets_the_file_too(fake, transport, tmp_path):
    archive = tmp_path / "a.zip"
    archive.write_bytes(PDF)
    chat = await transport.api.create_appchat("项目组", "lina", ["lina", "zhangwei"], "proj42")
    await transport.send(chat, with_file("档案", archive, buttons=[("收到", "ack")]))
    text, document = fake.sent
    assert "#1 收到" in text.content
    assert (document.api, document.target) == ("appchat", "proj42")
    assert document.body["safe"] == 0 and fake.file_of(document).data == PDF


async def test_a_failed_file_send_is_retried_without_repeating_the_text(fake, transport, tmp_path):
    archive = tmp_path / "a.zip"
    archive.write_bytes(PDF)
    payload = with_file("档案已生成", archive)
    fake.inject("media/upload", 502)
    with pytest.raises(TransientError):
        await transport.send("zhangwei", payload)
    assert [s.body["msgtype"] for s in fake.sent] == ["text"]
    await transport.send("zhangwei", payload)  # the worker's retry
    assert [s.body["msgtype"] for s in fake.sent] == ["text", "file"]


async def test_files_out_of_bounds_are_named_not_sent(fake, transport, tmp_path):
    tiny = tmp_path / "tiny.txt"
    tiny.write_bytes(b"12345")  # WeCom wants more than 5 bytes
    await transport.send("zhangwei", with_file("小文件", tiny, "tiny.txt"))
    assert fake.sent[-1].content == "小文件\n📎 tiny.txt"
    assert "media/upload" not in fake.calls
    assert local_file(Attachment("x", ref="AgADBAAD-telegram-file-id")) is None


async def test_the_fake_refuses_what_wecom_refuses(fake, transport):
    api = transport.api
    with pytest.raises(PermanentError, match="40006"):
        await api.upload_media("a.txt", b"12345")
    with pytest.raises(PermanentError, match="93000"):
        await api.upload_robot_media("wrong-key", "a.txt", PDF)
    with pytest.raises(PermanentError, match="40007"):
        await api.send_message({"touser": "zhangwei", "msgtype": "file", "file": {"media_id": "x"}})
    robot_media = await api.upload_robot_media(ROBOT_KEY, "a.txt", PDF)
    with pytest.raises(PermanentError, match="40007"):  # a robot's media is not the app's
        await api.send_message(
            {"touser": "zhangwei", "msgtype": "file", "file": {"media_id": robot_media}}
        )


async def test_a_file_people_sent_downloads_with_its_name(fake, transport):
    media_id = fake.media_from_user("现场照片 1.jpg", b"\xff\xd8\xff jpeg bytes", "image/jpeg")
    name, mime, data = await transport.api.download_media(media_id)
    assert (name, mime, data) == ("现场照片 1.jpg", "image/jpeg", b"\xff\xd8\xff jpeg bytes")
    fake.expire_tokens()
    assert (await transport.api.download_media(media_id))[2] == b"\xff\xd8\xff jpeg bytes"
    assert fake.rejected_tokens == 1
    fake.expire_media()
    with pytest.raises(PermanentError, match="40007"):
        await transport.api.download_media(media_id)


def test_the_media_cache_forgets_after_its_time_and_is_bounded():
    clock = Clock()
    cache = MediaCache(clock, ttl=10, capacity=2)
    files = []
    for n in range(3):
        files.append(type("F", (), {"digest": f"d{n}", "filename": "f"})())
        cache.put("app", files[-1], f"m{n}")
    assert cache.get("app", files[0]) is None  # pushed out by capacity
    assert cache.get("app", files[2]) == "m2" and cache.get("robot:x", files[2]) is None
    clock.t += 10
    assert cache.get("app", files[2]) is None


async def test_media_people_send_is_downloaded_once_and_kept_by_content(fake, transport, tmp_path):
    photo = b"\xff\xd8\xff\xe0 site photo"
    media_id = fake.media_from_user("ignored.jpg", photo, "image/jpeg")
    inbox = MediaInbox(transport.api, tmp_path / "media")
    event = to_incoming(parse_xml(media_xml("zhangwei", "image", media_id, "501")))
    assert event is not None and event.attachment is not None
    kept = await inbox.keep(event)
    assert kept.attachment is not None and kept.event_id == event.event_id
    path = Path(kept.attachment.ref)
    assert path.parent == tmp_path / "media"
    assert await asyncio.to_thread(path.read_bytes) == photo
    assert (kept.attachment.size, kept.attachment.mime_type) == (len(photo), "image/jpeg")
    assert (await inbox.keep(event)).attachment == kept.attachment  # a redelivery: same file
    assert len(list(path.parent.iterdir())) == 1
    # Once WeCom has forgotten the media (3 days), the MediaId stays and nothing breaks.
    fake.expire_media()
    late = to_incoming(parse_xml(media_xml("zhangwei", "voice", media_id, "502")))
    assert (await inbox.keep(late)).attachment.ref == media_id
