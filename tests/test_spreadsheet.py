"""portal.spreadsheet: the one writer of CSV and XLSX downloads."""

from __future__ import annotations

import csv
import io
from datetime import date
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from portal.spreadsheet import BOM, XLSX_TYPE, download, neutralise, unneutralise, write_csv, write_xlsx

HEADER = ["団体名", "区分", "加入日", "構成員数", "公開同意", "備考"]
ROWS = [
    ["新座市保健センター", "保健センター", date(2026, 4, 1), 12, True, "改行を\n含む, カンマも"],
    ["=HYPERLINK(\"http://evil\")", "+1", None, 0.5, False, "@SUM(A1)"],
    ["-2", "'=already quoted", date(2019, 5, 1), -3, None, "\tタブ"],
]


def _csv_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body[len(BOM):].decode("utf-8"), newline="")))


def test_csv_starts_with_a_bom_and_ends_lines_with_crlf():
    body = write_csv(HEADER, ROWS)
    assert body.startswith(BOM)
    text = body[len(BOM):].decode("utf-8")
    assert text.startswith("団体名,区分,加入日,構成員数,公開同意,備考\r\n")
    assert text.endswith("\r\n")
    # Every record ends in CRLF; the quoted line break inside a cell stays a bare LF.
    assert text.count("\r\n") == len(ROWS) + 1
    assert "改行を\n含む" in text


def test_csv_cells_as_text():
    rows = _csv_rows(write_csv(HEADER, ROWS))
    assert rows[0] == HEADER
    assert rows[1] == ["新座市保健センター", "保健センター", "2026-04-01", "12", "はい", "改行を\n含む, カンマも"]
    assert rows[2][2:5] == ["", "0.5", "いいえ"]
    assert rows[3][4] == ""


def test_csv_neutralises_formula_cells_and_the_guard_comes_off_again():
    rows = _csv_rows(write_csv(HEADER, ROWS))
    assert rows[2][0] == "'=HYPERLINK(\"http://evil\")"
    assert rows[2][1] == "'+1"
    assert rows[2][5] == "'@SUM(A1)"
    assert rows[3][0] == "'-2"
    assert rows[3][3] == "'-3"
    assert rows[3][5] == "'\tタブ"
    assert rows[3][1] == "''=already quoted"
    read_back = [unneutralise(c) for c in (*rows[2][:2], *rows[3][:2])]
    assert read_back == [*ROWS[1][:2], *ROWS[2][:2]]


@pytest.mark.parametrize("cell", ["", "普通の文字", "a=b", "03-1234-5678", "'引用"])
def test_ordinary_cells_are_left_alone(cell):
    assert neutralise(cell) == cell
    assert unneutralise(cell) == cell


def test_xlsx_reads_back_with_the_same_values_and_formulas_stay_text():
    body = write_xlsx(HEADER, ROWS, widths=[30, 18, 12, 8, 8, 20], title="構成員一覧")
    book = load_workbook(io.BytesIO(body))
    sheet = book.active
    assert sheet.title == "構成員一覧"
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.bold
    assert sheet.column_dimensions["A"].width == 30
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == tuple(HEADER)
    first = values[1]
    assert first[0] == "新座市保健センター"
    assert first[2].date() == date(2026, 4, 1)
    assert first[3] == 12
    assert first[4] == "はい"
    assert first[5] == "改行を\n含む, カンマも"
    # Text cells, not formulas: Excel shows them as typed and never runs them.
    assert values[2][0] == "=HYPERLINK(\"http://evil\")"
    assert sheet["A3"].data_type == "s"
    assert sheet["F3"].data_type == "s"
    assert values[2][1:5] == ("+1", None, 0.5, "いいえ")  # None: an empty cell
    assert values[3][3] == -3


def test_xlsx_keeps_left_columns_in_view_and_cuts_a_long_title():
    body = write_xlsx(HEADER, [], widths=[10] * 6, title="設" * 40, frozen_columns=2, wrap_header=True)
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet.freeze_panes == "C2"
    assert sheet["A1"].alignment.wrap_text
    assert sheet.title == "設" * 31


def test_download_names_the_file_in_japanese_with_an_ascii_fallback():
    response = download(b"x", "構成員一覧_新座市.xlsx", "members.xlsx")
    assert response.content_type == XLSX_TYPE
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=\"members.xlsx\"; filename*=UTF-8''{quote('構成員一覧_新座市.xlsx')}"
    )
    assert response.headers["Cache-Control"] == "no-store"
    plain = download(b"x", "network-status-2026-04-01.csv")
    assert plain.content_type == "text/csv; charset=utf-8"
    assert 'filename="network-status-2026-04-01.csv"' in plain.headers["Content-Disposition"]
    with pytest.raises(ValueError):
        download(b"x", "構成員一覧.csv")
