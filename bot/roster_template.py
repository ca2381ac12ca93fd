"""`daiban people template [FILE]` (人员名册模板): a ready .xlsx to fill in.

The first sheet has a title row, the headers the import reads and example rows in the
scheme's own words (a specialist, their stand-in, a butler, the office); the second
lists the roles and departments one may write. Importing the template as it is imports
the examples, so the title row says to replace them.
"""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from domain.roster import ROLE_IDS
from domain.roster_table import COLUMNS
from domain.scheme import Scheme
from handlers.i18n import N_, translate
from handlers.render import Voice
from handlers.roster_messages import COLUMN_LABELS

NOTE_LABEL = N_("Notes")
DEFAULT_NAME = {"zh_CN": "人员名册模板.xlsx", "en": "roster-template.xlsx"}


def template_xlsx(scheme: Scheme, lang: str) -> bytes:
    """The roster template as XLSX bytes."""
    say = Voice(lang, scheme)
    roles = scheme.roles
    first = scheme.departments[0] if scheme.departments else None
    unit = say.label(first.name) if first else ""
    book = Workbook()
    sheet = book.active
    sheet.title = say._("Roster")
    sheet.append(
        [
            say._(
                "Staff roster of {service} (replace the example rows)",
                service=say.label(scheme.service_name),
            )
        ]
    )
    sheet["A1"].font = Font(bold=True, size=14)
    header = [say._(COLUMN_LABELS[c]) for c in COLUMNS] + [say._(NOTE_LABEL)]
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    examples = [
        [say._("Zhang Wei"), "13800138000", say.label(roles.specialist), unit, "", ""],
        [say._("Li Na"), "13900139000", say.label(roles.backup), "", say._("Zhang Wei"), ""],
        [say._("Wang Qiang"), "13700137000", say.label(roles.butler), "", "", ""],
        [say._("Zhao Min"), "13600136000", say.label(roles.office), "", "", ""],
    ]
    for row in examples:
        sheet.append(row)
    for column, width in zip("ABCDEF", (12, 16, 24, 30, 14, 20), strict=True):
        sheet.column_dimensions[column].width = width
        for cell in sheet[column][2:]:
            cell.number_format = "@"  # mobiles as text: no 1.38E+10
    sheet.freeze_panes = "A3"
    guide = book.create_sheet(say._("How to fill in"))
    guide.append([say._("Roles one may write")])
    for role in ROLE_IDS:
        guide.append([say.label(getattr(roles, role))])
    guide.append([])
    guide.append([say._("Departments (needed for {specialist} and their stand-ins)")])
    for department in scheme.departments:
        guide.append([say.label(department.name)])
    guide.column_dimensions["A"].width = 48
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_template(scheme: Scheme, target: str | None, lang: str) -> Path:
    """Write the template (default ``人员名册模板.xlsx``) and return its path."""
    path = Path(target or DEFAULT_NAME.get(lang, DEFAULT_NAME["zh_CN"]))
    path.write_bytes(template_xlsx(scheme, lang))
    return path


def describe_written(path: Path, lang: str) -> str:
    return translate(
        lang,
        N_("Wrote {path}: fill in one row per person, then run: daiban people import {path}"),
        path=path,
    )


__all__ = ["describe_written", "template_xlsx", "write_template"]
