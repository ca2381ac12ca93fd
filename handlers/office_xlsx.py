"""Spreadsheets the office keeps (办公表格): a bold, frozen header row with filters, column
widths that fit, dates as real date cells, numbers as numbers, formula-looking text as
text (`domain/cells.py`). One writer for the ledger, the reports and the archive's tables.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from domain.cells import safe_row

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_MIME = "application/zip"
SHEET_TITLE_MAX = 31  # Excel's limit on sheet names
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MAX_WIDTH = 60


def sheet_title(text: str) -> str:
    """A name Excel accepts for a sheet."""
    for bad in "[]:*?/\\":
        text = text.replace(bad, " ")
    return text[:SHEET_TITLE_MAX]


def _width(value: Any) -> int:
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 11
    text = str(value) if value is not None else ""
    longest = max((len(line) for line in text.splitlines()), default=0)
    wide = sum(1 for ch in text[:longest] if ord(ch) > 0x2E80)  # CJK takes two columns
    return longest + wide


def fill_sheet(
    sheet: Worksheet,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[int] | None = None,
) -> None:
    """Write the header and rows with the house's formatting."""
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    for row in rows:
        sheet.append(safe_row(row))
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            if isinstance(cell.value, datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(cell.value, date):
                cell.number_format = DATE_FORMAT
            elif isinstance(cell.value, str) and "\n" in cell.value:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    if header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(1, len(rows) + 1)}"
    for index, title in enumerate(header, start=1):
        fit = max([_width(title), *(_width(r[index - 1]) for r in rows if len(r) >= index)])
        if widths is not None and index <= len(widths):
            fit = max(fit, widths[index - 1])
        sheet.column_dimensions[get_column_letter(index)].width = min(MAX_WIDTH, fit + 2)


def workbook_bytes(sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]]) -> bytes:
    """A workbook of (title, header, rows) sheets as XLSX bytes."""
    book = Workbook()
    book.remove(book.active)
    for title, header, rows in sheets:
        fill_sheet(book.create_sheet(sheet_title(title)), header, rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


__all__ = ["XLSX_MIME", "ZIP_MIME", "fill_sheet", "sheet_title", "workbook_bytes"]
