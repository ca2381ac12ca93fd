"""Daiban as a separate process (`daiban run`) against the fake WeCom server, over HTTP.

WeCom's side is played by `WeComSide`: encrypted, signed callbacks in; everything Daiban
answers must arrive at the fake's message/send or robot webhook.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from handlers.i18n import gettext
from storage.db import Database
from storage.uow import UnitOfWork
from tests.fakes.fake_wecom import (
    AES_KEY,
    AGENT_ID,
    CORP_ID,
    SECRET,
    TOKEN,
    FakeWeCom,
    WeComSide,
    card_event_xml,
    media_xml,
    robot_group_xml,
    text_xml,
)

ROOT = Path(__file__).resolve().parents[2]
ROBOT_KEY = "robot-key-team-a"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def daiban_env(db_url: str, fake_url: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAIBAN_")}
    env.update(
        DAIBAN_DATABASE_URL=db_url,
        DAIBAN_WECOM_CORP_ID=CORP_ID,
        DAIBAN_WECOM_AGENT_ID=str(AGENT_ID),
        DAIBAN_WECOM_SECRET=SECRET,
        DAIBAN_WECOM_TOKEN=TOKEN,
        DAIBAN_WECOM_AES_KEY=AES_KEY,
        DAIBAN_WECOM_API_URL=fake_url,
        DAIBAN_WECOM_ROBOT_KEYS=f"teamA={ROBOT_KEY}",
        DAIBAN_WEB_PORT=str(port),
        DAIBAN_LOG_LEVEL="INFO",
    )
    return env


async def wait_until(check: Callable[[], bool], process: subprocess.Popen, what: str) -> None:
    """Poll until `check()` holds; fail with Daiban's log when it never does."""
    for _ in range(300):
        if check():
            return
        if process.poll() is not None:
            break
        await asyncio.sleep(0.1)
    process.kill()
    _, err = await asyncio.to_thread(process.communicate, timeout=10)
    pytest.fail(f"never happened: {what}\n--- daiban stderr ---\n{err[-4000:]}")


