"""Structured logs: every line names its chat and project when known; secrets never appear.

The in-process tests configure the real log setup (bot/logs.py) into a string and drive
the real app; the last test runs `daiban run` against the fake Bot API and fake WeCom on
PostgreSQL, with every secret set, and reads its whole output.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import shlex
from collections.abc import Callable, Iterator

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.logs import QUIET, configure_from_settings, configure_logging
from bot.transports.memory import MemoryTransport
from handlers.access import OnProject
from handlers.context import Ctx, Services
from reminders.jobs import Job
from reminders.morning import send_nudges
from reminders.round_slices import RoundSlices
from storage.uow import UnitOfWork
from tests.fakes.fake_bot_api import FakeBotApi
from tests.fakes.fake_wecom import AGENT_ID, CORP_ID, FakeWeCom, WeComSide, text_xml
from tests.observed import GROUP, group_event, new_app, seed_overdue_project
from tests.pg import pg_admin_url, scratch_pg_database
from tests.transports.conftest import DaibanProcess, wait_until_polling

Capture = Callable[..., io.StringIO]


@pytest.fixture
def capture() -> Iterator[Capture]:
    """Configure the real log setup into a string; the root logger is restored afterwards."""
    root = logging.getLogger()
    saved = list(root.handlers), root.level, {n: logging.getLogger(n).level for n in QUIET}

    def start(fmt: str = "text", settings: Settings | None = None) -> io.StringIO:
        stream = io.StringIO()
        if settings is not None:
            configure_from_settings(settings, stream)
        else:
            configure_logging("INFO", fmt, (), stream)  # type: ignore[arg-type]
        return stream

    yield start
    handlers, level, quiet = saved
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


def logfmt(line: str) -> dict[str, str]:
    """One logfmt line as a dict (quoted values unquoted)."""
    return dict(part.partition("=")[::2] for part in shlex.split(line))


async def test_a_group_event_logs_its_project_and_chat_on_every_line(tmp_path, capture):
    out = capture("text")
    app = await new_app(tmp_path, {"telegram": MemoryTransport("telegram")})
    seeded = await seed_overdue_project(app)

    @app.services.router.command("boom", scope=OnProject())
    async def boom(ctx: Ctx) -> None:
        project = ctx.project
        assert project is not None
        logging.getLogger("tests.boom").warning("about to fail in %s", project.name)
        raise RuntimeError("a handler bug")

    try:
        await app.handle(group_event("g1", "/boom"))
        await app.handle(group_event("g2", "/help"))  # the next event starts clean
        logging.getLogger("tests.after").warning("outside any event")
    finally:
        await app.close()
    lines = [logfmt(line) for line in out.getvalue().splitlines()]
    of_event = [line for line in lines if line.get("event") == "g1"]
    assert [line["logger"] for line in of_event] == ["tests.boom", "handlers.pipeline"]
    for line in of_event:
        assert line["project"] == str(seeded.project_id)
        assert line["project_code"] == "P2026-0042"
        assert line["chat"] == f"telegram:{GROUP}"
    assert of_event[0]["msg"] == "about to fail in 观测项目"
    assert of_event[1]["level"] == "ERROR" and "RuntimeError: a handler bug" in of_event[1]["exc"]
    [after] = [line for line in lines if line["logger"] == "tests.after"]
    assert "project" not in after and "chat" not in after and "event" not in after


async def test_reminder_lines_name_the_job_and_the_project(tmp_path, capture):
    out = capture("text")
    app = await new_app(tmp_path, {"telegram": MemoryTransport("telegram")})
    seeded = await seed_overdue_project(app)

    async def nudge_then_fail(services: Services, at) -> None:
        today = at.astimezone(services.timezone).date()
        async with UnitOfWork(services.db) as uow:
            items = await uow.due.running_due_by(today)
        slices = RoundSlices(services.db, today.isoformat())
        assert await slices.take()
        assert await send_nudges(services, slices, at, today, items) > 0
        raise RuntimeError("a bug after the nudges")

    probe = Job("probe", IntervalTrigger(minutes=1), nudge_then_fail)
    try:
        await app.run_job(probe)
    finally:
        await app.close()
    [failed] = [logfmt(line) for line in out.getvalue().splitlines()]
    assert failed["msg"] == "job probe failed"
    assert failed["job"] == "probe"
    assert failed["project"] == str(seeded.project_id)  # bound by the nudge loop
    assert "RuntimeError: a bug after the nudges" in failed["exc"]


class Broken:
    """A transport with a bug: every send raises an unexpected error."""

    platform = "telegram"

    async def send(self, chat_external_id: str, payload: dict) -> None:
        raise KeyError("a transport bug")


async def test_delivery_lines_name_their_chat_as_json(tmp_path, capture):
    out = capture("json")
    app = await new_app(tmp_path, {"telegram": Broken()})
    await seed_overdue_project(app)
    [tick] = [job for job in app.jobs if job.name == "tick"]
    try:
        await app.run_job(tick)
        await app.worker.run_once()
    finally:
        await app.close()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    errors = [line for line in lines if line["logger"] == "bot.outbox"]
    assert errors, lines
    chats = {line["chat"] for line in errors}
    assert f"telegram:{GROUP}" in chats and "telegram:tg-specialist" in chats
    for line in errors:
        assert line["level"] == "ERROR" and "KeyError" in line["exc"]
        assert "project" not in line  # a delivery lane is about a chat, not a project


TOKEN = "7312345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
AES_KEY = base64.b64encode(b"daiban-observability-test-key-32").decode().rstrip("=")
WECOM_SECRET = "wecom-App-Secret-5ce3b1"
WECOM_TOKEN = "cbToken-8841-Fz"
ROBOT_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DB_PASSWORD = "Pg-Pass-w0rd-4711"


async def test_secrets_are_masked_in_messages_and_tracebacks(capture):
    settings = Settings(
        database_url=f"postgresql+asyncpg://daiban:{DB_PASSWORD}@db.internal/daiban",
        telegram_token=TOKEN,
        wecom_corp_id=CORP_ID,
        wecom_secret=WECOM_SECRET,
        wecom_token=WECOM_TOKEN,
        wecom_aes_key=AES_KEY,
        wecom_robot_keys=f"teamA={ROBOT_KEY}",
    )
    out = capture(settings=settings)
    log = logging.getLogger("tests.leaky")
    log.error("POST https://api.telegram.org/bot%s/sendMessage failed", TOKEN)
    log.warning("connecting to %s", settings.database_url)
    try:
        raise ValueError(f"bad key {AES_KEY} for token {WECOM_TOKEN}")
    except ValueError:
        log.exception("callback crypto failed")
    # Secret-shaped values that are not in the settings: another bot's token, a WeCom
    # access token, a secret in a query string.
    log.warning("GET https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=zzTop99")
    log.warning("send?access_token=ACCESS-123456&debug=1 to bot9876543210:%s", "x" * 35)
    log.warning("robot https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=%s", ROBOT_KEY)
    text = out.getvalue()
    for secret in (TOKEN, AES_KEY, WECOM_SECRET, WECOM_TOKEN, ROBOT_KEY, DB_PASSWORD):
        assert secret not in text
    for leaked in ("zzTop99", "ACCESS-123456", "x" * 35):
        assert leaked not in text
    lines = [logfmt(line) for line in text.splitlines()]
    assert [line["msg"] for line in lines] == [
        "POST https://api.telegram.org/bot***/sendMessage failed",
        "connecting to postgresql+asyncpg://daiban:***@db.internal/daiban",
        "callback crypto failed",
        "GET https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=***",
        "send?access_token=***&debug=1 to bot***",
        "robot https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***",
    ]
    assert "ValueError: bad key *** for token ***" in lines[2]["exc"]


async def test_a_running_daiban_never_logs_its_secrets(tmp_path):
    """`daiban run` (python-telegram-bot, whose HTTP library logs every request URL at
    INFO) on PostgreSQL with a password, Telegram and WeCom configured: start-up,
    conversations, a refused callback, a transient and a permanent delivery failure;
    then the whole output."""
    admin = pg_admin_url()
    bot_api = FakeBotApi(token=TOKEN)
    wecom = FakeWeCom(secret=WECOM_SECRET, robot_keys={ROBOT_KEY})
    await bot_api.start()
    await wecom.start()
    async with scratch_pg_database(admin) as url:
        db_url = make_url(url).set(password=DB_PASSWORD).render_as_string(hide_password=False)
        daiban = DaibanProcess(
            tmp_path,
            bot_api,
            "ptb",
            DAIBAN_DATABASE_URL=db_url,
            DAIBAN_WECOM_CORP_ID=CORP_ID,
            DAIBAN_WECOM_AGENT_ID=str(AGENT_ID),
            DAIBAN_WECOM_SECRET=WECOM_SECRET,
            DAIBAN_WECOM_TOKEN=WECOM_TOKEN,
            DAIBAN_WECOM_AES_KEY=AES_KEY,
            DAIBAN_WECOM_API_URL=wecom.url,
            DAIBAN_WECOM_ROBOT_KEYS=f"teamA={ROBOT_KEY}",
        )
        try:
            await asyncio.to_thread(daiban.upgrade)
            daiban.start()
            await wait_until_polling(bot_api, daiban)
            user = bot_api.user(501, "王")
            await bot_api.push_text(user, "/start")
            await bot_api.wait_for(lambda: bot_api.sent_to(501))
            callback = WeComSide(
                f"http://127.0.0.1:{daiban.web_port}/wecom/callback",
                token=WECOM_TOKEN,
                aes_key=AES_KEY,
            )
            assert (await callback.post(text_xml("zhangwei", "/help", "m1")))[0] == 200
            refused = await callback.post(text_xml("zhangwei", "/help", "m2"), bad_signature=True)
            assert refused[0] == 403
            wecom.inject("message", 500)  # a reply fails once (transient) …
            assert (await callback.post(text_xml("lisi", "/help", "m3")))[0] == 200
            bot_api.blocked.add(502)  # … and one for good (the user blocked the bot)
            await bot_api.push_text(bot_api.user(502, "李"), "/start")
            await bot_api.wait_for(lambda: "failed permanently" in daiban.output(), within=30)
        finally:
            await asyncio.to_thread(daiban.stop)
            await bot_api.stop()
            await wecom.stop()
    output = daiban.output()
    for secret in (TOKEN, AES_KEY, WECOM_SECRET, WECOM_TOKEN, ROBOT_KEY, DB_PASSWORD):
        assert secret not in output
    # The paths above really logged: start-up, the refused callback, the failed delivery.
    assert "WeCom: callback at /wecom/callback" in output
    assert "WeCom callback refused" in output
    assert "failed permanently" in output and "retry in" in output
    log_lines = [line for line in output.splitlines() if line.startswith("time=")]
    assert log_lines and all("level=" in line and "logger=" in line for line in log_lines)
