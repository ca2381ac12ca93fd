"""Daiban as a separate process (`daiban run`) with WeChat for the enterprise and WeCom for
the staff, against the fake WeChat platform and the fake WeCom server, over HTTP.

The contact follows the 服务号, asks, checks eligibility and applies with a photo of a
document; the office accepts on WeCom three days later, when WeChat no longer takes
customer-service messages: the acceptance reaches the contact as a template message, and
the full text when the contact writes again, in order; the butler starts 办结 and the
contact confirms it by tapping the menu message.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from handlers.i18n import gettext
from tests.fakes.fake_wechat import AES_KEY, APP_ID, APP_SECRET, TOKEN, Contact, FakeWeChat
from tests.fakes.fake_wecom import AES_KEY as WECOM_AES_KEY
from tests.fakes.fake_wecom import TOKEN as WECOM_TOKEN
from tests.fakes.fake_wecom import FakeWeCom, WeComSide, card_event_xml, text_xml
from tests.pg import pg_admin_url, scratch_pg_database
from tests.transports.test_wecom_end_to_end import daiban_env, free_port

TEMPLATES = {
    "accepted": "TPL-ACCEPTED",
    "materials": "TPL-MATERIALS",
    "completion": "TPL-COMPLETION",
    "rating": "TPL-RATING",
    "answer": "TPL-ANSWER",
}
ROSTER = """\
people:
  - {name: 刘芳, mobile: "13900000001", role: office}
  - {name: 李娜, mobile: "13900000002", role: butler}