@pytest.fixture
async def fake():
    server = FakeWeCom(robot_keys={ROBOT_KEY})
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def daiban(tmp_path, fake):
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'daiban.sqlite3'}"
    port = free_port()
    env = daiban_env(db_url, fake.url, port)
    upgrade = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    # Started from a thread and awaited from one: the fake WeCom runs on this event loop.
    process = await asyncio.to_thread(
        subprocess.Popen,
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if process.poll() is not None:
                    pytest.fail(f"daiban exited: {process.communicate()[1][-4000:]}")
                await asyncio.sleep(0.1)
        yield process, base, db_url
    finally:
        if process.poll() is None:
            process.kill()
        await asyncio.to_thread(process.communicate, timeout=30)


async def test_a_conversation_over_wecom(daiban, fake, tmp_path):
    process, base, db_url = daiban
    wecom = WeComSide(f"{base}/wecom/callback")

    def texts(user: str) -> list[str]:
        return [s.content for s in fake.to(user)]

    # URL verification, as when the callback is saved in the WeCom admin console.
    assert await wecom.verify_url("echo-1288432023552776189") == (200, "echo-1288432023552776189")

    # /start in Chinese (WeCom sends no language; the default applies): long text, so
    # the language buttons come as numbered options.
    assert await wecom.post(text_xml("zhangwei", "/start", "1001")) == (200, "success")
    await wait_until(lambda: len(texts("zhangwei")) == 1, process, "the /start reply")
    welcome = texts("zhangwei")[0]
    assert "重大项目全程代办" in welcome and "#1 中文" in welcome and "#2 English" in welcome

    # WeCom delivers the same MsgId again: acknowledged, not processed again.
    assert await wecom.post(text_xml("zhangwei", "/start", "1001")) == (200, "success")
    # A button press through the numbered fallback: #2 is "English".
    assert await wecom.post(text_xml("zhangwei", "#2", "1002")) == (200, "success")
    await wait_until(lambda: len(texts("zhangwei")) == 2, process, "the language reply")
    assert texts("zhangwei")[1] == "Language set to English."

    # A short question with buttons is a button card; pressing it is a template_card_event.
    assert await wecom.post(text_xml("zhangwei", "/lang", "1003")) == (200, "success")
    await wait_until(lambda: len(texts("zhangwei")) == 3, process, "the language card")
    card = fake.to("zhangwei")[2].body
    assert card["msgtype"] == "template_card"
    keys = [b["key"] for b in card["template_card"]["button_list"]]
    assert keys == ["lang:zh_CN", "lang:en"]
    task_id = card["template_card"]["task_id"]
    press = fake.press("zhangwei", task_id, "lang:zh_CN", create_time=1700000000)
    assert await wecom.post(press) == (200, "success")
    assert await wecom.post(press) == (200, "success")  # the same press redelivered
    await wait_until(lambda: len(texts("zhangwei")) == 4, process, "the card press reply")
    assert texts("zhangwei")[3] == gettext("zh_CN", "Language set to Chinese.")
    # The card closes: its buttons become the choice and who made it.
    await wait_until(lambda: len(fake.card_updates) == 1, process, "the card's update")
    assert fake.card_updates[0]["task_id"] == task_id
    assert fake.card_updates[0]["button"] == {"replace_name": "中文 · zhangwei"}
    # A second press on the closed card runs nothing and says so; an unknown card too.
    again = fake.press("zhangwei", task_id, "lang:en", create_time=1700000005)
    assert await wecom.post(again) == (200, "success")
    await wait_until(lambda: len(texts("zhangwei")) == 5, process, "the second press notice")
    assert "已由zhangwei处理（“中文”）" in texts("zhangwei")[4]
    old = card_event_xml("zhangwei", "lang:en", 1700000009, task_id="daiban-before-upgrade")
    assert await wecom.post(old) == (200, "success")
    await wait_until(lambda: len(texts("zhangwei")) == 6, process, "the old card notice")
    assert "这张卡片已失效" in texts("zhangwei")[5]
    assert len(fake.card_updates) == 1

    # Token refresh: every token expires at WeCom; the next reply still arrives.
    fake.expire_tokens()
    assert await wecom.post(text_xml("zhangwei", "/help", "1004")) == (200, "success")
    await wait_until(lambda: len(texts("zhangwei")) == 7, process, "a reply after expiry")
    assert fake.token_requests == 2 and fake.rejected_tokens >= 1

    # 45009: WeCom refuses once; the reply is retried and arrives, in order.
    fake.inject("message", 45009)
    assert await wecom.post(text_xml("zhangwei", "/cancel", "1005")) == (200, "success")
    assert await wecom.post(text_xml("zhangwei", "/help", "1006")) == (200, "success")
    await wait_until(lambda: len(texts("zhangwei")) == 9, process, "the retried replies")
    assert texts("zhangwei")[7] == gettext("zh_CN", "There is nothing to cancel.")
    assert texts("zhangwei")[8] == texts("zhangwei")[6]  # /help again
    assert not fake._inject  # the injected 45009 was really answered

    # The redelivered MsgId 1001 and the redelivered card press produced nothing more.
    assert sum(1 for t in texts("zhangwei") if "重大项目全程代办" in t) == 1

    # A group message through the robot webhook: "@代办 /help" in group teamA …
    group = robot_group_xml("teamA", "lina", "李娜", "@代办 /help", "CAEQgroup1")
    assert await wecom.post(group) == (200, "success")
    await wait_until(lambda: len(fake.to(ROBOT_KEY)) == 1, process, "the group reply")
    # … and a message with an @mention, queued as a flow would queue it.
    db = Database(db_url)
    async with UnitOfWork(db) as uow:
        await uow.outbox.enqueue(
            platform="wecom",
            chat_external_id="teamA",
            payload={
                "text": "请补充材料",
                "buttons": [],
                "mentions": [{"person_id": 1, "display_name": "李娜", "external_id": "lina"}],
                "attachment": None,
            },
            dedupe_key="test:mention:1",
            now=datetime.now(UTC),
        )
    await db.dispose()
    await wait_until(lambda: len(fake.to(ROBOT_KEY)) == 2, process, "the group mention")
    mention = fake.to(ROBOT_KEY)[1].body
    assert mention["msgtype"] == "text"
    assert mention["text"] == {"content": "请补充材料", "mentioned_list": ["lina"]}

    # A file queued for a member and for the robot's group is uploaded and sent as a file.
    archive = tmp_path / "P2026-0001.zip"
    archive.write_bytes(b"PK\x03\x04 an archive of the project")
    db = Database(db_url)
    async with UnitOfWork(db) as uow:
        for n, chat in enumerate(("lina", "teamA")):
            await uow.outbox.enqueue(
                platform="wecom",
                chat_external_id=chat,
                payload={
                    "text": "项目档案",
                    "buttons": [],
                    "mentions": [],
                    "attachment": {
                        "filename": "项目档案.zip",
                        "mime_type": "application/zip",
                        "size": 0,
                        "ref": str(archive),
                    },
                },
                dedupe_key=f"test:file:{n}",
                now=datetime.now(UTC),
            )
    await db.dispose()
    await wait_until(lambda: len(fake.to(ROBOT_KEY)) == 4, process, "the group's file")
    await wait_until(lambda: len(fake.to("lina")) == 2, process, "the member's file")
    for sent in (fake.to("lina")[1], fake.to(ROBOT_KEY)[3]):
        assert sent.body["msgtype"] == "file"
        media = fake.file_of(sent)
        assert (media.filename, media.data) == ("项目档案.zip", archive.read_bytes())
    assert [fake.file_of(s).owner for s in (fake.to("lina")[1], fake.to(ROBOT_KEY)[3])] == [
        "app",
        f"robot:{ROBOT_KEY}",
    ]

    # A photo someone sends is downloaded at once (media/get) and kept beside the store.
    photo = b"\xff\xd8\xff\xe0 a photo of the permit"
    media_id = fake.media_from_user("permit.jpg", photo, "image/jpeg")
    assert await wecom.post(media_xml("wangwu", "image", media_id, "1100")) == (200, "success")
    await wait_until(lambda: len(fake.to("wangwu")) == 1, process, "the answer to the photo")
    kept = list((tmp_path / "wecom-media").iterdir())
    assert [p.read_bytes() for p in kept] == [photo] and kept[0].name.endswith(".jpg")

    # Bad signature and a message encrypted for another corp: 403, logged, not processed.
    assert (await wecom.post(text_xml("zhangwei", "/help", "1090"), bad_signature=True))[0] == 403
    stranger = WeComSide(f"{base}/wecom/callback", corp_id="wwsomeoneelse0001")
    assert (await stranger.post(text_xml("zhangwei", "/help", "1091")))[0] == 403
    assert (await wecom.verify_url("x", bad_signature=True))[0] == 403

    assert fake.violations == 0
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.to_thread(process.communicate, timeout=60)
    assert process.returncode == 0, err[-4000:]
    assert err.count("WeCom callback refused") == 3
    assert AES_KEY not in err and TOKEN not in err and SECRET not in err
    assert len(texts("zhangwei")) == 9  # the refused messages were never handled


def test_a_missing_wecom_setting_stops_start_up_naming_it(tmp_path):
    env = daiban_env(f"sqlite+aiosqlite:///{tmp_path / 'd.sqlite3'}", "http://127.0.0.1:9", 9)
    del env["DAIBAN_WECOM_TOKEN"]
    kwargs = {"cwd": tmp_path, "env": env, "capture_output": True, "text": True, "timeout": 120}
    assert (
        subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], **kwargs).returncode == 0
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"], stdin=subprocess.DEVNULL, check=False, **kwargs
    )
    assert done.returncode == 2
    assert "DAIBAN_WECOM_TOKEN" in done.stderr and "Traceback" not in done.stderr
