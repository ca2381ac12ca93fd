"""The staff roster (人员名册) the office imports: ``daiban people import FILE``.

`domain/roster_table.py` reads the file (title rows, the office's own headers); this
module checks each row and resolves backups:

=========  ===========================================  ================================
column     headers (strong, then weak)                  value
=========  ===========================================  ================================
name       姓名 / name                                  required
mobile     手机号码 / 手机 / mobile, then 联系方式 / 电话   required, a mainland mobile
role       代办角色 / 角色 / role, then 岗位 / 职务        one or more roles, separated by
                                                        、 , ， ; ；
department 部门 / department, then 所在单位 / 单位        scheme department (id, Chinese or
                                                        English name); required for
                                                        specialists and backups only
backup_of  备份对象 / 备份 / backup_of                    the person (name or mobile) this
                                                        one stands in for: a row of the
                                                        file or someone already on the
                                                        roster; implies the backup role
=========  ===========================================  ================================

Roles are the six role ids or their names: the scheme's local names in either language
(``执行组办公室（区重大项目中心）`` also as ``执行组办公室`` or ``区重大项目中心``), then the
common ones (项目管家, 服务专员, 候补, 办公室, 领导, 企业联系人, …). The office, butler and
leader need no department: the unit they write (the office's own) is accepted as it is.

Bad rows never raise: each problem is a `RowError` (row, column, code, detail); a
*warning* (an unknown word beside a known role) keeps the row, an error refuses it. Row
numbers are what the office sees: the spreadsheet row or, for YAML, the entry's position.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, cast, get_args

from domain.identifiers import validate_mobile
from domain.roster_table import COLUMNS, RosterError, Row, read_table
from domain.scheme import Department, Label, RoleId, Roles

__all__ = [
    "COLUMNS",
    "ROLE_IDS",
    "KnownPerson",
    "RosterEntry",
    "RosterError",
    "RosterResult",
    "RowError",
    "label_names",
    "parse_roster",
    "parse_roster_bytes",
]

ROLES_WITH_DEPARTMENT = ("specialist", "backup")

_ROLE_WORDS: Mapping[str, RoleId] = {
    **dict.fromkeys(
        (
            "企业联系人",
            "建设主体联络人",
            "联络人",
            "项目单位",
            "企业",
            "enterprise",
            "enterprise_contact",
            "contact",
        ),
        "enterprise",
    ),
    **dict.fromkeys(("项目管家", "管家", "代办长", "首席服务官", "butler"), "butler"),
    **dict.fromkeys(("服务专员", "专员", "代办员", "首席代表", "specialist"), "specialist"),
    **dict.fromkeys(
        ("候补", "候补代办员", "候补专员", "备份", "备份人员", "backup", "backup_specialist"),
        "backup",
    ),
    **dict.fromkeys(
        ("办公室", "专班办公室", "执行组办公室", "服务室", "专窗", "帮办代办专窗", "office"),
        "office",
    ),
    **dict.fromkeys(("领导", "区领导", "专班组长", "leader"), "leader"),
}

_ROLE_SEPARATORS = re.compile(r"[、,，;；/|\n]+")
ROLE_IDS = cast(tuple[RoleId, ...], get_args(RoleId))


@dataclass(frozen=True)
class RowError:
    """One problem of one row: `column` is an English column name ("" for the whole row);
    a `warning` leaves the row imported."""

    row: int
    column: str
    code: str
    detail: Mapping[str, str] = field(default_factory=dict)
    warning: bool = False


@dataclass(frozen=True)
class RosterEntry:
    """One valid person of the roster; `backup_of` is the mobile of the person backed up."""

    row: int
    name: str
    mobile: str
    roles: tuple[RoleId, ...]
    department: str | None = None
    backup_of: str | None = None


@dataclass(frozen=True)
class KnownPerson:
    """Someone already on the roster (the database) a backup row may name."""

    name: str
    mobile: str
    department: str | None = None


@dataclass(frozen=True)
class RosterResult:
    """The entries to import and the problems (errors and warnings), both in file order;
    `headers` names each column as the file wrote it."""

    entries: tuple[RosterEntry, ...]
    errors: tuple[RowError, ...]
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether every row was valid without a warning."""
        return not self.errors

    @property
    def refused(self) -> tuple[RowError, ...]:
        """The problems that kept a row out."""
        return tuple(e for e in self.errors if not e.warning)


