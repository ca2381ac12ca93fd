"""`daiban people import` of a roster typed as an office types it (issue 21 point 2): a
title row, the office's own Chinese headers, the scheme's local role names, the office's
own unit, a stand-in for someone imported last week; messages are sentences."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from domain.roster import parse_roster
from domain.scheme_loader import load_scheme
from storage.db import Database
from storage.migrate import upgrade
from storage.uow import UnitOfWork

ROOT = Path(__file__).resolve().parents[1]


def _env(tmp_path: Path, preset: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("DAIBAN_")}
    url = f"sqlite+aiosqlite:///{tmp_path / 'daiban.sqlite3'}"
    env |= {"DAIBAN_DATABASE_URL": url, "DAIBAN_SCHEME": preset}
    asyncio.run(upgrade(url))
    return env


def daiban(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def workbook(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


HEADER = ["序号", "姓名", "所在单位", "岗位", "代办角色", "联系方式", "备份对象", "备注"]


async def _people(url: str) -> dict[str, list[tuple[str, str | None, str | None]]]:
    db = Database(url)
    try:
        async with UnitOfWork(db) as uow:
            found: dict[str, list[tuple[str, str | None, str | None]]] = {}
            for role in ("butler", "specialist", "backup", "office", "leader"):
                for person in await uow.people.with_role(role):
                    roles = await uow.people.roles_of(person.id)
                    found[person.name] = [
                        (
                            r.role,
                            r.department.code if r.department else None,
                            (await uow.people.get(r.backup_of_id)).name  # type: ignore[union-attr]
                            if r.backup_of_id
                            else None,
                        )
                        for r in roles
                    ]
            return found
    finally:
        await db.dispose()


def test_tongzhou_office_roster_with_title_row_imports_every_valid_row(tmp_path: Path) -> None:
    env = _env(tmp_path, "tongzhou")
    first = workbook(
        tmp_path / "first.xlsx",
        [
            ["通州区重大项目全程代办人员名册", None, None, None, None, None, None, None],
            HEADER,
            [1, "李娜", "区住房城乡建设委", "科长", "服务专员", 13900139000, None, None],
        ],
    )
    done = daiban(env, "people", "import", str(first))
    assert done.returncode == 0, done.stdout + done.stderr
    roster = workbook(
        tmp_path / "名册.xlsx",
        [
            ["通州区重大项目全程代办人员名册（2026年12月）"],
            [],
            HEADER,
            [1, "张伟", "区住房城乡建设委", "项目管家", "项目管家", "13800138000", None, None],
            [2, "王芳", "区重大项目中心", "综合科", "执行组办公室", "13700137000", None, "办公室"],
            [3, "周杰", "区住房城乡建设委", "科员", "候补服务专员", "13600136000", "李娜", None],
            [4, "赵敏", "区级工作组", "副组长", "区级工作组、副区长", "13500135000", None, None],
            [5, "钱多", "税务局", "专员", "服务专员", "13400134000", None, "单位不在方案中"],
            [6, "孙丽", "区水务局", "", "服务专员", "1340013", None, None],
        ],
    )
    done = daiban(env, "people", "import", str(roster))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "新增 4" in out, out
    # Row 7 (钱多): unknown department, named by the file's own header and with the fix.
    assert "第 8 行「所在单位」列" in out
    assert "“税务局”不是本方案的部门" in out and "区住房城乡建设委" in out
    assert "第 9 行「联系方式」列" in out and "1340013" in out
    # 副区长 is a job title beside a known role: imported, with a warning.
    assert "第 7 行「代办角色」列" in out and "“副区长”" in out and "已按其他角色导入" in out
    assert "roster." not in out and "value=" not in out
    people = asyncio.run(_people(env["DAIBAN_DATABASE_URL"]))
    assert people["王芳"] == [("office", None, None)]
    assert people["周杰"] == [("backup", "housing_construction", "李娜")]
    assert people["赵敏"] == [("leader", None, None)]
    assert people["张伟"] == [("butler", None, None)]
    assert "钱多" not in people and "孙丽" not in people

    strict = daiban(env, "people", "import", str(roster), "--strict")
    assert strict.returncode == 1
    assert "未导入任何人员" in strict.stdout

    english = daiban(env, "people", "import", str(roster), "--lang", "en")
    assert english.returncode == 0
    assert "Row 8, column “所在单位”: “税务局” is not a department of this scheme" in english.stdout


def test_nothing_importable_exits_one_with_sentences(tmp_path: Path) -> None:
    env = _env(tmp_path, "sanyuan")
    roster = workbook(
        tmp_path / "bad.xlsx",
        [["姓名", "手机号码", "代办角色"], ["甲", "123", "厨师"]],
    )
    done = daiban(env, "people", "import", str(roster))
    assert done.returncode == 1
    assert "第 2 行「手机号码」列：“123”不是大陆手机号" in done.stdout
    assert "第 2 行「代办角色」列：“厨师”不是本方案的角色" in done.stdout
    assert "帮办代办专窗（区行政服务中心管委会）" in done.stdout  # the fix lists local names
    no_header = workbook(tmp_path / "prose.xlsx", [["请按部门填报"], ["谢谢"]])
    done = daiban(env, "people", "import", str(no_header))
    assert done.returncode == 1
    assert "没有一行写明列名" in done.stderr and "Traceback" not in done.stderr


def test_sanyuan_local_role_names_and_the_office_unit() -> None:
    sanyuan = load_scheme("sanyuan")
    rows = [
        ["三元区项目代办服务人员名册"],
        ["姓名", "单位", "职务", "手机号码"],
        ["林涛", "区行政服务中心管委会", "帮办代办专窗", "13800138000"],
        ["陈晨", "区自然资源局", "项目代办联络员", "13900139000"],
        ["吴凡", "区招商服务中心", "项目代办人员", "13700137000"],
        ["郑爽", "三元区政务服务中心", "Agency window", "13600136000"],
    ]
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = workbook(Path(folder) / "r.xlsx", rows)
        result = parse_roster(path, sanyuan.departments, sanyuan.roles)
    assert result.errors == ()
    assert [(e.row, e.roles, e.department) for e in result.entries] == [
        (3, ("office",), "government_services"),
        (4, ("specialist",), "planning_natural_resources"),
        (5, ("butler",), "investment_promotion"),
        (6, ("office",), None),  # the office's own unit, not a scheme department: accepted
    ]
    assert result.headers["role"] == "职务" and result.headers["department"] == "单位"


@pytest.mark.parametrize(("preset", "lang"), [("tongzhou", "zh"), ("sanyuan", "en")])
def test_the_template_is_a_ready_roster(tmp_path: Path, preset: str, lang: str) -> None:
    env = _env(tmp_path, preset)
    target = tmp_path / "template.xlsx"
    done = daiban(env, "people", "template", str(target), "--lang", lang)
    assert done.returncode == 0, done.stderr
    book = load_workbook(target)
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[2]]
    scheme = load_scheme(preset)
    if lang == "zh":
        assert header == ["姓名", "手机号码", "代办角色", "所在单位", "备份对象", "备注"]
        assert sheet["C3"].value == scheme.roles.specialist.zh
    else:
        assert header[:3] == ["Name", "Mobile number", "Agency role"]
        assert sheet["C3"].value == scheme.roles.specialist.en
    assert sheet.freeze_panes == "A3"
    assert isinstance(sheet["B3"].value, str)  # a mobile as text, never 1.38E+10
    guide = [c.value for c in book.worksheets[1]["A"]]
    assert (scheme.roles.office.zh if lang == "zh" else scheme.roles.office.en) in guide
    # The template, as written, imports: the office only replaces the examples.
    parsed = parse_roster(target, scheme.departments, scheme.roles)
    assert parsed.errors == ()
    assert [e.roles for e in parsed.entries] == [
        ("specialist",),
        ("backup",),
        ("butler",),
        ("office",),
    ]
    assert parsed.entries[1].department == scheme.departments[0].id
