"""Running numbers for codes (编号): project codes and service-card numbers."""

from __future__ import annotations

from sqlalchemy import update

from storage.models import CodeSequence
from storage.repos._base import Repo


class SequenceRepo(Repo):
    """Hands out the next number under a prefix, safely under concurrent transactions."""

    async def next(self, prefix: str, *, issued_before: int = 0) -> int:
        """The next number under ``prefix`` (1, 2, …). ``issued_before`` seeds a prefix seen
        for the first time with the numbers already in use (codes written before sequences
        existed). The row stays locked until the transaction ends: a concurrent caller
        waits for it and then takes the following number."""
        await self.insert_if_new(CodeSequence, {"prefix": prefix, "last": issued_before})
        result = await self.session.execute(
            update(CodeSequence)
            .where(CodeSequence.prefix == prefix)
            .values(last=CodeSequence.last + 1)
            .returning(CodeSequence.last)
        )
        return int(result.scalar_one())