def parse_roster(
    path: str | PathLike[str],
    departments: Sequence[Department] = (),
    roles: Roles | None = None,
    known: Sequence[KnownPerson] = (),
) -> RosterResult:
    """Read a roster file (.csv, .xlsx, .yaml/.yml), matching departments against the
    scheme's `departments`, role names against its local `roles` too, and backups against
    the file and the people `known` already."""
    source = Path(path)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise RosterError(
            f"{source}: cannot read the roster: {exc.strerror or exc}",
            "roster.unreadable",
            file=str(source),
        ) from exc
    return parse_roster_bytes(data, source.name, departments, roles, known)


def parse_roster_bytes(
    data: bytes,
    filename: str,
    departments: Sequence[Department] = (),
    roles: Roles | None = None,
    known: Sequence[KnownPerson] = (),
) -> RosterResult:
    """`parse_roster` for an uploaded file's bytes; the format comes from `filename`."""
    table = read_table(data, filename)
    result = _Validator(departments, roles, known).run(table.rows)
    return RosterResult(result.entries, result.errors, table.headers)


def label_names(label: Label) -> list[str]:
    """A local name as offices write it: whole, before its bracket, inside its bracket
    (``执行组办公室（区重大项目中心）`` → 执行组办公室, 区重大项目中心), in both languages."""
    names: list[str] = []
    for whole in (label.zh, label.en):
        names.append(whole)
        match = re.fullmatch(r"\s*([^（(]+?)\s*[（(]\s*([^）)]+?)\s*[）)]\s*", whole)
        if match:
            names += [match.group(1), match.group(2)]
    return names


# --- validating rows ---------------------------------------------------------------


