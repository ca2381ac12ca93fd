"""The daily rounds (每日催办与调度) and catch-up after downtime.

Time lives in the database (DESIGN decision 2): every tick asks the store whether today's
round has run (a `JobRun` claim keyed by the date) and, once the scheme's nudge time has
come in working hours on a working day, runs it: one indexed scan of items due by the
horizon, nudges, and the ladder. The claim and every message commit in one transaction,
in slices under one lease (reminders/round_slices.py): a crash resumes the round, and
the dedupe keys keep each message single.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import date, datetime

from handlers.context import Services
from reminders.digest import DIGEST_JOB, send_digests
from reminders.ladder import ladder_round
from reminders.morning import send_nudges
from reminders.round_slices import ROUND_JOB, RoundLost, RoundSlices
from reminders.stalled_forms import in_working_hours
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


def round_is_due(services: Services, at: datetime) -> bool:
    """In working hours on a working day, at or after the scheme's nudge time."""
    local = at.astimezone(services.timezone)
    return in_working_hours(services, at) and local.time() >= services.scheme.reminders.nudge_time


async def daily_round(services: Services, at: datetime) -> bool:
    """Run today's nudges and ladder once; True when this call ran them."""
    if not round_is_due(services, at):
        return False
    today = at.astimezone(services.timezone).date()
    slices = RoundSlices(services.db, today.isoformat(), services.round_silent)
    if not await slices.take():
        return False
    try:
        async with slices.slice() as uow:
            horizon = services.calendar.add_workdays(
                today, services.scheme.reminders.before_due_workdays
            )
            items = await uow.due.running_due_by(horizon)
        # The ladder first, so that the morning message lists today's problems too.
        await ladder_round(services, slices, at, today, [i for i in items if i.due_on < today])
        await send_nudges(services, slices, at, today, items)
        await slices.finish(at)
    except RoundLost:
        log.warning("the round of %s was taken over by another worker; stopped here", today)
        return False
    except BaseException:
        with contextlib.suppress(Exception):
            await slices.let_go()  # the next tick resumes it at once
        raise
    log.info("the round of %s ran in %d slices", today, slices.slices)
    return True


async def catch_up(services: Services, now: datetime) -> None:
    """After downtime: today's missed digest and round go out now if still the same working
    day; a missed digest of an earlier day is stale and only logged. Safe to call often."""
    await catch_up_digest(services, now)
    await daily_round(services, now)


async def catch_up_digest(services: Services, now: datetime) -> bool:
    """Send today's digest if its time has passed in today's working hours and it has not
    gone out yet; log (once) a missed previous day's digest as skipped."""
    local = now.astimezone(services.timezone)
    today, calendar = local.date(), services.calendar
    await _log_stale(services, now, calendar.add_workdays(today, -1))
    if not calendar.is_workday(today):
        return False
    reports = services.scheme.reports
    if local.time() < reports.digest_time:
        return False
    if local.time() >= services.scheme.reminders.working_hours.end:
        return False  # after hours the morning digest is stale too
    return await send_digests(services, now)


async def _log_stale(services: Services, now: datetime, day: date) -> None:
    async with UnitOfWork(services.db) as uow:
        ran = not await uow.jobs.claim(DIGEST_JOB, day.isoformat(), now)
        if ran:
            await uow.rollback()
            return
        # Nobody sent that day's digest; the claim above marks it done so it never goes
        # out late, and this line is logged once.
        log.warning("digest of %s was missed while the bot was down; skipped as stale", day)


__all__ = ["ROUND_JOB", "catch_up", "catch_up_digest", "daily_round", "round_is_due"]
