"""Parsing the staff roster the office imports (人员名册): CSV, XLSX, YAML."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from domain.roster import RosterEntry, RosterError, RowError, parse_roster, parse_roster_bytes
from domain.scheme_loader import load_scheme

TONGZHOU = load_scheme("tongzhou")
DEPARTMENTS = TONGZHOU.departments

HEADER_ZH = ["姓名", "手机", "角色", "部门", "备份"]
HEADER_EN = ["name", "mobile", "role", "department", "backup_of"]
PEOPLE = [
    ["张伟", "13800138000", "项目管家", "", ""],
    ["李娜", "13900139000", "服务专员", "区住房城乡建设委", ""],
    ["王强", "+86 137-0013-7000", "候补", "", "李娜"],
    ["赵敏", "13600136000", "办公室、领导", "", ""],
    ["陈静", "13500135000", "specialist, backup", "planning_natural_resources", "13900139000"],
]
EXPECTED = (
    RosterEntry(2, "张伟", "13800138000", ("butler",)),
    RosterEntry(3, "李娜", "13900139000", ("specialist",), "housing_construction"),
    RosterEntry(4, "王强", "13700137000", ("backup",), "housing_construction", "13900139000"),
    RosterEntry(5, "赵敏", "13600136000", ("office", "leader")),
)
# 陈静 backs up 李娜 but names another department: a row error, not an entry.
MISMATCH = RowError(
    6,
    "department",
    "roster.backup_department_mismatch",
    {
        "department": "planning_natural_resources",
        "backup_of_department": "housing_construction",
        "backup_of": "李娜",
    },
)


def csv_text(header: list[str], rows: list[list[str]], sep: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\r\n").writerows([header, *rows])
    return out.getvalue()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
@pytest.mark.parametrize("header", [HEADER_ZH, HEADER_EN], ids=["zh", "en"])
def test_csv_in_the_encodings_offices_export(
    tmp_path: Path, encoding: str, header: list[str]
) -> None:
    path = write(tmp_path, "roster.csv", csv_text(header, PEOPLE).encode(encoding))
    result = parse_roster(path, DEPARTMENTS)
    assert result.entries == EXPECTED
    assert result.errors == (MISMATCH,)
    assert not result.ok


def test_tab_separated_csv_with_semicolons_in_a_role_cell(tmp_path: Path) -> None:
    rows = [["赵敏", "13600136000", "office;leader", "", ""]]
    path = write(tmp_path, "roster.csv", csv_text(HEADER_EN, rows, "\t").encode())
    result = parse_roster(path, DEPARTMENTS)
    assert result.ok
    assert result.entries[0].roles == ("office", "leader")


def test_xlsx_first_sheet_with_numbers_for_mobiles(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "手机号码", "角色", "所属部门", "备份对象", "备注"])
    for name, mobile, role, department, backup in PEOPLE[:4]:
        digits = "".join(ch for ch in mobile if ch.isdigit())
        number = int(digits[-11:])  # Excel keeps a typed mobile as a number
        sheet.append([name, number, role, department or None, backup or None, "备注随便写"])
    book.create_sheet("其他").append(["not", "read"])
    path = tmp_path / "roster.xlsx"
    book.save(path)
    result = parse_roster(path, DEPARTMENTS)
    assert result.errors == ()
    assert result.entries == EXPECTED


def test_yaml_list_or_people_mapping(tmp_path: Path) -> None:
    text = """\
people:
  - {name: 张伟, mobile: "13800138000", role: butler}
  - {姓名: 李娜, 手机: 13900139000, 角色: [服务专员], 部门: housing_construction}
  - {name: 王强, mobile: "13700137000", roles: 候补, backup_of: 李娜}
  - {name: 赵敏, mobile: "13600136000", role: [office, leader]}
