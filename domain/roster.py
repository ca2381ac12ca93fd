"""Parsing the staff roster (人员名册) the office imports: ``daiban people import FILE``.

Accepted files: .csv (UTF-8 with or without BOM, UTF-16 with BOM, or GB18030/GBK as
Excel writes on a Chinese Windows; comma, tab or semicolon separated), .xlsx (first
sheet) and .yaml/.yml (a list of mappings, or ``{people: [...]}``).

Columns, Chinese or English headers, in any order; other columns (备注…) are ignored:

=========  ==========================  ==================================================
column     headers                     value
=========  ==========================  ==================================================
name       姓名 / name                 required
mobile     手机 / 手机号 / mobile       required, a mainland mobile; unique in the file
role       角色 / role / roles          one or more roles, separated by 、 , ， ; ；
department 部门 / 单位 / department     scheme department id or Chinese name; required
                                       for specialists and backups
backup_of  备份 / 备份对象 / backup_of   the person (name or mobile of another row) this
                                       one stands in for; implies the backup role
=========  ==========================  ==================================================

Roles are the six role ids or their names: the scheme's local names when the scheme's
`Roles` is passed (Jinniu's butler is "服务专员（专职专员）"), then the common ones
(项目管家, 服务专员, 候补, 办公室, 领导, 企业联系人, …). A backup without a department takes
the department of the person they stand in for.

Bad rows never raise: each problem is a `RowError` (row, column, code, detail) and the
good rows are still returned. Row numbers are what the office sees: the spreadsheet row
(header = row 1) or, for YAML, the entry's position in the list (first = 1). Only a file
that is not a table at all raises `RosterError`.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, cast, get_args

import yaml

from domain.identifiers import validate_mobile
from domain.scheme import Department, RoleId, Roles

__all__ = [
    "COLUMNS",
    "RosterEntry",
    "RosterError",
    "RosterResult",
    "RowError",
    "parse_roster",
    "parse_roster_bytes",
]

COLUMNS = ("name", "mobile", "role", "department", "backup_of")
"""The roster's columns, by their English names."""

_REQUIRED_COLUMNS = ("name", "mobile", "role")

_HEADERS: Mapping[str, str] = {
    **dict.fromkeys(("姓名", "名字", "name", "full_name"), "name"),
    **dict.fromkeys(
        ("手机", "手机号", "手机号码", "联系电话", "电话", "mobile", "phone", "mobile_phone"),
        "mobile",
    ),
    **dict.fromkeys(("角色", "身份", "role", "roles"), "role"),
    **dict.fromkeys(("部门", "单位", "所属部门", "department", "dept"), "department"),
    **dict.fromkeys(
        ("备份", "备份对象", "候补对象", "备份谁", "backup_of", "backup_for", "backup"),
        "backup_of",
    ),
}

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
    **dict.fromkeys(("办公室", "专班办公室", "office"), "office"),
    **dict.fromkeys(("领导", "区领导", "leader"), "leader"),
}

_ROLE_SEPARATORS = re.compile(r"[、,，;；/|\n]+")
_ROLE_IDS = cast(tuple[RoleId, ...], get_args(RoleId))


class RosterError(ValueError):
    """The file is not a roster table at all (unreadable, not a table, no header)."""


@dataclass(frozen=True)
class RowError:
    """One problem of one row: `column` is an English column name ("" for the whole row)."""

    row: int
    column: str
    code: str
    detail: Mapping[str, str] = field(default_factory=dict)


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
class RosterResult:
    """The valid entries and the row errors, both in file order."""

    entries: tuple[RosterEntry, ...]
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        """Whether every row was valid."""
        return not self.errors


def parse_roster(
    path: str | PathLike[str],
    departments: Sequence[Department] = (),
    roles: Roles | None = None,
) -> RosterResult:
    """Read a roster file (.csv, .xlsx, .yaml/.yml), matching departments against the
    scheme's `departments` and role names against its local `roles` too."""
    source = Path(path)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise RosterError(f"{source}: cannot read the roster: {exc.strerror or exc}") from exc
    return parse_roster_bytes(data, source.name, departments, roles)