class _Validator:
    def __init__(
        self,
        departments: Sequence[Department],
        roles: Roles | None,
        known: Sequence[KnownPerson] = (),
    ) -> None:
        self.departments: dict[str, str] = {}
        for department in departments:
            for name in (department.id, *label_names(department.name)):
                self.departments[_fold(name)] = department.id
        self.known_departments = ", ".join(d.id for d in departments)
        self.role_words: dict[str, RoleId] = {_fold(k): v for k, v in _ROLE_WORDS.items()}
        self.role_words.update({_fold(role): role for role in ROLE_IDS})
        if roles is not None:
            # The scheme's own names win: in Jinniu "服务专员（专职专员）" is the butler.
            for role in ROLE_IDS:
                for name in label_names(getattr(roles, role)):
                    self.role_words[_fold(name)] = role
        self.known = known
        self.errors: list[RowError] = []

    def run(self, rows: Sequence[Row]) -> RosterResult:
        parsed: list[dict[str, Any]] = []
        mobiles: dict[str, int] = {}
        for number, values in rows:
            entry = self._row(number, values)
            if entry is None:
                continue
            if entry["mobile"] in mobiles:
                self._error(
                    number,
                    "mobile",
                    "roster.duplicate_mobile",
                    first_row=str(mobiles[entry["mobile"]]),
                )
                continue
            mobiles[entry["mobile"]] = number
            parsed.append(entry)
        entries = [e for e in (self._backup(e, parsed) for e in parsed) if e is not None]
        errors = sorted(self.errors, key=lambda e: e.row)
        return RosterResult(tuple(entries), tuple(errors))

    def _error(self, row: int, column: str, code: str, **detail: str) -> None:
        self.errors.append(RowError(row, column, code, detail))

    def _warn(self, row: int, column: str, code: str, **detail: str) -> None:
        self.errors.append(RowError(row, column, code, detail, warning=True))

    def _refused(self, before: int) -> bool:
        return any(not e.warning for e in self.errors[before:])

    def _row(self, number: int, values: Mapping[str, str]) -> dict[str, Any] | None:
        before = len(self.errors)
        name = values.get("name", "")
        if not name:
            self._error(number, "name", "roster.name_missing")
        raw_mobile = values.get("mobile", "")
        mobile = validate_mobile(raw_mobile)
        if not raw_mobile:
            self._error(number, "mobile", "roster.mobile_missing")
        elif not mobile.ok:
            self._error(number, "mobile", "roster.mobile_invalid", value=raw_mobile)
        roles = self._roles(number, values.get("role", ""))
        backup_of = values.get("backup_of", "")
        if backup_of and "backup" not in roles:
            roles.append("backup")  # the column says so plainly
        department = None
        raw_department = values.get("department", "")
        needs_department = any(r in ROLES_WITH_DEPARTMENT for r in roles)
        if raw_department:
            department = self.departments.get(_fold(raw_department))
            if department is None and needs_department:
                self._error(
                    number,
                    "department",
                    "roster.unknown_department",
                    value=raw_department,
                    known=self.known_departments,
                )
            # The office's (or a leader's) own unit is theirs to write: accepted as it is.
        elif "specialist" in roles:
            self._error(number, "department", "roster.department_required", role="specialist")
        if "backup" in roles and not backup_of:
            self._error(number, "backup_of", "roster.backup_of_required")
        if self._refused(before):
            return None
        return {
            "row": number,
            "name": name,
            "mobile": mobile.value,
            "roles": tuple(roles),
            "department": department,
            "backup_of": backup_of,
        }

    def _roles(self, number: int, text: str) -> list[RoleId]:
        found: list[RoleId] = []
        unknown: list[str] = []
        words = [w.strip() for w in _ROLE_SEPARATORS.split(text) if w.strip()]
        if not words:
            self._error(number, "role", "roster.role_missing")
        for word in words:
            role = self.role_words.get(_fold(word))
            if role is None:
                unknown.append(word)
            elif role not in found:
                found.append(role)
        for word in unknown:
            # Beside a known role an unknown word (a job title) is only a warning.
            report = self._warn if found else self._error
            report(number, "role", "roster.unknown_role", value=word)
        return found

    def _candidates(self, wanted: str, everyone: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows of the file named by `wanted` (a name or mobile), else people known before."""
        as_mobile = validate_mobile(wanted)

        def named(name: str, mobile: str) -> bool:
            return (as_mobile.ok and mobile == as_mobile.value) or _fold(name) == _fold(wanted)

        in_file = [o for o in everyone if named(o["name"], o["mobile"])]
        if in_file:
            return in_file
        return [
            {"row": 0, "name": p.name, "mobile": p.mobile, "department": p.department}
            for p in self.known
            if named(p.name, p.mobile)
        ]

    def _backup(
        self, entry: dict[str, Any], everyone: Sequence[dict[str, Any]]
    ) -> RosterEntry | None:
        """The entry with `backup_of` resolved to a mobile, or None after a row error."""
        number, wanted = entry["row"], entry["backup_of"]
        backed_up = None
        department = entry["department"]
        if wanted:
            matches = self._candidates(wanted, everyone)
            if not matches:
                self._error(number, "backup_of", "roster.backup_unknown", value=wanted)
                return None
            if len(matches) > 1:
                rows = ",".join(str(m["row"]) for m in matches if m["row"])
                code = "roster.backup_ambiguous" if rows else "roster.backup_ambiguous_known"
                self._error(number, "backup_of", code, value=wanted, rows=rows)
                return None
            target = matches[0]
            if target["mobile"] == entry["mobile"]:
                self._error(number, "backup_of", "roster.backup_self", value=wanted)
                return None
            backed_up = target["mobile"]
            if department is None:
                department = target["department"]
            elif target["department"] is not None and target["department"] != department:
                self._error(
                    number,
                    "department",
                    "roster.backup_department_mismatch",
                    department=department,
                    backup_of_department=target["department"],
                    backup_of=target["name"],
                )
                return None
            if department is None:
                self._error(number, "department", "roster.department_required", role="backup")
                return None
        return RosterEntry(
            row=number,
            name=entry["name"],
            mobile=entry["mobile"],
            roles=entry["roles"],
            department=department,
            backup_of=backed_up,
        )


def _fold(text: str) -> str:
    """Case-, width-, space- and underscore-insensitive form for matching names."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", text)).lower()
