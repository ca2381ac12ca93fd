"""Reading a roster file (人员名册) into rows: .csv, .xlsx (first sheet), .yaml/.yml.

Offices type their rosters with a title row above the headers (《XX区项目代办人员名册》),
headers of their own (代办角色, 所在单位, 联系方式, 手机号码（必填）…) and columns of their
own (序号, 备注…). The header is the first of the top rows that names the name, mobile and
role columns; rows above it are skipped; unknown columns are ignored. Each column has
strong and weak headers: 代办角色 beats 岗位 when both are present, 部门 beats 单位.

CSV: UTF-8 with or without BOM, UTF-16 with BOM, or GB18030/GBK as Excel writes on a
Chinese Windows; comma, tab or semicolon separated. YAML: a list of mappings, or
``{people: [...]}``. Only a file that is not a table at all raises `RosterError`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

COLUMNS = ("name", "mobile", "role", "department", "backup_of")
"""The roster's columns, by their English names."""

REQUIRED_COLUMNS = ("name", "mobile", "role")

HEADER_SEARCH_ROWS = 10
"""How many non-empty rows from the top may hold titles before the header row."""

# header text → (column, rank): for each column the header of the lowest rank wins.
_HEADERS: Mapping[str, tuple[str, int]] = {
    **dict.fromkeys(("姓名", "名字", "人员姓名", "代办人员", "name", "full_name"), ("name", 0)),
    **dict.fromkeys(
        ("手机", "手机号", "手机号码", "移动电话", "mobile", "mobile_phone", "mobile_number"),
        ("mobile", 0),
    ),
    **dict.fromkeys(("联系电话", "电话", "联系方式", "phone", "contact"), ("mobile", 1)),
    **dict.fromkeys(
        ("代办角色", "角色", "身份", "代办身份", "role", "roles", "agency_role"), ("role", 0)
    ),
    **dict.fromkeys(("岗位", "职务", "岗位职责", "position", "post"), ("role", 1)),
    **dict.fromkeys(
        ("部门", "所属部门", "department", "dept", "department_or_unit"), ("department", 0)
    ),
    **dict.fromkeys(
        ("单位", "所在单位", "单位名称", "工作单位", "所属单位", "unit", "organisation"),
        ("department", 1),
    ),
    **dict.fromkeys(
        (
            "备份",
            "备份对象",
            "候补对象",
            "备份谁",
            "替补对象",
            "backup_of",
            "backup_for",
            "backup",
            "stands_in_for",
        ),
        ("backup_of", 0),
    ),
}


class RosterError(ValueError):
    """The file is not a roster table at all (unreadable, not a table, no header).

    `code` and `detail` let the command say it in the office's language; ``str()`` is
    the English sentence.
    """

    def __init__(self, message: str, code: str = "roster.unreadable", **detail: str) -> None:
        super().__init__(message)
        self.code = code
        self.detail = detail


Row = tuple[int, dict[str, str]]


@dataclass(frozen=True)
class Table:
    """The rows below the header as ``(row number, {column: text})`` and, per column, the
    header as the file wrote it (what a message names)."""

    rows: list[Row]
    headers: Mapping[str, str] = field(default_factory=dict)


def read_table(data: bytes, filename: str) -> Table:
    """The file's rows; the format comes from `filename`'s suffix."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        return _csv_table(data, filename)
    if suffix == ".xlsx":
        return _xlsx_table(data, filename)
    if suffix in (".yaml", ".yml"):
        return _yaml_table(data, filename)
    raise RosterError(
        f"{filename}: a roster is a .csv, .xlsx or .yaml file, not {suffix!r}",
        "roster.wrong_format",
        suffix=suffix,
    )


def header_key(cell: object) -> str:
    """A header cell folded for lookup: no stars, no (必填) notes, no spaces, lower case."""
    text = "" if cell is None else str(cell)
    text = re.sub(r"[（(][^）)]*[）)]", "", text)
    text = text.strip().strip("*＊").strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


def _header_map(cells: Sequence[object]) -> dict[int, str]:
    """Column position → column name, the strongest header of each column winning."""
    best: dict[str, tuple[int, int]] = {}  # column → (rank, position)
    for position, cell in enumerate(cells):
        found = _HEADERS.get(header_key(cell))
        if found is None:
            continue
        column, rank = found
        if column not in best or rank < best[column][0]:
            best[column] = (rank, position)
    return {position: column for column, (_, position) in best.items()}


def _missing(mapping: Mapping[int, str]) -> list[str]:
    return [c for c in REQUIRED_COLUMNS if c not in mapping.values()]


def text(cell: object) -> str:
    """A cell as stripped text; a whole float (a mobile typed as a number) without ``.0``."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)  # Excel stores a mobile typed as a number as 13800138000.0
    return str(cell).strip()


