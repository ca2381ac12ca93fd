"""`daiban people sync wecom [--apply]`: the roster against the WeCom directory (名册同步)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import ConfigError, Settings
from bot.roster_sync import apply, propose, report
from bot.transports.base import PermanentError, TransientError
from bot.transports.wecom_client import PLATFORM, WeComApi
from bot.transports.wecom_directory import read_directory
from bot.transports.wecom_settings import check_settings
from bot.transports.wecom_state import StoreState
from domain.scheme import Scheme
from storage.db import Database


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


__all__ = ["sync_command"]
