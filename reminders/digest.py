"""The digest job (每日简报推送): at the scheme's digest time on working days, once.

The slot is claimed in `job_runs` with the date as run key, in the same transaction as
the messages (each also keyed ``digest:DATE:uPERSON``): a restart at the digest minute,
a catch-up and the cron job can all ask, and each leader still gets one digest.
"""

from __future__ import annotations

from datetime import datetime

from handlers.context import Services
from handlers.digest import render_digest
from handlers.digest_facts import gather_facts
from handlers.i18n import LANGS, normalize_lang
from handlers.postman import Postman
from storage.uow import UnitOfWork

DIGEST_JOB = "digest"


async def send_digests(services: Services, at: datetime) -> bool:
    """Send today's digest to every leader (if a working day and not yet sent)."""
    today = at.astimezone(services.timezone).date()
    if not services.calendar.is_workday(today):
        return False
    async with UnitOfWork(services.db) as uow:
        if not await uow.jobs.claim(DIGEST_JOB, today.isoformat(), at):
            return False
        post = Postman(uow, at, f"digest:{today.isoformat()}")
        leaders = await uow.people.with_role("leader")
        # The digest depends on the day and the language only: one reading of the store,
        # kept, so `/digest DATE` later shows the day as it stood.
        facts = await gather_facts(uow, services, today)
        await uow.digests.keep(today, facts, at)
        built = {lang: render_digest(facts, lang, services.scheme) for lang in LANGS}
        for leader in leaders:
            message = built[normalize_lang(leader.lang)]
            await post.to_person(leader.id, message, f"u{leader.id}")
    return True
