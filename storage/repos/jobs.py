"""Job runs: "this cron job already ran for this slot", across restarts and replicas."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, or_, select, update

from storage.models import JobRun
from storage.repos._base import Repo


class JobRunRepo(Repo):
    """Claims of scheduler slots; only the first claimer of a slot runs the job."""

    async def claim(self, job: str, run_key: str, now: datetime) -> bool:
        """True only for the first claimer of ``(job, run_key)`` (insert-or-nothing)."""
        return await self.insert_if_new(JobRun, {"job": job, "run_key": run_key, "at": now})

    async def ran(self, job: str, run_key: str) -> bool:
        """Whether ``(job, run_key)`` has been claimed."""
        row = await self.session.execute(
            select(JobRun.job).where(JobRun.job == job, JobRun.run_key == run_key)
        )
        return row.first() is not None

    async def hold(
        self, job: str, run_key: str, holder: str, wall: datetime, silent_since: datetime
    ) -> bool:
        """Take the lease ``(job, run_key)`` for ``holder``: when nobody holds it, when it
        is already ``holder``'s, or when its holder has not renewed it since
        ``silent_since`` (real time). True when ``holder`` holds it now."""
        values = {"job": job, "run_key": run_key, "at": wall, "holder": holder}
        if await self.insert_if_new(JobRun, values):
            return True
        result = await self.session.execute(
            update(JobRun)
            .where(
                JobRun.job == job,
                JobRun.run_key == run_key,
                or_(JobRun.holder == holder, JobRun.at < silent_since),
            )
            .values(holder=holder, at=wall)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def renew(self, job: str, run_key: str, holder: str, wall: datetime) -> bool:
        """Renew ``holder``'s lease; False when another holder has taken it over."""
        result = await self.session.execute(
            update(JobRun)
            .where(JobRun.job == job, JobRun.run_key == run_key, JobRun.holder == holder)
            .values(at=wall)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def let_go(self, job: str, run_key: str, holder: str) -> None:
        """Give the lease up (the work is done, or failed and may be retried at once)."""
        await self.session.execute(
            delete(JobRun).where(
                JobRun.job == job, JobRun.run_key == run_key, JobRun.holder == holder
            )
        )

    async def first_run_at(self) -> datetime | None:
        """When the first job ever ran here: the bot has been in service since then."""
        result = await self.session.execute(
            select(func.min(JobRun.at)).where(JobRun.holder.is_(None))
        )
        return result.scalar_one()


__all__ = ["JobRunRepo"]
