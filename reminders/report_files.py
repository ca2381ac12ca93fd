"""Reports as XLSX files (报表文件): one sheet per section, header row first.

Text that a spreadsheet would run as a formula is written as text (`domain/cells.py`): a
name typed as ``=HYPERLINK(…)`` stays a name in the office's spreadsheet.
"""

from __future__ import annotations

import io

from openpyxl import Workbook

from domain.cells import safe_row
from reminders.reports import Report

SHEET_TITLE_MAX = 31  # Excel's limit on sheet names
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_xlsx(report: Report) -> bytes:
    """The report as an XLSX workbook: numbers as numbers, formula-looking text as text."""
    book = Workbook()
    book.remove(book.active)
    for index, section in enumerate(report.sections, start=1):
        title = f"{index} {section.title}"[:SHEET_TITLE_MAX]
        for bad in "[]:*?/\\":
            title = title.replace(bad, " ")
        sheet = book.create_sheet(title)
        for row in [section.header, *section.rows]:
            sheet.append(safe_row(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


__all__ = ["XLSX_MIME", "report_xlsx"]
