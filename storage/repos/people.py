"""People (人员), their accounts on each platform and their roles."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, or_, select, update

from domain.reach import Reach, reach_of
from storage.models import Account, Department, Person, PersonRole
from storage.repos._base import Repo

ROLES = ("enterprise", "butler", "specialist", "backup", "office", "leader")
STAFF_ROLES = ("butler", "specialist", "backup", "office", "leader")


class PeopleRepo(Repo):
    """One person, several accounts; roles optionally tied to a department."""

    async def get(self, person_id: int) -> Person | None:
        """The person with this id, or None."""
        return await self.session.get(Person, person_id)

    async def many(self, person_ids: list[int]) -> dict[int, Person]:
        """The persons with these ids, by id (one query)."""
        if not person_ids:
            return {}
        result = await self.session.execute(
            select(Person).where(self.one_of(Person.id, person_ids))
        )
        return {p.id: p for p in result.scalars()}

    async def by_account(self, platform: str, external_id: str) -> Person | None:
        """The person behind a platform account, or None for a stranger."""
        result = await self.session.execute(
            select(Person)
            .join(Account, Account.person_id == Person.id)
            .where(Account.platform == platform, Account.external_id == external_id)
        )
        return result.scalar_one_or_none()

    async def by_mobile(self, mobile: str) -> Person | None:
        """The (first) person with this mobile number, or None."""
        result = await self.session.execute(
            select(Person).where(Person.mobile == mobile).order_by(Person.id).limit(1)
        )
        return result.scalars().first()

    async def named(self, name_or_mobile: str) -> list[Person]:
        """Everyone with this name or this mobile number, by id."""
        result = await self.session.execute(
            select(Person)
            .where(or_(Person.name == name_or_mobile, Person.mobile == name_or_mobile))
            .order_by(Person.id)
        )
        return list(result.scalars())

    async def add(
        self,
        name: str,
        *,
        lang: str = "zh_CN",
        mobile: str | None = None,
        roles: Sequence[tuple[str, str | None]] = (),
        now: datetime,
    ) -> Person:
        """Create a person with ``roles`` given as ``(role, department code or None)``."""
        person = Person(name=name, lang=lang, mobile=mobile, active=True, created_at=now)
        self.session.add(person)
        await self.session.flush()
        for role, department_code in roles:
            await self.add_role(person.id, role, department_code)
        return person

    async def add_role(
        self,
        person_id: int,
        role: str,
        department_code: str | None = None,
        *,
        backup_of_id: int | None = None,
    ) -> PersonRole:
        """Give a person a role (idempotent); an unknown department code is a ValueError."""
        department_id = None
        if department_code is not None:
            department_id = await self._department_id(department_code)
        result = await self.session.execute(
            select(PersonRole).where(
                PersonRole.person_id == person_id,
                PersonRole.role == role,
                PersonRole.department_id.is_(None)
                if department_id is None
                else PersonRole.department_id == department_id,
            )
        )
        existing = result.unique().scalar_one_or_none()
        if existing is not None:
            if backup_of_id is not None and existing.backup_of_id != backup_of_id:
                existing.backup_of_id = backup_of_id
                await self.session.flush()
            return existing
        person_role = PersonRole(
            person_id=person_id, role=role, department_id=department_id, backup_of_id=backup_of_id
        )
        self.session.add(person_role)
        await self.session.flush()
        await self.session.refresh(person_role, ["department"])
        return person_role

    async def _department_id(self, code: str) -> int:
        result = await self.session.execute(select(Department.id).where(Department.code == code))
        department_id = result.scalar_one_or_none()
        if department_id is None:
            raise ValueError(f"unknown department code {code!r}")
        return department_id

    async def mark_unreachable(
        self, platform: str, external_id: str, now: datetime
    ) -> Person | None:
        """Mark the account unreachable; its person when this is news (not marked before)."""
        marked = await self.session.execute(
            update(Account)
            .where(
                Account.platform == platform,
                Account.external_id == external_id,
                Account.unreachable_since.is_(None),
            )
            .values(unreachable_since=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(marked, "rowcount", 0) != 1:
            return None
        return await self.by_account(platform, external_id)

    async def accounts_with_people(self, platform: str) -> list[tuple[Account, Person]]:
        """Every account on `platform` with its person, by account id."""
        result = await self.session.execute(
            select(Account, Person)
            .join(Person, Person.id == Account.person_id)
            .where(Account.platform == platform)
            .order_by(Account.id)
        )
        return [(account, person) for account, person in result.all()]

    async def add_account(
        self,
        person_id: int,
        platform: str,
        external_id: str,
        display_name: str | None,
        now: datetime,
    ) -> Account:
        """Link a platform account to a person."""
        account = Account(
            person_id=person_id,
            platform=platform,
            external_id=external_id,
            display_name=display_name,
            created_at=now,
        )
        self.session.add(account)
        await self.session.flush()
        return account

    async def accounts_of(self, person_id: int) -> list[Account]:
        """The person's accounts, oldest first."""
        result = await self.session.execute(
            select(Account).where(Account.person_id == person_id).order_by(Account.id)
        )
        return list(result.scalars())

    async def roles_of(self, person_id: int) -> list[PersonRole]:
        """The person's roles, each with ``department`` loaded (None for no department)."""
        result = await self.session.execute(
            select(PersonRole).where(PersonRole.person_id == person_id).order_by(PersonRole.id)
        )
        return list(result.unique().scalars())

    async def has_role(self, person_id: int, role: str) -> bool:
        """Whether the person holds ``role`` (in any department)."""
        result = await self.session.execute(
            select(exists().where(PersonRole.person_id == person_id, PersonRole.role == role))
        )
        return bool(result.scalar())

    async def set_lang(self, person_id: int, lang: str) -> None:
        """Remember the person's language (``zh_CN`` or ``en``)."""
        person = await self.session.get(Person, person_id)
        if person is None:
            raise LookupError(f"no person {person_id}")
        person.lang = lang
        await self.session.flush()

    async def set_enterprise(self, person_id: int, enterprise_id: int | None) -> None:
        """Record which enterprise the person acts for (an enterprise contact)."""
        person = await self.session.get(Person, person_id)
        if person is None:
            raise LookupError(f"no person {person_id}")
        person.enterprise_id = enterprise_id
        await self.session.flush()

    async def dm_account(
        self, person_id: int, prefer_platform: str | None = None
    ) -> Account | None:
        """Where to DM a person: their account on ``prefer_platform``, else the newest one;
        an account its platform refused (`mark_unreachable`) is never chosen."""
        order = (Account.created_at.desc(), Account.id.desc())
        usable = (Account.person_id == person_id, Account.unreachable_since.is_(None))
        if prefer_platform is not None:
            result = await self.session.execute(
                select(Account)
                .where(*usable, Account.platform == prefer_platform)
                .order_by(*order)
                .limit(1)
            )
            account = result.scalar_one_or_none()
            if account is not None:
                return account
        result = await self.session.execute(
            select(Account).where(*usable).order_by(*order).limit(1)
        )
        return result.scalar_one_or_none()

    async def dm_accounts(self, person_ids: list[int]) -> dict[int, Account]:
        """`dm_account` (no preferred platform) of many persons in one query."""
        if not person_ids:
            return {}
        result = await self.session.execute(
            select(Account)
            .where(self.one_of(Account.person_id, person_ids), Account.unreachable_since.is_(None))
            .order_by(Account.created_at.desc(), Account.id.desc())
        )
        out: dict[int, Account] = {}
        for account in result.scalars():
            out.setdefault(account.person_id, account)
        return out

    async def accounts_on(self, platform: str) -> list[tuple[int, str]]:
        """``(person id, account id)`` of every account on ``platform``."""
        result = await self.session.execute(
            select(Account.person_id, Account.external_id).where(Account.platform == platform)
        )
        return [(person_id, external_id) for person_id, external_id in result.all()]

    async def restore(self, person_id: int, *, name: str, lang: str) -> None:
        """Put a person back to a fresh start: this name and language, no mobile, no
        enterprise."""
        await self.session.execute(
            update(Person)
            .where(Person.id == person_id)
            .values(name=name, lang=lang, mobile=None, enterprise_id=None)
        )

    async def with_role(self, role: str, *, active_only: bool = True) -> list[Person]:
        """Everyone holding ``role`` (active people only unless told otherwise), by id."""
        stmt = select(Person).where(
            exists().where(PersonRole.person_id == Person.id, PersonRole.role == role)
        )
        if active_only:
            stmt = stmt.where(Person.active.is_(True))
        result = await self.session.execute(stmt.order_by(Person.id))
        return list(result.scalars())

    async def reach(self, person_ids: Sequence[int]) -> dict[int, Reach]:
        """Whether each person can be reached (`domain.reach`), in one query."""
        refused: dict[int, list[bool]] = {pid: [] for pid in person_ids}
        if person_ids:
            result = await self.session.execute(
                select(Account.person_id, Account.unreachable_since).where(
                    Account.person_id.in_(list(person_ids))
                )
            )
            for person_id, since in result.all():
                refused[person_id].append(since is not None)
        return {pid: reach_of(flags) for pid, flags in refused.items()}

    async def unreached_staff(self) -> list[tuple[Person, Reach, datetime | None]]:
        """Active staff (roster roles, not enterprise contacts) who cannot be reached:
        pending or unreachable, with since when (the last refusal), by name."""
        staff = select(PersonRole.person_id).where(PersonRole.role.in_(STAFF_ROLES))
        result = await self.session.execute(
            select(Person)
            .where(Person.active.is_(True), Person.id.in_(staff))
            .order_by(Person.name, Person.id)
        )
        people = list(result.scalars())
        reach = await self.reach([p.id for p in people])
        since = await self._refused_since([p.id for p in people])
        return [
            (p, reach[p.id], since.get(p.id))
            for p in people
            if reach[p.id] is not Reach.REACHABLE
        ]

    async def _refused_since(self, person_ids: Sequence[int]) -> dict[int, datetime]:
        result = await self.session.execute(
            select(Account.person_id, Account.unreachable_since).where(
                Account.person_id.in_(list(person_ids)), Account.unreachable_since.is_not(None)
            )
        )
        latest: dict[int, datetime] = {}
        for person_id, since in result.all():
            if since is not None and (person_id not in latest or since > latest[person_id]):
                latest[person_id] = since
        return latest

    async def refused_since(self, person_id: int) -> datetime | None:
        """When the platform last refused one of the person's accounts, or None."""
        return (await self._refused_since([person_id])).get(person_id)

    async def backups_of(self, person_id: int) -> list[Person]:
        """The active backups (候补) the roster names for a person, by id."""
        result = await self.session.execute(
            select(Person)
            .where(
                Person.active.is_(True),
                exists().where(
                    PersonRole.person_id == Person.id,
                    PersonRole.role == "backup",
                    PersonRole.backup_of_id == person_id,
                ),
            )
            .order_by(Person.id)
        )
        return list(result.scalars())

    async def clear_unreachable(self, platform: str, external_id: str) -> None:
        """The account wrote to us again: it is reachable (a refusal is forgotten)."""
        await self.session.execute(
            update(Account)
            .where(
                Account.platform == platform,
                Account.external_id == external_id,
                Account.unreachable_since.is_not(None),
            )
            .values(unreachable_since=None)
            .execution_options(synchronize_session=False)
        )


__all__ = ["ROLES", "STAFF_ROLES", "PeopleRepo"]
