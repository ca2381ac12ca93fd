"""`daiban people sync wecom [--apply]`: the roster against the WeCom directory (名册同步)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from apscheduler.triggers.cron import CronTrigger

from bot.config import ConfigError, Settings
from bot.roster_sync import apply, propose, report
from bot.transports.base import PermanentError, TransientError
from bot.transports.host import TransportHost
from bot.transports.wecom_client import PLATFORM, WeComApi
from bot.transports.wecom_directory import read_directory
from bot.transports.wecom_settings import check_settings
from bot.transports.wecom_state import StoreState
from domain.scheme import Scheme
from handlers.chat import Outgoing
from handlers.context import Services
from handlers.i18n import N_, gettext
from reminders.jobs import Job, JobFunc
from storage.db import Database
from storage.uow import UnitOfWork


async def sync_command(
    settings: Settings, db: Database, scheme: Scheme, target: str, *, apply_changes: bool
) -> int:
    """List (or apply) what the directory changes in the roster; the exit status."""
    if target != PLATFORM:
        print(f"daiban: cannot sync the roster with {target!r}; known: {PLATFORM}")
        return 2
    if not settings.wecom_corp_id:
        print("daiban: DAIBAN_WECOM_CORP_ID must be set to read the WeCom directory.")
        return 2
    try:
        agent_id, secret, *_ = check_settings(settings)
    except ConfigError as exc:
        print(f"daiban: {exc}")
        return 2
    api = WeComApi(
        settings.wecom_api_url, settings.wecom_corp_id, secret, agent_id, tokens=StoreState(db)
    )
    try:
        entries = await read_directory(api)
    except (TransientError, PermanentError) as exc:
        print(f"daiban: the WeCom directory could not be read: {exc}")
        return 1
    finally:
        await api.close()
    proposal = await propose(db, scheme, PLATFORM, entries)
    for line in report(proposal):
        print(line)
    if apply_changes and not proposal.empty:
        done = await apply(db, PLATFORM, proposal, datetime.now(UTC), groups=True)
        print(
            f"applied: {done['linked']} linked, {done['left']} left, "
            f"{done['items_moved']} items to backups, {done['items_orphaned']} without backup"
        )
    elif not proposal.empty:
        print("nothing changed; run again with --apply to apply the link and left lines")
    return 0


DIRECTORY_NOTICE = N_(
    "The WeCom directory differs from the roster.\nLeft: {left}\nNot on the roster yet: "
    "{unknown}\nSame mobile, to link: {link}\nMoved department: {moved}\nTo apply the "
    "links and departures: daiban people sync wecom --apply"
)


def directory_job(api: WeComApi) -> JobFunc:
    """The nightly check: tell the office what the directory changes, once per change."""

    async def check(services: Services, at: datetime) -> None:
        entries = await read_directory(api)
        proposal = await propose(services.db, services.scheme, PLATFORM, entries)
        if proposal.empty:
            return
        names = {
            "left": "、".join(p.name for p in proposal.leaving) or "—",
            "unknown": "、".join(e.name for e in proposal.unknown) or "—",
            "link": "、".join(e.name for e, _ in proposal.link) or "—",
            "moved": "、".join(f"{p.name} ({a} → {b})" for p, a, b in proposal.moves) or "—",
        }
        digest = hashlib.sha256(repr(sorted(names.items())).encode()).hexdigest()[:16]
        async with UnitOfWork(services.db) as uow:
            for person in await uow.people.with_role("office"):
                account = await uow.people.dm_account(person.id, prefer_platform=PLATFORM)
                if account is None:
                    continue
                text = gettext(person.lang, DIRECTORY_NOTICE).format(**names)
                await uow.outbox.enqueue(
                    platform=account.platform,
                    chat_external_id=account.external_id,
                    payload=Outgoing(text).to_payload(),
                    dedupe_key=f"directory:{PLATFORM}:{digest}:{person.id}",  # once per change
                    now=at,
                    person_id=person.id,
                )

    return check


def add_directory_job(app: TransportHost, settings: Settings, api: WeComApi) -> None:
    """The nightly directory check, when `DAIBAN_WECOM_DIRECTORY_CHECK` is on (02:40)."""
    if settings.wecom_directory_check:
        trigger = CronTrigger(hour=2, minute=40, timezone=app.services.timezone)
        app.jobs.append(Job("wecom_directory", trigger, directory_job(api)))


__all__ = ["add_directory_job", "directory_job", "sync_command"]
