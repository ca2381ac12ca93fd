"""One-time codes (邀请码): bind a person's account, or a group chat to a project."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, or_, select, update

from storage.models import CodeAttempt, Invite
from storage.repos._base import Repo

# `used_by` of a code a newer one replaced: never used, no longer valid (撤销).
REVOKED = "revoked"


class InviteRepo(Repo):
    """Issue codes and take them back exactly once."""

    async def add(
        self,
        *,
        code: str,
        kind: str,
        now: datetime,
        person_id: int | None = None,
        project_id: int | None = None,
        enterprise_id: int | None = None,
        created_by_id: int | None = None,
        expires_at: datetime | None = None,
    ) -> Invite:
        """Store a new code of ``kind`` "person", "group" or "contact"."""
        invite = Invite(
            code=code,
            kind=kind,
            person_id=person_id,
            project_id=project_id,
            enterprise_id=enterprise_id,
            created_by_id=created_by_id,
            created_at=now,
            expires_at=expires_at,
        )
        self.session.add(invite)
        await self.session.flush()
        return invite

    async def by_code(self, code: str, *, for_update: bool = False) -> Invite | None:
        """The invite with this code (codes are stored upper-case), or None."""
        stmt = select(Invite).where(Invite.code == code.strip().upper())
        if for_update and self.dialect == "postgresql":
            stmt = stmt.with_for_update()
        result = await self.session.execute(stmt)
        return result.scalar_one_or_none()

    async def exists(self, code: str) -> bool:
        """Whether a code was ever issued (to avoid handing out the same one twice)."""
        return await self.by_code(code) is not None

    async def use(self, invite: Invite, *, now: datetime, used_by: str) -> None:
        """Mark the code used by ``platform:external id``."""
        invite.used_at = now
        invite.used_by = used_by[:200]
        await self.session.flush()

    async def wrong_attempts(
        self, platform: str, external_id: str, *, since: datetime
    ) -> list[datetime]:
        """When this account typed a wrong code after ``since``, oldest first."""
        result = await self.session.execute(
            select(CodeAttempt.at)
            .where(
                CodeAttempt.platform == platform,
                CodeAttempt.external_id == external_id,
                CodeAttempt.at > since,
            )
            .order_by(CodeAttempt.at)
        )
        return list(result.scalars())

    async def record_wrong(
        self, platform: str, external_id: str, *, now: datetime, forget_before: datetime
    ) -> None:
        """Count one wrong code for the account; its attempts before ``forget_before`` go."""
        await self.session.execute(
            delete(CodeAttempt).where(
                CodeAttempt.platform == platform,
                CodeAttempt.external_id == external_id,
                CodeAttempt.at < forget_before,
            )
        )
        self.session.add(CodeAttempt(platform=platform, external_id=external_id[:128], at=now))
        await self.session.flush()

    async def forget_attempts_on(self, platform: str) -> int:
        """Delete the wrong-code counts of every account on ``platform`` (emulator reset)."""
        result = await self.session.execute(
            delete(CodeAttempt).where(CodeAttempt.platform == platform)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def revoke_person_codes(self, person_id: int, *, now: datetime) -> int:
        """Take back the person's unused codes still valid (a new one replaces them);
        how many were revoked."""
        result = await self.session.execute(
            update(Invite)
            .where(
                Invite.kind == "person",
                Invite.person_id == person_id,
                Invite.used_at.is_(None),
                Invite.used_by.is_(None),
                or_(Invite.expires_at.is_(None), Invite.expires_at > now),
            )
            .values(expires_at=now, used_by=REVOKED)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def last_person_codes(self, person_ids: list[int]) -> dict[int, datetime]:
        """When each person was last given a code (people never given one are absent)."""
        if not person_ids:
            return {}
        result = await self.session.execute(
            select(Invite.person_id, func.max(Invite.created_at))
            .where(Invite.kind == "person", Invite.person_id.in_(person_ids))
            .group_by(Invite.person_id)
        )
        return {int(pid): at for pid, at in result.all() if pid is not None}


__all__ = ["REVOKED", "InviteRepo"]