def parse_roster_bytes(
    data: bytes,
    filename: str,
    departments: Sequence[Department] = (),
    roles: Roles | None = None,
) -> RosterResult:
    """`parse_roster` for an uploaded file's bytes; the format comes from `filename`."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(data, filename)
    elif suffix == ".xlsx":
        rows = _xlsx_rows(data, filename)
    elif suffix in (".yaml", ".yml"):
        rows = _yaml_rows(data, filename)
    else:
        raise RosterError(f"{filename}: a roster is a .csv, .xlsx or .yaml file, not {suffix!r}")
    return _Validator(departments, roles).run(rows)


# --- reading the three formats into (row number, {column: text}) -------------------

_Row = tuple[int, dict[str, str]]


def _header_map(cells: Sequence[object], filename: str) -> dict[int, str]:
    """Column position → column name; RosterError if a required column is missing."""
    found: dict[int, str] = {}
    for position, cell in enumerate(cells):
        key = _header_key(cell)
        if key in _HEADERS and _HEADERS[key] not in found.values():
            found[position] = _HEADERS[key]
    missing = [c for c in _REQUIRED_COLUMNS if c not in found.values()]
    if missing:
        shown = ", ".join(str(c).strip() for c in cells if c is not None and str(c).strip())
        raise RosterError(
            f"{filename}: the first row must name the columns; missing {', '.join(missing)} "
            f"(e.g. 姓名/name, 手机/mobile, 角色/role, 部门/department, 备份/backup_of); "
            f"found: {shown or 'nothing'}"
        )
    return found


def _header_key(cell: object) -> str:
    text = "" if cell is None else str(cell)
    text = text.strip().strip("*").strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


def _table(lines: Iterable[Sequence[object]], filename: str) -> list[_Row]:
    """Rows below the header as {column: text}; wholly empty rows are skipped."""
    iterator = iter(lines)
    header: dict[int, str] | None = None
    rows: list[_Row] = []
    for number, cells in enumerate(iterator, start=1):
        if header is None:
            if all(_text(c) == "" for c in cells):
                continue  # blank lines above the header
            header = _header_map(cells, filename)
            continue
        values = {
            column: _text(cells[pos]) if pos < len(cells) else "" for pos, column in header.items()
        }
        if any(values.values()):
            rows.append((number, values))
    if header is None:
        raise RosterError(f"{filename}: the file is empty; expected a header row and people")
    return rows


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)  # Excel stores a mobile typed as a number as 13800138000.0
    return str(cell).strip()


def _decode(data: bytes, filename: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # Excel on a Chinese Windows saves "CSV" in the ANSI code page, GBK ⊂ GB18030.
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise RosterError(
            f"{filename}: cannot read the text; save the CSV as UTF-8 or GBK ({exc.reason})"
        ) from exc


def _csv_rows(data: bytes, filename: str) -> list[_Row]:
    text = _decode(data, filename)
    if "\x00" in text:
        raise RosterError(f"{filename}: this is not a text CSV file")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    # Pick the separator from the header only: role cells may hold ";" themselves.
    delimiter = max((",", "\t", ";"), key=first_line.count)
    return _table(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), filename)


def _xlsx_rows(data: bytes, filename: str) -> list[_Row]:
    from openpyxl import load_workbook  # imported here: only .xlsx imports need it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, XML errors…
        raise RosterError(f"{filename}: not a readable .xlsx workbook ({exc})") from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise RosterError(f"{filename}: the workbook has no sheet")
        return _table(sheet.iter_rows(values_only=True), filename)
    finally:
        workbook.close()


def _yaml_rows(data: bytes, filename: str) -> list[_Row]:
    try:
        document = yaml.safe_load(_decode(data, filename))
    except yaml.YAMLError as exc:
        raise RosterError(f"{filename}: not valid YAML: {exc}") from exc
    if isinstance(document, dict) and set(document) == {"people"}:
        document = document["people"]
    if not isinstance(document, list) or not all(isinstance(e, dict) for e in document):
        raise RosterError(
            f"{filename}: expected a list of people (name, mobile, role, …), "
            "or a mapping with the key 'people'"
        )
    rows: list[_Row] = []
    for number, entry in enumerate(document, start=1):
        values: dict[str, str] = {}
        for key, value in entry.items():
            column = _HEADERS.get(_header_key(key))
            if column is None or column in values:
                continue
            if isinstance(value, list):
                value = "、".join(_text(v) for v in value)
            values[column] = _text(value)
        rows.append((number, values))
    return rows


# --- validating rows ---------------------------------------------------------------


class _Validator:
    def __init__(self, departments: Sequence[Department], roles: Roles | None) -> None:
        self.departments: dict[str, str] = {}
        for department in departments:
            self.departments[_fold(department.id)] = department.id
            self.departments[_fold(department.name.zh)] = department.id
            self.departments[_fold(department.name.en)] = department.id
        self.known_departments = ", ".join(d.id for d in departments)
        self.role_words: dict[str, RoleId] = {_fold(k): v for k, v in _ROLE_WORDS.items()}
        self.role_words.update({_fold(role): role for role in _ROLE_IDS})
        if roles is not None:
            # The scheme's own names win: in Jinniu "服务专员（专职专员）" is the butler.
            for role in _ROLE_IDS:
                label = getattr(roles, role)
                self.role_words[_fold(label.zh)] = role
                self.role_words[_fold(label.en)] = role
        self.errors: list[RowError] = []

    def run(self, rows: Sequence[_Row]) -> RosterResult:
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
        if raw_department:
            department = self.departments.get(_fold(raw_department))
            if department is None:
                self._error(
                    number,
                    "department",
                    "roster.unknown_department",
                    value=raw_department,
                    known=self.known_departments,
                )
        elif "specialist" in roles:
            self._error(number, "department", "roster.department_required", role="specialist")
        if "backup" in roles and not backup_of:
            self._error(number, "backup_of", "roster.backup_of_required")
        if len(self.errors) > before:
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
        words = [w.strip() for w in _ROLE_SEPARATORS.split(text) if w.strip()]
        if not words:
            self._error(number, "role", "roster.role_missing")
        for word in words:
            role = self.role_words.get(_fold(word))
            if role is None:
                self._error(
                    number, "role", "roster.unknown_role", value=word, known=", ".join(_ROLE_IDS)
                )
            elif role not in found:
                found.append(role)
        return found

    def _backup(
        self, entry: dict[str, Any], everyone: Sequence[dict[str, Any]]
    ) -> RosterEntry | None:
        """The entry with `backup_of` resolved to a mobile, or None after a row error."""
        number, wanted = entry["row"], entry["backup_of"]
        backed_up = None
        department = entry["department"]
        if wanted:
            as_mobile = validate_mobile(wanted)
            matches = [
                other
                for other in everyone
                if (as_mobile.ok and other["mobile"] == as_mobile.value)
                or _fold(other["name"]) == _fold(wanted)
            ]
            if not matches:
                self._error(number, "backup_of", "roster.backup_unknown", value=wanted)
                return None
            if len(matches) > 1:
                rows = ",".join(str(m["row"]) for m in matches)
                self._error(number, "backup_of", "roster.backup_ambiguous", value=wanted, rows=rows)
                return None
            target = matches[0]
            if target is entry:
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
