"""Job runs: "this cron job already ran for this slot", across restarts and replicas."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from storage.models import JobRun
from storage.repos._base import Repo


class JobRunRepo(Repo):
    """Claims of scheduler slots; only the first claimer of a slot runs the job."""

    async def claim(self, job: str, run_key: str, now: datetime) -> bool:
        """True only for the first claimer of ``(job, run_key)`` (insert-or-nothing)."""
        return await self.insert_if_new(JobRun, {"job": job, "run_key": run_key, "at": now})

    async def first_run_at(self) -> datetime | None:
        """When the first job ever ran here: the bot has been in service since then."""
        result = await self.session.execute(select(func.min(JobRun.at)))
        return result.scalar_one()


__all__ = ["JobRunRepo"]
