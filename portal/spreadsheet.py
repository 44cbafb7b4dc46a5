"""Spreadsheet downloads: CSV and Excel (.xlsx) files that open cleanly in Excel.

CSV is UTF-8 with a BOM and CRLF line ends: without the BOM, Japanese Excel
reads UTF-8 as Shift_JIS and shows mojibake. XLSX keeps dates as dates and
numbers as numbers.

Both neutralise cells that a spreadsheet would run as a formula (OWASP "CSV
injection"): in a CSV such a cell gets a leading single quote (undone by
``unneutralise`` when a file of ours is read back, so an export re-imports
unchanged); in an XLSX every string is stored as a text cell, which Excel
never evaluates.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any
from urllib.parse import quote

from flask import Response

BOM = b"\xef\xbb\xbf"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_TYPES = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}

# Characters a spreadsheet treats as the start of a formula (and tab/CR, which
# some programs strip before looking).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _needs_quote(value: str) -> bool:
    # A value that itself starts with quotes before a formula character needs
    # one more, so that reading strips exactly what writing added.
    if value[:1] == "'":
        return _needs_quote(value[1:])
    return value[:1] in FORMULA_START and value != ""


def neutralise(value: str) -> str:
    """A cell that a spreadsheet would take for a formula gets a leading quote."""
    return "'" + value if _needs_quote(value) else value


def unneutralise(value: str) -> str:
    """Undo the CSV's formula guard: '=... → =..."""
    if value[:1] == "'" and _needs_quote(value[1:]):
        return value[1:]
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with BOM and CRLF, as Excel expects; formula-like cells neutralised."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(_text(v)) for v in row])
    return BOM + out.getvalue().encode("utf-8")


def write_xlsx(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    widths: Sequence[int],
    title: str,
    frozen_columns: int = 0,
    wrap_header: bool = False,
) -> bytes:
    """One sheet: bold frozen header, column widths in characters, typed cells.

    Dates are date cells, numbers number cells, everything else a text cell —
    even when it begins with "=", so Excel never evaluates it.
    ``frozen_columns`` keeps that many left columns in view as well.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])  # Excel's limit for a sheet name
    ws.freeze_panes = f"{get_column_letter(frozen_columns + 1)}2"
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    head = []
    for name in header:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        if wrap_header:
            cell.alignment = wrap
        head.append(cell)
    ws.append(head)
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, date):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                cell = WriteOnlyCell(ws, value=value)
            else:
                cell = WriteOnlyCell(ws, value=_text(value))
                cell.data_type = "s"  # stored as text: never evaluated as a formula
            cells.append(cell)
        ws.append(cells)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def download(body: bytes, filename: str, ascii_filename: str | None = None) -> Response:
    """A file download; the type follows the extension (.csv or .xlsx).

    The Japanese name goes in RFC 5987's ``filename*``; ``filename`` carries an
    ASCII name for clients that do not read it.
    """
    fallback = ascii_filename or filename
    if not fallback.isascii() or '"' in fallback:
        raise ValueError("a Japanese file name needs an ASCII fallback")
    response = Response(body, content_type=_TYPES[filename.rsplit(".", 1)[-1]])
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    # Personal data: no copies in shared caches or the browser's cache.
    response.headers["Cache-Control"] = "no-store"
    return response
