"""Safe spreadsheet cells (表格单元格防注入): text that a spreadsheet would run as a formula
is written as text.

OWASP's CSV-injection rule: a cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is prefixed with a single quote, so Excel, WPS and LibreOffice show it and never
evaluate it (``=HYPERLINK(…)`` in a project name would otherwise be a live link in the office's
ledger). Numbers, dates and empty cells pass unchanged. One rule for every XLSX and CSV file."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: Any) -> Any:
    """`value`, with a leading quote when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    """Every cell of `row` through `text_cell`."""
    return [text_cell(value) for value in row]


__all__ = ["FORMULA_STARTS", "safe_row", "text_cell"]
