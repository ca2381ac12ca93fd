"""Departments (审批部门), known by their stable code."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Department
from storage.repos._base import Repo


class DepartmentRepo(Repo):
    """Look up and idempotently create departments."""

    _names: dict[int, tuple[str, str]] | None = None

    async def name(self, department_id: int, lang: str) -> str | None:
        """The department's name in ``lang`` (Chinese unless ``en``); None if unknown.

        The first call of a unit of work reads every department (a few dozen rows) and
        keeps their names for the rest of it: digests, rounds and reports name the same
        departments line after line, and a department object that nothing holds drops out
        of the session's weak identity map, so each line used to reload it.
        """
        if self._names is None:
            rows = await self.session.execute(
                select(Department.id, Department.name_zh, Department.name_en)
            )
            self._names = {int(i): (zh, en) for i, zh, en in rows}
        names = self._names.get(department_id)
        if names is None:
            return None
        return names[1] if lang == "en" else names[0]

    async def by_code(self, code: str) -> Department | None:
        """The department with this code, or None."""
        result = await self.session.execute(select(Department).where(Department.code == code))
        return result.scalar_one_or_none()

    async def ensure(self, code: str, name_zh: str, name_en: str) -> Department:
        """The department with this code, created or renamed to match (idempotent)."""
        department = await self.by_code(code)
        if department is None:
            await self.insert_if_new(
                Department, {"code": code, "name_zh": name_zh, "name_en": name_en}
            )
            department = await self.by_code(code)
            assert department is not None
        if (department.name_zh, department.name_en) != (name_zh, name_en):
            department.name_zh, department.name_en = name_zh, name_en
            await self.session.flush()
        self._names = None  # renamed or new: read the names again when next asked
        return department

    async def all(self) -> list[Department]:
        """Every department, by code."""
        result = await self.session.execute(select(Department).order_by(Department.code))
        return list(result.scalars())


__all__ = ["DepartmentRepo"]
