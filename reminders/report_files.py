"""Reports as XLSX files (报表文件): `handlers/period_report.py` writes them (one sheet per
section, header frozen and filtered, text that looks like a formula kept as text); the
jobs here import them from this name."""

from __future__ import annotations

from handlers.office_xlsx import XLSX_MIME
from handlers.period_report import report_xlsx

__all__ = ["XLSX_MIME", "report_xlsx"]