"""
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def zh(msgid: str) -> str:
    return gettext("zh_CN", msgid)


@dataclass
class Deployment:
    process: subprocess.Popen[str]
    base: str
    wechat: FakeWeChat
    wecom: FakeWeCom
    codes: dict[str, str]

    async def until(self, check: Callable[[], bool], what: str) -> None:
        for _ in range(300):
            if check():
                return
            if self.process.poll() is not None:
                break
            await asyncio.sleep(0.05)
        self.process.kill()
        _, err = await asyncio.to_thread(self.process.communicate, timeout=10)
        pytest.fail(f"never happened: {what}\n--- daiban stderr ---\n{err[-6000:]}")


@pytest.fixture(params=BACKENDS)
async def database_url(request, tmp_path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'daiban.sqlite3'}"
        return
    async with scratch_pg_database(pg_admin_url(), "daiban_wechat_e2e") as url:
        yield url


def run_cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
async def deployment(tmp_path, database_url) -> AsyncIterator[Deployment]:
    wechat, wecom = FakeWeChat(templates=set(TEMPLATES.values())), FakeWeCom()
    await wechat.start()
    await wecom.start()
    port = free_port()
    env = daiban_env(database_url, wecom.url, port)
    del env["DAIBAN_WECOM_ROBOT_KEYS"]
    env.update(
        DAIBAN_WECHAT_APP_ID=APP_ID,
        DAIBAN_WECHAT_APP_SECRET=APP_SECRET,
        DAIBAN_WECHAT_TOKEN=TOKEN,
        DAIBAN_WECHAT_AES_KEY=AES_KEY,
        DAIBAN_WECHAT_API_URL=wechat.url,
        DAIBAN_WECHAT_TEMPLATES=",".join(f"{k}={v}" for k, v in TEMPLATES.items()),
        DAIBAN_OUTBOX_LEASE_SECONDS="5",
    )
    (tmp_path / "roster.yaml").write_text(ROSTER, encoding="utf-8")
    await asyncio.to_thread(run_cli, env, tmp_path, "db", "upgrade")
    await asyncio.to_thread(run_cli, env, tmp_path, "people", "import", "roster.yaml")
    codes = {}
    for name in ("刘芳", "李娜"):
        out = await asyncio.to_thread(run_cli, env, tmp_path, "people", "invite", name)
        codes[name] = re.search(r"/start (\S+)", out).group(1)  # type: ignore[union-attr]
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
        yield Deployment(process, base, wechat, wecom, codes)
    finally:
        if process.poll() is None:
            process.kill()
        await asyncio.to_thread(process.communicate, timeout=30)
        await wechat.stop()
        await wecom.stop()


class Enterprise:
    """The contact on WeChat: says, taps menu choices (or types #n), waits for answers."""

    def __init__(self, d: Deployment, openid: str) -> None:
        self.d = d
        self.openid = openid
        self.side = Contact(d.wechat, f"{d.base}/wechat/callback", openid, real_time=True)
        self.seen = 0

    def custom(self) -> list:
        return self.d.wechat.to(self.openid, "custom")

    async def answers(self, count: int = 1, what: str = "an answer") -> list[str]:
        """The messages that reached the contact since the last look (at least `count`)."""
        await self.d.until(lambda: len(self.d.wechat.to(self.openid)) >= self.seen + count, what)
        await asyncio.sleep(0.3)  # the rest of a reply split in parts
        new = self.d.wechat.to(self.openid)[self.seen :]
        self.seen += len(new)
        return [s.content for s in new]

    async def says(self, text: str, count: int = 1) -> list[str]:
        assert await self.side.say(text) == (200, "success")
        return await self.answers(count, f"the answer to {text!r}")

    async def taps(self, label: str, count: int = 1) -> list[str]:
        """Tap the choice whose label matches on the latest menu message, or, when the
        choices came as numbered options, answer its number: `#n` for a button, the bare
        number for a choice the form numbers itself (listed once, not twice)."""
        latest = self.custom()[-1].body
        if latest["msgtype"] == "text":
            # A long text comes in parts: the options may begin in an earlier one.
            text = "\n".join(
                s.body["text"]["content"] for s in self.custom()[-3:] if s.body["msgtype"] == "text"
            )
            options = {f"#{n}": o for n, o in re.findall(r"^#(\d+) (.+)$", text, re.M)}
            options |= {n: o for n, o in re.findall(r"^(\d+)\. (.+)$", text, re.M)}
            for number, option in options.items():
                if re.search(label, option):
                    return await self.says(number)
            pytest.fail(f"no option {label!r} in {options}")
        menus = [s.body for s in self.custom() if s.body["msgtype"] == "msgmenu"]
        for choice in menus[-1]["msgmenu"]["list"]:
            if re.search(label, choice["content"]):
                status = await self.side.tap(int(choice["id"]), choice["content"])
                assert status == (200, "success")
                return await self.answers(count, f"the answer to tapping {label!r}")
        pytest.fail(f"no choice {label!r} in {menus[-1]['msgmenu']['list']}")


class Staff:
    """A staff member on WeCom, pressing numbered options with #n."""

    def __init__(self, d: Deployment, userid: str) -> None:
        self.d = d
        self.userid = userid
        self.side = WeComSide(f"{d.base}/wecom/callback")
        self.ids = iter(range(10_000, 20_000))
        self.seen = 0

    async def says(self, text: str, count: int = 1) -> list[str]:
        xml = text_xml(self.userid, text, f"{self.userid}{next(self.ids)}")
        assert await self.side.post(xml) == (200, "success")
        await self.d.until(
            lambda: len(self.d.wecom.to(self.userid)) >= self.seen + count, f"WeCom: {text!r}"
        )
        await asyncio.sleep(0.3)
        new = self.d.wecom.to(self.userid)[self.seen :]
        self.seen += len(new)
        return [s.content for s in new]


async def test_an_enterprise_on_wechat_from_follow_to_completion(deployment):
    d = deployment
    zhang = Enterprise(d, "o-zhang-wechat")
    office, butler = Staff(d, "liufang"), Staff(d, "lina")
    # The staff bind their WeCom accounts with their invite codes.
    await office.says(f"/start {d.codes['刘芳']}")
    await butler.says(f"/start {d.codes['李娜']}")

    # Follow → the welcome, as a menu message; the account's menu was set from the scheme.
    assert await zhang.side.follow() == (200, "success")
    (welcome,) = await zhang.answers(what="the welcome")
    assert "重大项目全程代办" in welcome and "[中文] [English]" in welcome
    await d.until(lambda: d.wechat.menu is not None, "the account menu")
    assert [b["name"] for b in d.wechat.menu] == ["咨询", "办事", "我的项目"]

    # A consultation the FAQ answers.
    (answer,) = await zhang.says("哪些项目可以申请全程代办？")
    assert "10亿元以上" in answer

    # /check, answered step by step: within the scope.
    (question,) = await zhang.says("/check")
    assert "项目总投资是多少" in question
    await zhang.says("12亿元")
    await zhang.taps(f"^{zh('Yes')}$")
    (review,) = await zhang.taps(f"^{zh('No')}$")
    assert "总投资：12亿元" in review
    (verdict,) = await zhang.taps("提交")
    assert "符合服务范围" in verdict and "[申请代办服务]" in verdict

    # The application, with a photo of the filing form.
    (first_question,) = await zhang.taps(zh("Apply for the service"))
    assert "(1/12)" in first_question
    for text in ("北京运河建设有限公司", "91350100M000100Y43", "张伟", "13800138000", "运河大厦"):
        await zhang.says(text)
    (category,) = await zhang.says("12亿")
    assert "(7/12)" in category
    await zhang.taps("社会投资房建类")
    await zhang.says("运河商务区3号地块")
    await zhang.taps("立项阶段")
    await zhang.taps("代办类")
    await zhang.taps(zh("Done"))
    (documents,) = await zhang.says("2027-03-01")  # the first page of ten
    assert "\n1. 项目备案信息表\n" in documents  # listed once, answered with its number
    assert "#1 项目备案信息表" not in documents
    await zhang.taps("项目备案信息表")
    (ask_file,) = await zhang.taps(f"^{zh('Done')}$")
    assert "项目备案信息表" in ask_file
    assert await zhang.side.send_image(b"\xff\xd8\xff\xe0 a photo of the filing form") == (
        200,
        "success",
    )
    (review,) = await zhang.answers(what="the review")
    assert "项目备案信息表：image-" in review
    (submitted,) = await zhang.taps("提交")
    assert "A2026-0001" in submitted
    await d.until(lambda: len(d.wecom.to("liufang")) >= 2, "the office's notice")
    notice = d.wecom.to("liufang")[-1].content
    assert "A2026-0001" in notice and "运河大厦" in notice
    office.seen = len(d.wecom.to("liufang"))

    # Three days later WeChat no longer takes customer-service messages to the contact.
    d.wechat.advance(3 * 24 * 3600)
    accept = re.search(r"#(\d+) ✔ 受理$", notice, re.M)
    assert accept, notice
    (accepted,) = await office.says(f"#{accept.group(1)}")
    assert "P2026-0001" in accepted
    (template,) = await zhang.answers(what="the acceptance as a template message")
    sent = d.wechat.to(zhang.openid)[-1]
    assert sent.api == "template" and sent.body["template_id"] == "TPL-ACCEPTED"
    assert "申请已受理" in template and "A2026-0001" in template
    assert d.wechat.refused.count(("custom", 45015)) == 1  # once; then the store knew
    (waiting,) = await office.says("/waiting")
    assert "张伟 13800138000（微信）：1 条" in waiting and zhang.openid not in waiting

    # The contact writes again: what waited comes first, saying how many, then the answer.
    first, *rest = await zhang.says("/progress", 2)
    assert first.startswith("在对话关闭期间等您查收的消息：1 条") and "P2026-0001" in first
    assert "P2026-0001" in rest[-1]
    assert "没有待达消息" in (await office.says("/waiting"))[0]

    # The office assigns the butler; the butler starts 办结; the contact confirms by a tap.
    await office.says("/assign P2026-0001")
    card = d.wecom.to("liufang")[-1].body["template_card"]
    key = card["button_list"][0]["key"]
    press = card_event_xml("liufang", key, 1764000000, task_id=card["task_id"])
    assert await office.side.post(press) == (200, "success")
    await d.until(lambda: len(d.wecom.to("lina")) >= 2, "the butler's assignment")
    butler.seen = len(d.wecom.to("lina"))
    await butler.says("/complete P2026-0001 企业申请提前办结")
    summary = await zhang.answers(what="the completion summary")
    assert "请确认" in summary[-1] or "确认办结" in summary[-1]
    (confirmed,) = await zhang.taps(zh("✔ I confirm completion"))
    assert "P2026-0001 已确认办结" in confirmed

    # The account menu's 我的项目 is /progress.
    assert await zhang.side.click("/progress") == (200, "success")
    (progress,) = await zhang.answers(what="the progress from the menu")
    assert "P2026-0001" in progress

    assert d.wechat.violations == 1  # the one 45015 above; the quota was never breached
    assert d.wechat.token_requests == 1  # one token, kept in the store
    d.process.send_signal(signal.SIGTERM)
    _, err = await asyncio.to_thread(d.process.communicate, timeout=60)
    assert d.process.returncode == 0, err[-4000:]
    for secret in (AES_KEY, APP_SECRET, TOKEN, "TOKEN-", WECOM_AES_KEY, WECOM_TOKEN):
        assert secret not in err
