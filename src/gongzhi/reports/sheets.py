"""The layout offices keep their ledgers in (台账), for every workbook this app writes.

A merged title row naming the place and the period, a summary block of the period's figures
where one fits, a header row, thin borders, set column widths, wrapped text, the header frozen,
A4 landscape with the header rows repeated on every printed page, and a footer line
(制表单位, 制表时间) both under the table and in the printed page footer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
HEADER_FILL = PatternFill("solid", fgColor="E8EEF5")
PERCENT = "0.0%"


@dataclass(frozen=True)
class Column:
    title: str
    width: float
    number_format: str | None = None


def rate(value: float | None) -> float | str:
    """A rate for a cell: the fraction (shown with a percentage format), or ``—``."""
    return "—" if value is None else value


class LedgerSheet:
    """Write one ledger sheet: :meth:`summary` (optional), then :meth:`rows`, then
    :meth:`finish`."""

    def __init__(self, ws: Worksheet, title: str, columns: Sequence[Column], *, unit: str):
        self.ws, self.columns, self.unit = ws, list(columns), unit
        self.width = len(self.columns)
        self.count = 0
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=self.width)
        cell = ws.cell(row=1, column=1)
        cell.font = Font(bold=True, size=15)
        cell.alignment = CENTRE
        ws.row_dimensions[1].height = 30
        for i, col in enumerate(self.columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = col.width
        self.header_row: int | None = None

    def summary(self, pairs: Iterable[tuple[str, Any]], *, per_row: int = 4) -> None:
        """A block of ``label: value`` pairs above the table (the figures of the period)."""
        pairs = list(pairs)
        if not pairs:
            return
        ws = self.ws
        per_row = max(1, min(per_row, self.width // 2))
        for i in range(0, len(pairs), per_row):
            row = ws.max_row + 1
            for j, (label, value) in enumerate(pairs[i:i + per_row]):
                lab = ws.cell(row=row, column=2 * j + 1, value=label)
                lab.font = Font(bold=True)
                lab.alignment = WRAP
                val = ws.cell(row=row, column=2 * j + 2, value=value)
                if isinstance(value, float):
                    val.number_format = PERCENT
                val.alignment = Alignment(horizontal="left", vertical="top")

    def header(self) -> None:
        ws = self.ws
        if ws.max_row > 1:
            ws.append([])
        ws.append([c.title for c in self.columns])
        self.header_row = ws.max_row
        for cell in ws[self.header_row]:
            cell.font = Font(bold=True)
            cell.alignment = CENTRE
            cell.border = BORDER
            cell.fill = HEADER_FILL
        ws.freeze_panes = ws.cell(row=self.header_row + 1, column=1)
        ws.print_title_rows = f"{self.header_row}:{self.header_row}"

    def row(self, values: Sequence[Any]) -> None:
        if self.header_row is None:
            self.header()
        self.count += 1
        self.ws.append(list(values))
        r = self.ws.max_row
        for col, cell in zip(self.columns, self.ws[r], strict=False):
            cell.border = BORDER
            cell.alignment = WRAP
            if col.number_format and not isinstance(cell.value, str):
                cell.number_format = col.number_format

    def rows(self, rows: Iterable[Sequence[Any]]) -> None:
        for values in rows:
            self.row(values)

    def finish(self, *, empty: str | None = None) -> None:
        ws = self.ws
        if self.header_row is None:
            self.header()
        if not self.count:
            ws.append([empty or _("本期无记录。")])
            ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row,
                           end_column=self.width)
        made = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        ws.append([])
        footer = _("制表单位：%(unit)s　　制表时间：%(at)s") % {"unit": self.unit, "at": made}
        ws.append([footer])
        ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row,
                       end_column=self.width)
        setup(ws, footer)


def setup(ws: Worksheet, footer: str) -> None:
    """A4 landscape, fit to the page width, the footer line and page numbers printed."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.left.text = footer
    ws.oddFooter.right.text = _("第 &P 页，共 &N 页")
