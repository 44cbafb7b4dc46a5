"""The dashboard table as an Excel workbook: numbers stay numbers, text is never a formula."""

from __future__ import annotations

import io
from datetime import date
from typing import Any, Sequence


def xlsx(header: Sequence[str], rows: Sequence[Sequence[Any]], *, widths: Sequence[int], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    ws.freeze_panes = "C2"
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    head = []
    for name in header:
        cell = WriteOnlyCell(ws, value=name)
        cell.font, cell.alignment = bold, wrap
        head.append(cell)
    ws.append(head)
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, bool):
                value = "はい" if value else "いいえ"
            if isinstance(value, date):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, (int, float)):
                cell = WriteOnlyCell(ws, value=value)
            else:
                cell = WriteOnlyCell(ws, value="" if value is None else str(value))
                cell.data_type = "s"  # stored as text: never evaluated as a formula
            cells.append(cell)
        ws.append(cells)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
