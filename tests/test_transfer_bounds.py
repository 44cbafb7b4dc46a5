"""XLSX files that unpack into huge work are refused early, in Japanese, with a small page.

The files are built by writing the XML straight into a ZIP (openpyxl would
take minutes to write a million cells): what an attacker would upload.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.extensions import db
from tenants.transfer import parse, table, xlsxcheck
from tenants.transfer.models import ImportBatch
from tests import factories as f
from tests.conftest import arranged, csrf_token, login

M = f"/m/{f.NIIZA}"
MAIN = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
END = b"</sheetData></worksheet>"


def _workbook(sheet: bytes | None = None, shared: bytes | None = None) -> bytes:
    """A real two-cell workbook from openpyxl with its sheet or shared strings replaced."""
    wb = Workbook()
    wb.active.append(["団体名", "区分"])
    wb.active.append(["新座市保健センター", "保健センター"])
    plain = io.BytesIO()
    wb.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml" and sheet is not None:
                data = sheet
            if shared is not None and info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            if shared is not None and info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdShared" Type="http://schemas.openxmlformats'
                                    b'.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                                    b"</Relationships>")
            dst.writestr(info.filename, data)
        if shared is not None:
            dst.writestr("xl/sharedStrings.xml", shared)
    return out.getvalue()


def million_cell_row() -> bytes:
    return _workbook(sheet=MAIN + b'<row r="1">' + b"<c><v>1</v></c>" * 1_000_000 + b"</row>" + END)


def many_wide_rows() -> bytes:
    """2,000 rows of 999 formatted cells each: under the per-row bound, over the per-sheet one."""
    row = b"<c/>" * 999
    return _workbook(sheet=MAIN + b"".join(b'<row r="%d">' % n + row + b"</row>" for n in range(1, 2001)) + END)


def long_shared_string(chars: int) -> bytes:
    shared = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
              b"<si><t>" + b"a" * chars + b"</t></si></sst>")
    sheet = MAIN + b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>' + END
    return _workbook(sheet=sheet, shared=shared)


@pytest.fixture
def desk(app, client):
    with arranged(app):
        m = f.municipality(f.NIIZA)
        f.network(m)
        email = f.user(Role.DESK, m).email
    login(client, email)
    return client


def upload(client, data: bytes, filename="名簿.xlsx"):
    token = csrf_token(client)
    return client.post(f"{M}/members/import", data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def _batches(app) -> int:
    with arranged(app):
        return db.session.scalar(select(func.count(ImportBatch.id)))


@pytest.mark.parametrize("build,message", [
    (million_cell_row, "1行目のセルが多すぎます（1行に 1,000 セルまで）"),
    (lambda: long_shared_string(50 * 1024 * 1024), "Excelファイルの中身が大きすぎます（展開後 25 MB まで）"),
    (lambda: long_shared_string(1_000_000), "文字数が多すぎるセルがあります（1つのセルに 10,000 文字まで）"),
    (many_wide_rows, "セルが多すぎます（1つのシートに 300,000 セルまで）"),
], ids=["1000000-cells-in-a-row", "50-MB-shared-string", "1-MB-cell", "2000-rows-of-999-cells"])
def test_files_that_unpack_into_huge_work_are_refused(app, desk, build, message):
    data = build()
    assert len(data) < 200_000  # small on the wire: the danger is in unpacking
    response = upload(desk, data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert len(html) < 100_000
    assert _batches(app) == 0


def test_the_checks_stop_at_the_first_excess():
    with zipfile.ZipFile(io.BytesIO(million_cell_row())) as z, pytest.raises(xlsxcheck.LimitExceeded, match="セルが多すぎます"):
        xlsxcheck.check(z)
    with pytest.raises(table.FileFormatError, match="セルが多すぎます"):
        table.read_table(million_cell_row(), max_rows=10)


def test_a_normal_workbook_still_reads(app, desk):
    response = upload(desk, _workbook())
    assert response.status_code == 302
    assert _batches(app) == 1


def test_a_long_csv_cell_is_refused_and_a_long_heading_is_echoed_short(app, desk):
    too_long = ("団体名,区分\r\n新座市保健センター," + "あ" * 20_000 + "\r\n").encode("utf-8")
    response = upload(desk, too_long, "名簿.csv")
    assert response.status_code == 400
    assert "2行目に文字数が多すぎるセルがあります" in response.get_data(as_text=True)

    heading = "謎" * 9_000
    data = (f"団体名,区分,{heading}\r\n新座市保健センター,保健センター\r\n").encode()
    response = upload(desk, data, "名簿.csv")
    preview = desk.get(response.headers["Location"]) if response.status_code == 302 else response
    html = preview.get_data(as_text=True)
    assert "は使えません" in html and heading not in html
    assert len(html) < 60_000
    with arranged(app):
        problems = db.session.scalars(select(ImportBatch)).one().problems
    assert all(len(p["message"]) <= parse.MAX_PROBLEM_MESSAGE and len(p["column"]) <= parse.MAX_PROBLEM_COLUMN
               for p in problems)
