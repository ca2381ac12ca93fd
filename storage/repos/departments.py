"""Departments (审批部门), known by their stable code."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Department
from storage.repos._base import Repo


class DepartmentRepo(Repo):
    """Look up and idempotently create departments."""

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
        return department

    async def all(self) -> list[Department]:
        """Every department, by code."""
        result = await self.session.execute(select(Department).order_by(Department.code))
        return list(result.scalars())


__all__ = ["DepartmentRepo"]