"""
    result = parse_roster(write(tmp_path, "roster.yaml", text.encode()), DEPARTMENTS)
    assert result.errors == ()
    assert [(e.row, e.name, e.roles, e.department) for e in result.entries] == [
        (e.row - 1, e.name, e.roles, e.department) for e in EXPECTED
    ]
    bare = "\n".join(text.splitlines()[1:]).replace("  - ", "- ")
    again = parse_roster(write(tmp_path, "roster.yml", bare.encode()), DEPARTMENTS)
    assert again.entries == result.entries


def test_every_bad_row_is_reported_and_good_rows_still_come_through(tmp_path: Path) -> None:
    rows = [
        ["张伟", "13800138000", "项目管家", "", ""],  # 2 fine
        ["", "13800138001", "butler", "", ""],  # 3 no name
        ["刘洋", "1380013", "butler", "", ""],  # 4 bad mobile
        ["孙丽", "", "butler", "", ""],  # 5 no mobile
        ["周杰", "13800138004", "厨师", "", ""],  # 6 unknown role
        ["吴凡", "13800138005", "", "", ""],  # 7 no role
        ["郑爽", "13800138006", "specialist", "", ""],  # 8 specialist without department
        ["冯军", "13800138007", "specialist", "税务局", ""],  # 9 unknown department
        ["陈晨", "13800138000", "office", "", ""],  # 10 mobile already on row 2
        ["韩梅", "13800138009", "backup", "", ""],  # 11 backup of nobody
        ["杨帆", "13800138010", "backup", "", "查无此人"],  # 12 backup of unknown
        ["杨帆", "13800138011", "specialist", "transport", ""],  # 13 same name as 12
        ["朱琳", "13800138012", "backup", "", "杨帆"],  # 14 ambiguous: rows 12, 13
        ["秦岚", "13800138013", "backup", "transport", "秦岚"],  # 15 backs up herself
        ["何炅", "13800138014", "butler", "", ""],  # 16 fine
    ]
    path = write(tmp_path, "roster.csv", csv_text(HEADER_EN, rows).encode())
    result = parse_roster(path, DEPARTMENTS)
    assert [e.row for e in result.entries] == [2, 13, 16]
    assert [(e.row, e.column, e.code) for e in result.errors] == [
        (3, "name", "roster.name_missing"),
        (4, "mobile", "roster.mobile_invalid"),
        (5, "mobile", "roster.mobile_missing"),
        (6, "role", "roster.unknown_role"),
        (7, "role", "roster.role_missing"),
        (8, "department", "roster.department_required"),
        (9, "department", "roster.unknown_department"),
        (10, "mobile", "roster.duplicate_mobile"),
        (11, "backup_of", "roster.backup_of_required"),
        (12, "backup_of", "roster.backup_unknown"),
        (14, "backup_of", "roster.backup_ambiguous"),
        (15, "backup_of", "roster.backup_self"),
    ]
    details = {e.row: e.detail for e in result.errors}
    assert details[6]["value"] == "厨师"
    assert details[9]["value"] == "税务局"
    assert "housing_construction" in details[9]["known"]
    assert details[10]["first_row"] == "2"
    assert details[14]["rows"] == "12,13"


def test_a_backup_of_column_implies_the_backup_role_and_department(tmp_path: Path) -> None:
    rows = [
        ["李娜", "13900139000", "服务专员", "housing_construction", ""],
        ["王强", "13700137000", "项目管家", "", "13900139000"],
    ]
    result = parse_roster(write(tmp_path, "r.csv", csv_text(HEADER_ZH, rows).encode()), DEPARTMENTS)
    assert result.errors == ()
    assert result.entries[1].roles == ("butler", "backup")
    assert result.entries[1].department == "housing_construction"
    assert result.entries[1].backup_of == "13900139000"


def test_the_schemes_local_role_names_win() -> None:
    jinniu = load_scheme("jinniu")
    data = csv_text(
        HEADER_ZH,
        [
            ["张伟", "13800138000", jinniu.roles.butler.zh, "", ""],
            ["李娜", "13900139000", jinniu.roles.specialist.zh, jinniu.departments[0].name.zh, ""],
        ],
    ).encode()
    result = parse_roster_bytes(data, "roster.csv", jinniu.departments, jinniu.roles)
    assert result.errors == ()
    assert [e.roles for e in result.entries] == [("butler",), ("specialist",)]
    assert result.entries[1].department == jinniu.departments[0].id
    # Without the scheme, the generic name 服务专员 means a specialist.
    plain = parse_roster_bytes(
        csv_text(HEADER_ZH, [["张伟", "13800138000", "服务专员", "x", ""]]).encode(),
        "roster.csv",
    )
    assert plain.errors[0].code == "roster.unknown_department"


def test_department_names_match_by_id_chinese_name_or_english_name() -> None:
    rows = [
        ["甲", "13800138001", "specialist", "WATER", ""],
        ["乙", "13800138002", "specialist", "区 水务局", ""],
        ["丙", "13800138003", "specialist", "District Water Affairs Bureau", ""],
    ]
    result = parse_roster_bytes(csv_text(HEADER_EN, rows).encode(), "r.csv", DEPARTMENTS)
    assert result.errors == ()
    assert {e.department for e in result.entries} == {"water"}


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("roster.csv", b"", "empty"),
        ("roster.csv", "名字,电话\n张伟,13800138000\n".encode(), "missing role"),
        ("roster.csv", b"just some prose without columns", "missing name"),
        ("roster.csv", b"\x00\x01\x02PK\x03\x04", "not a text CSV"),
        ("roster.xlsx", b"this is not a zip", "not a readable .xlsx"),
        ("roster.yaml", b"just a sentence", "expected a list of people"),
        ("roster.yaml", b"people: [1, 2]", "expected a list of people"),
        ("roster.yaml", b"a: [unclosed", "not valid YAML"),
        ("roster.pdf", b"%PDF-1.4", "a roster is a .csv, .xlsx or .yaml"),
    ],
)
def test_a_file_that_is_not_a_roster_table_raises(name: str, data: bytes, message: str) -> None:
    with pytest.raises(RosterError, match=message):
        parse_roster_bytes(data, name, DEPARTMENTS)


def test_a_missing_file_raises_a_roster_error(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="cannot read"):
        parse_roster(tmp_path / "nope.csv")


def test_blank_lines_are_skipped_and_rows_keep_their_spreadsheet_numbers(tmp_path: Path) -> None:
    text = "\n" + csv_text(
        HEADER_EN, [["张伟", "13800138000", "butler", "", ""], ["", "", "", "", ""]]
    )
    text += "李娜,13900139000,butler,,\n"
    result = parse_roster(write(tmp_path, "r.csv", text.encode()), DEPARTMENTS)
    assert result.errors == ()
    assert [e.row for e in result.entries] == [3, 5]
