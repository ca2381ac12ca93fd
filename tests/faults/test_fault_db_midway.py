"""The database connection lost in the middle of handling an event (处理中断线).

The 30-second outage test cuts the line while Daiban is idle, so every event meets a
database that cannot be opened (`StorageError`, answered 5xx). Here the line goes down
after the handler's transaction has begun: nothing of it commits, so the event must not
be acknowledged either, or the platform never delivers it again and it is lost.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bot.app import build_services
from bot.config import load_settings
from handlers.chat import Incoming, Sender
from handlers.pipeline import handle
from storage.db import Database, StorageError
from tests.faults.harness import scalar
from tests.faults.tcp_proxy import TcpProxy


def start_from(user: str, event_id: str) -> Incoming:
    return Incoming(
        event_id=event_id,
        sender=Sender("telegram", user, "断线用户", "zh-hans"),
        chat_id=user,
        text="/start",
        command="start",
    )


async def test_a_connection_lost_inside_the_handler_leaves_the_event_unacknowledged(
    pg_url: str, db: Database
):
    url = make_url(pg_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    via_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    services = build_services(load_settings(database_url=via_proxy))

    def cut_at_the_inbound_record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "inbound_events" in statement and proxy.up:
            proxy.cut()  # the transaction has begun; the next statement hits a dead line

    event.listen(services.db.engine.sync_engine, "before_cursor_execute", cut_at_the_inbound_record)
    try:
        with pytest.raises(StorageError):
            await handle(start_from("940001", "77001"), services)
        event.remove(
            services.db.engine.sync_engine, "before_cursor_execute", cut_at_the_inbound_record
        )
        proxy.restore()
        # Redelivered once the database is back: handled now, exactly once.
        assert await handle(start_from("940001", "77001"), services) is True
        assert await handle(start_from("940001", "77001"), services) is False
    finally:
        await services.db.dispose()
        await proxy.stop()
    replies = "SELECT count(*) FROM outbox WHERE source_event_id = '77001'"
    assert await scalar(db, replies) >= 1
    apologies = "SELECT count(*) FROM outbox WHERE dedupe_key LIKE :key"
    assert await scalar(db, apologies, key="in:%:error") == 0
