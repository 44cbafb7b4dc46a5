"""Uploaded bytes → a table of numbered rows: CSV (UTF-8 or Shift_JIS) or Excel (.xlsx).

The first step of an import (then ``parse``, ``plan``, ``apply``). Rows are
numbered exactly as a person sees them in Excel: row 1 is the header, a
quoted cell with a line break is still one row. Anything that is not a CSV
or .xlsx file, or whose encoding cannot be told, raises ``FileFormatError``
with a Japanese message. Writing files is ``portal.spreadsheet``'s job.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from portal.spreadsheet import BOM
from tenants.transfer import xlsxcheck

MSG_NOT_A_TABLE = "CSVファイルまたはExcelファイル（.xlsx）を選んでください。"
MSG_ENCODING = "文字コードを判定できません。UTF-8 または Shift_JIS で保存してください。"
MSG_MIXED = (
    "文字コードを判定できません（UTF-8 の行と Shift_JIS の行が混在しています）。"
    "ファイル全体を UTF-8 または Shift_JIS で保存し直してください。"
)
MSG_XLS = "古い形式のExcelファイル（.xls）は読み込めません。Excelで「.xlsx」形式で保存し直してください。"
MSG_BROKEN_XLSX = "Excelファイルを読み取れません。ファイルが壊れていないか確認し、Excelで保存し直してください。"
MSG_EMPTY = "ファイルが空です。1行目に見出し、2行目から構成員を入力してください。"

MAX_COLUMNS = 60
# Rows read past the limit in a sheet, so blank formatted rows are tolerated.
XLSX_EMPTY_ROW_SLACK = 1_000


class FileFormatError(ValueError):
    """The file cannot be read as a table; the message is for the user."""


@dataclass(frozen=True)
class Table:
    kind: str  # "csv" or "xlsx"
    encoding: str  # "utf-8", "utf-8-sig", "cp932" or "" for xlsx
    rows: list[tuple[int, list[Any]]]  # (row number as Excel shows it, cells)


_BINARY_SIGNATURES = (
    b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"\x1f\x8b", b"BM", b"7z\xbc\xaf", b"Rar!",
    b"\x7fELF", b"MZ",
)


def read_table(data: bytes, *, max_rows: int) -> Table:
    """Rows of an uploaded CSV or .xlsx file; at most ``max_rows`` data rows."""
    if not data.strip():
        raise FileFormatError(MSG_EMPTY)
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, max_rows)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileFormatError(MSG_XLS)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" is UTF-16.
        raise FileFormatError(MSG_ENCODING)
    if data.startswith(_BINARY_SIGNATURES) or b"\x00" in data:
        raise FileFormatError(MSG_NOT_A_TABLE)
    text, encoding = decode(data)
    if _looks_binary(text):
        raise FileFormatError(MSG_NOT_A_TABLE)
    return Table("csv", encoding, _read_csv(text, max_rows))


def decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else Shift_JIS (cp932); never a guess between mixtures."""
    has_bom = data.startswith(BOM)
    body = data[len(BOM):] if has_bom else data
    try:
        return body.decode("utf-8"), "utf-8-sig" if has_bom else "utf-8"
    except UnicodeDecodeError:
        pass
    # Not UTF-8 as a whole. If some lines are clearly UTF-8 Japanese (3-byte
    # sequences) while others are not, two files were pasted together: cp932
    # would turn the UTF-8 lines into plausible-looking mojibake, so refuse.
    if has_bom or any(_is_utf8_japanese(line) for line in body.splitlines()):
        raise FileFormatError(MSG_MIXED)
    try:
        return body.decode("cp932"), "cp932"
    except UnicodeDecodeError:
        raise FileFormatError(MSG_ENCODING) from None


def _is_utf8_japanese(line: bytes) -> bool:
    if line.isascii():
        return False
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return any(ord(c) >= 0x800 for c in text)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    return len(_CONTROL.findall(sample)) > max(2, len(sample) // 100)


def _read_csv(text: str, max_rows: int) -> list[tuple[int, list[Any]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    rows: list[tuple[int, list[Any]]] = []
    try:
        # Excel numbers records, not physical lines: a quoted line break stays in its row.
        for number, cells in enumerate(reader, start=1):
            if not any(c.strip() for c in cells):
                continue  # blank rows keep their number but carry nothing
            if len(rows) > max_rows:  # the header plus max_rows rows already read
                raise FileFormatError(too_many_rows(max_rows))
            if len(cells) > MAX_COLUMNS:
                raise FileFormatError(f"{number}行目の列が多すぎます（上限 {MAX_COLUMNS} 列）。")
            if any(len(c) > xlsxcheck.MAX_CELL_CHARS for c in cells):
                raise FileFormatError(xlsxcheck.too_long_cell(number))
            rows.append((number, cells))
    except csv.Error as e:
        raise FileFormatError(f"CSVとして読み取れません（{len(rows) + 1}行目付近）。{MSG_NOT_A_TABLE}") from e
    if not rows:
        raise FileFormatError(MSG_EMPTY)
    return rows


def too_many_rows(max_rows: int) -> str:
    return f"行数が多すぎます（上限 {max_rows:,} 行）。ファイルを分けて取り込んでください。"


def _read_xlsx(data: bytes, max_rows: int) -> Table:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if "xl/workbook.xml" not in set(z.namelist()):
                # A ZIP, a .docx, an .ods ...: not something we read.
                raise FileFormatError(MSG_NOT_A_TABLE)
            xlsxcheck.check(z)
    except xlsxcheck.LimitExceeded as e:
        raise FileFormatError(str(e)) from None
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
        raise FileFormatError(MSG_NOT_A_TABLE) from None

    from openpyxl import load_workbook

    rows: list[tuple[int, list[Any]]] = []
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for damaged files
        raise FileFormatError(MSG_BROKEN_XLSX) from None
    try:
        if not wb.worksheets:
            raise FileFormatError(MSG_EMPTY)
        sheet = wb.worksheets[0]
        # A sheet may claim a million formatted rows; read a bounded number.
        values_by_row = sheet.iter_rows(max_row=max_rows + XLSX_EMPTY_ROW_SLACK, max_col=MAX_COLUMNS, values_only=True)
        for number, values in enumerate(values_by_row, start=1):
            cells = [_xlsx_value(v) for v in values]
            if any(isinstance(c, str) and len(c) > xlsxcheck.MAX_CELL_CHARS for c in cells):
                raise FileFormatError(xlsxcheck.too_long_cell(number))
            while cells and cells[-1] == "":
                cells.pop()
            if not any(isinstance(c, date) or c.strip() for c in cells):
                continue
            if len(rows) > max_rows:
                raise FileFormatError(too_many_rows(max_rows))
            rows.append((number, cells))
    except FileFormatError:
        raise
    except Exception:
        raise FileFormatError(MSG_BROKEN_XLSX) from None
    finally:
        wb.close()
    if not rows:
        raise FileFormatError(MSG_EMPTY)
    return Table("xlsx", "", rows)


def _xlsx_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