def _table(lines: Iterable[Sequence[object]], filename: str) -> Table:
    """Find the header among the top rows, then the rows below it; empty rows skipped."""
    header: dict[int, str] | None = None
    headers: dict[str, str] = {}
    candidates: list[tuple[Sequence[object], dict[int, str]]] = []
    rows: list[Row] = []
    for number, cells in enumerate(lines, start=1):
        if header is None:
            if all(text(c) == "" for c in cells):
                continue  # blank lines above the header
            mapping = _header_map(cells)
            if not _missing(mapping):
                header = mapping
                headers = {column: text(cells[pos]) for pos, column in mapping.items()}
                continue
            candidates.append((cells, mapping))
            if len(candidates) >= HEADER_SEARCH_ROWS:
                break
            continue
        values = {
            column: text(cells[pos]) if pos < len(cells) else "" for pos, column in header.items()
        }
        if any(values.values()):
            rows.append((number, values))
    if header is None:
        if not candidates:
            raise RosterError(
                f"{filename}: the file is empty; expected a header row and people",
                "roster.empty",
            )
        cells, mapping = max(candidates, key=lambda pair: len(pair[1]))
        missing = _missing(mapping)
        shown = "、".join(text(c) for c in cells if text(c))
        raise RosterError(
            f"{filename}: no row names the columns; missing {', '.join(missing)} "
            f"(e.g. 姓名/name, 手机/mobile, 角色/role, 部门/department, 备份/backup_of); "
            f"found: {shown or 'nothing'}",
            "roster.no_header",
            missing=",".join(missing),
            found=shown,
        )
    return Table(rows, headers)


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
            f"{filename}: cannot read the text; save the CSV as UTF-8 or GBK ({exc.reason})",
            "roster.encoding",
        ) from exc


def _csv_table(data: bytes, filename: str) -> Table:
    decoded = _decode(data, filename)
    if "\x00" in decoded:
        raise RosterError(f"{filename}: this is not a text CSV file", "roster.not_text")
    lines = [line for line in decoded.splitlines() if line.strip()]
    # Pick the separator from the top lines only: role cells may hold ";" themselves.
    top = "\n".join(lines[:HEADER_SEARCH_ROWS])
    delimiter = max((",", "\t", ";"), key=top.count)
    return _table(csv.reader(io.StringIO(decoded, newline=""), delimiter=delimiter), filename)


def _xlsx_table(data: bytes, filename: str) -> Table:
    from openpyxl import load_workbook  # imported here: only .xlsx imports need it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, XML errors…
        raise RosterError(
            f"{filename}: not a readable .xlsx workbook ({exc})", "roster.bad_xlsx"
        ) from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise RosterError(f"{filename}: the workbook has no sheet", "roster.empty")
        return _table(sheet.iter_rows(values_only=True), filename)
    finally:
        workbook.close()


def _yaml_table(data: bytes, filename: str) -> Table:
    try:
        document = yaml.safe_load(_decode(data, filename))
    except yaml.YAMLError as exc:
        raise RosterError(f"{filename}: not valid YAML: {exc}", "roster.bad_yaml") from exc
    if isinstance(document, dict) and set(document) == {"people"}:
        document = document["people"]
    if not isinstance(document, list) or not all(isinstance(e, dict) for e in document):
        raise RosterError(
            f"{filename}: expected a list of people (name, mobile, role, …), "
            "or a mapping with the key 'people'",
            "roster.not_a_list",
        )
    rows: list[Row] = []
    headers: dict[str, str] = {}
    for number, entry in enumerate(document, start=1):
        values: dict[str, str] = {}
        for key, value in entry.items():
            found = _HEADERS.get(header_key(key))
            if found is None or found[0] in values:
                continue
            headers.setdefault(found[0], str(key))
            if isinstance(value, list):
                value = "、".join(text(v) for v in value)
            values[found[0]] = text(value)
        rows.append((number, values))
    return Table(rows, headers)


__all__ = [
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "RosterError",
    "Row",
    "Table",
    "header_key",
    "read_table",
    "text",
]
