"""構成員名簿の取り込み・書き出し: formats, checks, all-or-nothing, no-op re-imports, isolation."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime
from urllib.parse import quote

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal import spreadsheet
from portal.accounts.models import Role
from portal.extensions import db
from portal.japanese import InputError
from tenants.core.audit import AuditEntry
from tenants.members.models import Contact, MemberOrganization
from tenants.transfer import columns, parse, table
from tenants.transfer.models import ImportBatch
from tests import factories as f
from tests.conftest import arranged, count_queries, csrf_token, login

HEADER = ",".join(columns.HEADERS)


def row(name="新座市保健センター", category="保健センター", contact="", **cells) -> str:
    """One CSV line in the template's column order; cells by header name."""
    values = dict.fromkeys(columns.HEADERS, "")
    values.update({"団体名": name, "区分": category, "担当者名": contact})
    values.update(cells)
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([values[h] for h in columns.HEADERS])
    return out.getvalue()


def csv_bytes(*lines: str, header: str = HEADER, encoding: str = "utf-8-sig") -> bytes:
    return "\r\n".join([header, *lines]).encode(encoding) + b"\r\n"


GOOD_LINES = (
    row("新座市保健センター", "保健センター", "野火止 花子", 電話番号="048-477-1111", 主担当="はい",
        担当者ふりがな="のびどめ はなこ", 最終確認日="2026-04-01", 対応できる相談="育児不安、発達相談", 公開同意="はい"),
    row("新座市保健センター", "保健センター", "大和田 一郎", 電話番号="048-477-1111", 対応できる相談="育児不安、発達相談",
        公開同意="はい", 担当者電話番号="048-477-1112"),
    row("にいざ保育園", "保育園", "片山 さくら", 郵便番号="3528623", 加入日="令和8年4月1日"),
    row("新座警察署", "警察", ""),
)


@pytest.fixture
def towns(app):
    """新座市 (with a desk user) and 川越市 (with its own desk user and one organisation)."""
    with arranged(app):
        niiza, kawagoe = f.municipality(f.NIIZA), f.municipality(f.KAWAGOE)
        f.network(niiza)
        f.network(kawagoe)
        other = f.organization(kawagoe, "川越市保健センター", "hoken_center", phone="049-224-8811")
        f.contact(other, "川越 太郎")
        return {
            "niiza": niiza.code,
            "kawagoe": kawagoe.code,
            "desk": f.user(Role.DESK, niiza).email,
            "kawagoe_desk": f.user(Role.DESK, kawagoe).email,
        }


def snapshot(app, code: str) -> dict:
    """Everything an import may touch in one municipality, plus its audit entry count."""
    with arranged(app):
        m = f.municipality(code)
        orgs = db.session.scalars(
            select(MemberOrganization)
            .where(MemberOrganization.municipality_id == m.id)
            .options(selectinload(MemberOrganization.contacts))
            .order_by(MemberOrganization.name_key)
        ).all()
        data = []
        for o in orgs:
            fields = {c.name: getattr(o, c.name) for c in MemberOrganization.__table__.columns}
            fields["contacts"] = [
                {c.name: getattr(x, c.name) for c in Contact.__table__.columns}
                for x in sorted(o.contacts, key=lambda x: x.name_key)
            ]
            data.append(fields)
        audits = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.municipality_id == m.id))
        return {"orgs": data, "audits": audits}


def upload(client, code: str, data: bytes, filename: str = "名簿.csv"):
    token = csrf_token(client)
    return client.post(
        f"/m/{code}/members/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def batch_id_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    match = re.search(r"/members/import/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def apply(client, code: str, batch_id: int):
    token = csrf_token(client)
    return client.post(f"/m/{code}/members/import/{batch_id}/apply", data={"csrf_token": token})


def import_file(client, code: str, data: bytes, filename: str = "名簿.csv"):
    """Upload, check the preview is clean, apply; the response of the apply."""
    batch_id = batch_id_of(upload(client, code, data, filename))
    preview = client.get(f"/m/{code}/members/import/{batch_id}")
    assert "問題の一覧" not in preview.get_data(as_text=True)
    return apply(client, code, batch_id)


def page_text(response) -> str:
    return response.get_data(as_text=True)


def seed_roster(app, code: str) -> None:
    """A varied roster made through the real services."""
    with arranged(app):
        m = f.municipality(code)
        health = f.organization(
            m, "新座市保健センター", "hoken_center", name_kana="にいざしほけんせんたー", postal_code="352-0011",
            address="新座市野火止1-2-3", phone="048-477-1111", email="hoken@example.jp",
            website="https://www.example.jp/hoken", status="active", joined_on=date(2009, 7, 1),
            consultation_tags=["育児不安", "発達相談"], public_consent=True,
        )
        f.contact(health, "野火止 花子", name_kana="のびどめ はなこ", title="母子保健係", phone="048-477-1112",
                  email="nobidome@example.jp", reachable_hours="平日 9:00〜17:00")
        f.contact(health, "大和田 一郎", confirmed=None)
        nursery = f.organization(m, "にいざ保育園", "hoikusho", name_kana="にいざほいくえん", status="suspended")
        f.contact(nursery, "片山 さくら", confirmed=date(2025, 3, 31))
        f.contact(nursery, "栗原 次郎", is_primary=True)
        f.organization(m, "=HYPERLINK(\"http://evil.example\")", "other", address="@SUM(A1)")
        f.organization(m, "新座警察署", "keisatsu")


# --- import --------------------------------------------------------------------------


def test_import_into_an_empty_municipality_creates_organizations_and_contacts(app, client, towns):
    login(client, towns["desk"])
    response = upload(client, towns["niiza"], csv_bytes(*GOOD_LINES))
    batch_id = batch_id_of(response)

    preview = page_text(client.get(f"/m/{towns['niiza']}/members/import/{batch_id}"))
    assert "団体 3件・担当者 3人" in preview
    assert "新規 3・変更 0・変更なし 0" in preview
    assert "取り込む" in preview
    # The preview itself wrote nothing.
    assert snapshot(app, towns["niiza"])["orgs"] == []

    response = apply(client, towns["niiza"], batch_id)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/m/{towns['niiza']}/members")
    after = snapshot(app, towns["niiza"])
    by_name = {o["name"]: o for o in after["orgs"]}
    assert set(by_name) == {"新座市保健センター", "にいざ保育園", "新座警察署"}
    health = by_name["新座市保健センター"]
    assert health["category"] == "hoken_center"
    assert health["phone"] == "048-477-1111"
    assert health["consultation_tags"] == ["育児不安", "発達相談"]
    assert health["public_consent"] is True
    contacts = {c["name"]: c for c in health["contacts"]}
    assert contacts["野火止 花子"]["is_primary"] is True
    assert contacts["野火止 花子"]["last_confirmed_on"] == date(2026, 4, 1)
    assert contacts["大和田 一郎"]["is_primary"] is False
    assert contacts["大和田 一郎"]["phone"] == "048-477-1112"
    nursery = by_name["にいざ保育園"]
    assert nursery["category"] == "hoikusho"  # 「保育園」 is an alias
    assert nursery["postal_code"] == "352-8623"
    assert nursery["joined_on"] == date(2026, 4, 1)  # 令和8年4月1日
    assert by_name["新座警察署"]["contacts"] == []
    # 3 organisations + 3 contacts created, one summary entry for the import.
    with arranged(app):
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.municipality_id == f.municipality(f.NIIZA).id)).all()
        summary = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import"))
        assert summary.entity_label == "名簿.csv"
        assert summary.changes["団体"] == "新規3件・変更0件・変更なし0件"
    assert sorted(actions) == ["create"] * 6 + ["import"]

    members_page = page_text(client.get(response.headers["Location"]))
    assert "名簿を取り込みました。団体 新規3件・変更0件・変更なし0件、担当者 新規3件・変更0件・変更なし0件。" in members_page


def test_re_importing_the_same_file_changes_nothing(app, client, towns):
    login(client, towns["desk"])
    data = csv_bytes(*GOOD_LINES)
    assert import_file(client, towns["niiza"], data).status_code == 302
    before = snapshot(app, towns["niiza"])

    batch_id = batch_id_of(upload(client, towns["niiza"], data))
    preview = page_text(client.get(f"/m/{towns['niiza']}/members/import/{batch_id}"))
    assert "取り込んでも何も変わりません" in preview
    assert "同じファイルを" in preview  # ... was imported before
    response = apply(client, towns["niiza"], batch_id)
    assert response.status_code == 302
    assert snapshot(app, towns["niiza"]) == before  # same values, no new audit entries
    assert "変更はありません" in page_text(client.get(response.headers["Location"]))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_is_a_no_op(app, client, towns, fmt):
    seed_roster(app, towns["niiza"])
    before = snapshot(app, towns["niiza"])
    login(client, towns["desk"])
    exported = client.get(f"/m/{towns['niiza']}/members/export.{fmt}")
    assert exported.status_code == 200

    batch_id = batch_id_of(upload(client, towns["niiza"], exported.data, f"export.{fmt}"))
    preview = page_text(client.get(f"/m/{towns['niiza']}/members/import/{batch_id}"))
    assert "団体 4件・担当者 4人" in preview
    assert "新規 0・変更 0・変更なし 4" in preview
    assert apply(client, towns["niiza"], batch_id).status_code == 302
    assert snapshot(app, towns["niiza"]) == before


def test_changed_fields_only_are_updated_and_audited(app, client, towns):
    seed_roster(app, towns["niiza"])
    login(client, towns["desk"])
    exported = client.get(f"/m/{towns['niiza']}/members/export.csv").data.decode("utf-8-sig")
    edited = (
        exported.replace("048-477-1111", "048-477-9999")
        .replace("片山 さくら,,,,,,いいえ", "片山 さくら,,,,,,はい")
        .replace("栗原 次郎,,,,,,はい", "栗原 次郎,,,,,,いいえ")
    )
    assert edited != exported
    before = snapshot(app, towns["niiza"])

    batch_id = batch_id_of(upload(client, towns["niiza"], edited.encode("utf-8-sig")))
    preview = page_text(client.get(f"/m/{towns['niiza']}/members/import/{batch_id}"))
    assert "048-477-9999" in preview and "<del>048-477-1111</del>" in preview
    assert apply(client, towns["niiza"], batch_id).status_code == 302

    after = snapshot(app, towns["niiza"])
    by_name = {o["name"]: o for o in after["orgs"]}
    assert by_name["新座市保健センター"]["phone"] == "048-477-9999"
    nursery = {c["name"]: c["is_primary"] for c in by_name["にいざ保育園"]["contacts"]}
    assert nursery == {"片山 さくら": True, "栗原 次郎": False}
    with arranged(app):
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.municipality_id == f.municipality(f.NIIZA).id)
            .order_by(AuditEntry.id).offset(before["audits"])
        ).all()
        new = [(e.action, e.entity, e.changes) for e in entries if e.action != "import"]
    # In file order (the nursery comes first); the old primary gives way before the new one takes over.
    assert new == [
        ("update", "contact", {"is_primary": [True, False]}),
        ("update", "contact", {"is_primary": [False, True]}),
        ("update", "organization", {"phone": ["048-477-1111", "048-477-9999"]}),
    ]
    assert after["audits"] == before["audits"] + 4  # three updates and the import itself


def test_empty_date_cells_keep_stored_dates(app, client, towns):
    seed_roster(app, towns["niiza"])
    before = snapshot(app, towns["niiza"])
    login(client, towns["desk"])
    data = csv_bytes(
        row("新座市保健センター", "保健センター", "野火止 花子", 団体名ふりがな="にいざしほけんせんたー",
            郵便番号="352-0011", 住所="新座市野火止1-2-3", 電話番号="048-477-1111", メールアドレス="hoken@example.jp",
            ウェブサイト="https://www.example.jp/hoken", 対応できる相談="育児不安、発達相談", 公開同意="はい",
            担当者ふりがな="のびどめ はなこ", **{"役職・部署": "母子保健係"}, 担当者電話番号="048-477-1112",
            担当者メールアドレス="nobidome@example.jp", 連絡がつく時間帯="平日 9:00〜17:00", 主担当="はい"),
    )
    assert import_file(client, towns["niiza"], data).status_code == 302
    assert snapshot(app, towns["niiza"]) == before


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp932"])
def test_utf8_with_and_without_bom_and_shift_jis_read_the_same(app, client, towns, encoding):
    data = csv_bytes(*GOOD_LINES, encoding=encoding)
    if encoding == "utf-8-sig":
        assert data.startswith(spreadsheet.BOM)
    reference = parse.parse(table.read_table(csv_bytes(*GOOD_LINES), max_rows=100))
    parsed = parse.parse(table.read_table(data, max_rows=100))
    assert parsed.problems == [] and parsed.records == reference.records
    login(client, towns["desk"])
    assert import_file(client, towns["niiza"], data).status_code == 302
    names = sorted(o["name"] for o in snapshot(app, towns["niiza"])["orgs"])
    assert names == sorted(["新座市保健センター", "にいざ保育園", "新座警察署"])


def test_xlsx_import_reads_dates_and_numbers_from_cells(app, client, towns):
    wb = Workbook()
    ws = wb.active
    ws.append(["団体名", "区分", "郵便番号", "加入日", "担当者名", "主担当", "最終確認日"])
    ws.append(["新座市子育て支援センター", "子育てひろば", 3528623, date(2020, 4, 1), "中野 みどり", True, date(2026, 5, 1)])
    ws.append([])  # a blank row in between is skipped
    ws.append(["新座市立第一小学校", "小学校", None, "2024/4/1"])
    out = io.BytesIO()
    wb.save(out)
    login(client, towns["desk"])
    assert import_file(client, towns["niiza"], out.getvalue(), "名簿.xlsx").status_code == 302
    by_name = {o["name"]: o for o in snapshot(app, towns["niiza"])["orgs"]}
    center = by_name["新座市子育て支援センター"]
    assert center["category"] == "shien_center"
    assert center["postal_code"] == "352-8623"
    assert center["joined_on"] == date(2020, 4, 1)
    assert center["contacts"][0]["last_confirmed_on"] == date(2026, 5, 1)
    assert center["contacts"][0]["is_primary"] is True
    assert by_name["新座市立第一小学校"]["joined_on"] == date(2024, 4, 1)


def test_xlsx_problems_are_reported_with_excel_row_numbers(app, client, towns):
    wb = Workbook()
    ws = wb.active
    ws.append(["団体名", "区分"])
    ws.append(["新座市保健センター", "保健センター"])
    ws.append([])
    ws.append(["謎の団体", "謎の区分"])
    out = io.BytesIO()
    wb.save(out)
    login(client, towns["desk"])
    batch_id = batch_id_of(upload(client, towns["niiza"], out.getvalue(), "名簿.xlsx"))
    with arranged(app):
        problems = db.session.get(ImportBatch, batch_id).problems
    assert problems == [{"line": 4, "column": "区分", "message": "区分「謎の区分」は登録されていません。"}]


def test_headers_match_whatever_the_width_and_spacing():
    data = csv_bytes("ﾆｲｻﾞ保育園,保育所,０４８－４７７－１１１１", header="団体名 ,区　分,電話番号（必須）")
    result = parse.parse(table.read_table(data, max_rows=10))
    assert result.problems == []
    assert result.records[0]["values"] == {"name": "ニイザ保育園", "category": "hoikusho", "phone": "048-477-1111"}


@pytest.mark.parametrize("header,column,message", [
    ("団体名,電話番号", "区分", "「区分」の列がありません。"),
    ("名前,区分", "名前", "見出し「名前」は使えません。"),
    ("団体名,区分,電話番号,電話", "電話", "見出し「電話番号」の列が2つあります"),
    ("団体名,区分,担当者電話番号", "担当者名", "「担当者名」の列も必要です。"),
])
def test_unknown_and_missing_headers_are_explained(header, column, message):
    result = parse.parse(table.read_table(f"{header}\r\nA,保育所,x\r\n".encode(), max_rows=10))
    assert any(p["line"] == 1 and p["column"] == column and message in p["message"] for p in result.problems), result.problems
    assert result.records == []


# --- bad input: a clear message, nothing stored changes ------------------------------------

BAD_ROWS = [
    pytest.param(
        row("にいざ保育園", "保育所", 電話番号="048-12"), 3, "電話番号", "電話番号「048-12」は正しい番号ではありません。",
        id="phone",
    ),
    pytest.param(
        row("にいざ保育園", "保育所", "片山 さくら", 担当者メールアドレス="katayama@@example"), 3, "担当者メールアドレス",
        "メールアドレス「katayama@@example」の形式が正しくありません。", id="email",
    ),
    pytest.param(
        row("にいざ保育園", "保育所", 郵便番号="352-86"), 3, "郵便番号", "郵便番号「352-86」は7桁の数字で入力してください",
        id="postal-code",
    ),
    pytest.param(row("にいざ保育園", "保育園協議会"), 3, "区分", "区分「保育園協議会」は登録されていません。", id="category"),
    pytest.param(
        row("新座市保健センター", "保健センター", 電話番号="048-477-2222"), 3, "電話番号",
        "「新座市保健センター」の電話番号が2行目と違います（「048-477-1111」と「048-477-2222」）。", id="duplicate-organization",
    ),
    pytest.param(
        row("新座市 保健センター", "保健センター"), 3, "団体名",
        "団体名「新座市 保健センター」は2行目の「新座市保健センター」と同じ団体として扱われます。", id="same-organization-spelled-twice",
    ),
    pytest.param(
        row("新座市保健センター", "保健センター", "野火止 花子"), 3, "担当者名",
        "担当者「野火止 花子」は2行目にもあります。", id="same-contact-twice",
    ),
    pytest.param(
        row("新座市保健センター", "保健センター", "大和田 一郎", 主担当="はい"), 3, "主担当",
        "主担当が2人います", id="two-primaries",
    ),
    pytest.param(row("にいざ保育園", "保育所", 状態="休業"), 3, "状態", "状態「休業」は「申請中・活動中・休止中・退会」", id="status"),
    pytest.param(row("にいざ保育園", "保育所", 対応できる相談="育児不安、占い"), 3, "対応できる相談", "対応できる相談「占い」は一覧にありません。", id="tag"),
    pytest.param(row("にいざ保育園", "保育所", 公開同意="たぶん"), 3, "公開同意", "「たぶん」は「はい」か「いいえ」で入力してください。", id="yes-no"),
    pytest.param(row("にいざ保育園", "保育所", 加入日="2026-02-30"), 3, "加入日", "日付「2026-02-30」は 2026-04-01 のように", id="date"),
    pytest.param(row("", "保育所"), 3, "団体名", "団体名を入力してください。", id="no-name"),
    pytest.param(row("にいざ保育園", "保育所", 担当者電話番号="048-477-1111"), 3, "担当者名",
                 "担当者名を入力してください（「担当者電話番号」に入力があります）。", id="contact-without-name"),
    pytest.param(row("にいざ保育園", "保育所", "長" * 101), 3, "担当者名", "100文字以内で入力してください。", id="contact-name-too-long"),
    pytest.param(row("に" * 121, "保育所"), 3, "団体名", "120文字以内で入力してください。", id="name-too-long"),
]


@pytest.mark.parametrize("bad,line,column,message", BAD_ROWS)
def test_bad_rows_are_listed_and_nothing_is_imported(app, client, towns, bad, line, column, message):
    seed_roster(app, towns["niiza"])
    before = snapshot(app, towns["niiza"])
    login(client, towns["desk"])
    first = row("新座市保健センター", "保健センター", "野火止 花子", 電話番号="048-477-1111", 主担当="はい")
    later = row("新座警察署", "警察", 電話番号="048-481-0110")
    batch_id = batch_id_of(upload(client, towns["niiza"], csv_bytes(first, bad, later)))

    preview = client.get(f"/m/{towns['niiza']}/members/import/{batch_id}")
    html = page_text(preview)
    assert "問題をすべて直してから、もう一度ファイルを選んでください。何も取り込まれていません。" in html
    assert "取り込む</button>" not in html
    with arranged(app):
        problems = db.session.get(ImportBatch, batch_id).problems
    assert any(p["line"] == line and p["column"] == column and message in p["message"] for p in problems), problems
    assert len(problems) == 1, problems

    refused = apply(client, towns["niiza"], batch_id)
    assert refused.status_code == 409
    assert "問題のあるファイルは取り込めません" in page_text(refused)
    assert snapshot(app, towns["niiza"]) == before


def test_three_good_rows_and_one_bad_row_import_nothing(app, client, towns):
    login(client, towns["desk"])
    lines = [*GOOD_LINES[:2], GOOD_LINES[3], row("にいざ保育園", "保育所", 電話番号="12345")]
    batch_id = batch_id_of(upload(client, towns["niiza"], csv_bytes(*lines)))
    assert apply(client, towns["niiza"], batch_id).status_code == 409
    assert snapshot(app, towns["niiza"]) == {"orgs": [], "audits": 0}


def test_a_failure_while_applying_rolls_everything_back(app, client, towns):
    """If a write fails half way (here: a batch altered after its checks), the earlier writes go too."""
    login(client, towns["desk"])
    batch_id = batch_id_of(upload(client, towns["niiza"], csv_bytes(*GOOD_LINES)))
    with arranged(app):
        batch = db.session.get(ImportBatch, batch_id)
        rows = [dict(r) for r in batch.rows]
        rows[-1] = {**rows[-1], "values": {**rows[-1]["values"], "phone": "not a phone"}}
        batch.rows = rows
    response = apply(client, towns["niiza"], batch_id)
    assert response.status_code == 409
    assert "何も取り込まれていません" in page_text(response)
    assert snapshot(app, towns["niiza"]) == {"orgs": [], "audits": 0}
    with arranged(app):
        assert db.session.get(ImportBatch, batch_id).applied_at is None


def test_applying_a_batch_twice_is_refused(app, client, towns):
    login(client, towns["desk"])
    batch_id = batch_id_of(upload(client, towns["niiza"], csv_bytes(*GOOD_LINES)))
    assert apply(client, towns["niiza"], batch_id).status_code == 302
    after_first = snapshot(app, towns["niiza"])
    again = apply(client, towns["niiza"], batch_id)
    assert again.status_code == 409
    assert "このファイルは既に取り込み済みです。" in page_text(again)
    assert snapshot(app, towns["niiza"]) == after_first
    preview = page_text(client.get(f"/m/{towns['niiza']}/members/import/{batch_id}"))
    assert "取り込み済みです" in preview and "取り込む</button>" not in preview


def test_a_20_mb_upload_is_refused_on_the_upload_page(app, client, towns):
    seed_roster(app, towns["niiza"])
    before = snapshot(app, towns["niiza"])
    login(client, towns["desk"])
    big = csv_bytes(*GOOD_LINES) + b"x" * (20 * 1024 * 1024)
    response = upload(client, towns["niiza"], big)
    assert response.status_code == 413
    html = page_text(response)
    assert "ファイルが大きすぎます（上限 5 MB）。" in html
    assert 'type="file"' in html  # the upload page, not the generic error page
    assert snapshot(app, towns["niiza"]) == before


def test_a_file_over_the_import_limit_but_under_the_request_limit_is_refused_too(app, client, towns):
    login(client, towns["desk"])
    response = upload(client, towns["niiza"], csv_bytes(*GOOD_LINES) + b"," * (6 * 1024 * 1024))
    assert response.status_code == 413
    assert "ファイルが大きすぎます（上限 5 MB）。" in page_text(response)
    with arranged(app):
        assert db.session.scalar(select(func.count(ImportBatch.id))) == 0


def test_oversized_uploads_do_not_bypass_the_access_policy(app, client, towns):
    big = b"x" * (11 * 1024 * 1024)
    anonymous = client.post(f"/m/{towns['niiza']}/members/import", data={"file": (io.BytesIO(big), "a.csv")})
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    login(client, towns["kawagoe_desk"])
    other = client.post(f"/m/{towns['niiza']}/members/import", data={"file": (io.BytesIO(big), "a.csv")})
    assert other.status_code == 404


def _zip(names: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, content in names.items():
            z.writestr(name, content)
    return out.getvalue()


MIXED = (HEADER + "\r\n").encode("utf-8") + (row("にいざ保育園", "保育所") + "\r\n").encode("cp932")

BAD_FILES = [
    pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "写真.png", table.MSG_NOT_A_TABLE, id="png"),
    pytest.param(b"abc\x00def\x00" * 50, "data.bin", table.MSG_NOT_A_TABLE, id="nul-bytes"),
    pytest.param(_zip({"readme.txt": b"hello"}), "archive.zip", table.MSG_NOT_A_TABLE, id="zip-not-xlsx"),
    pytest.param(_zip({"xl/workbook.xml": b"not xml"}), "broken.xlsx", table.MSG_BROKEN_XLSX, id="broken-xlsx"),
    pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls", table.MSG_XLS, id="xls"),
    pytest.param(MIXED, "mixed.csv", table.MSG_MIXED, id="mixed-encodings"),
    pytest.param(spreadsheet.BOM + HEADER.encode("cp932"), "bom-but-sjis.csv", table.MSG_MIXED, id="bom-with-shift-jis"),
    pytest.param(b"name,category\r\n\x82\xff,\x85\r\n", "garbage.csv", table.MSG_ENCODING, id="undecodable"),
    pytest.param(HEADER.encode("utf-16"), "unicode.txt", table.MSG_ENCODING, id="utf-16"),
    pytest.param(b"   \r\n", "empty.csv", table.MSG_EMPTY, id="empty"),
]


@pytest.mark.parametrize("data,filename,message", BAD_FILES)
def test_files_that_are_not_readable_tables_are_refused(app, client, towns, data, filename, message):
    seed_roster(app, towns["niiza"])
    before = snapshot(app, towns["niiza"])
    login(client, towns["desk"])
    response = upload(client, towns["niiza"], data, filename)
    assert response.status_code == 400
    assert message in page_text(response)
    assert snapshot(app, towns["niiza"]) == before
    with arranged(app):
        assert db.session.scalar(select(func.count(ImportBatch.id))) == 0


def test_messages_are_the_ones_users_are_told():
    assert table.MSG_ENCODING == "文字コードを判定できません。UTF-8 または Shift_JIS で保存してください。"
    assert table.MSG_MIXED.startswith("文字コードを判定できません")
    assert table.MSG_NOT_A_TABLE == "CSVファイルまたはExcelファイル（.xlsx）を選んでください。"


@pytest.mark.parametrize("cell,expected", [
    ("=1+1", "'=1+1"), ("+81", "'+81"), ("-5", "'-5"), ("@A1", "'@A1"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("048-477-1111", "048-477-1111"), ("a=b", "a=b"), ("'=1", "''=1"), ("'quoted'", "'quoted'"), ("", ""),
])
def test_formula_cells_are_neutralised_and_restored(cell, expected):
    assert spreadsheet.neutralise(cell) == expected
    assert spreadsheet.unneutralise(expected) == cell


def test_no_file_chosen(app, client, towns):
    login(client, towns["desk"])
    token = csrf_token(client)
    response = client.post(f"/m/{towns['niiza']}/members/import", data={"csrf_token": token})
    assert response.status_code == 400
    assert "ファイルを選んでください。" in page_text(response)


def test_too_many_rows_are_refused(app, client, towns):
    app.config["IMPORT_MAX_ROWS"] = 3
    login(client, towns["desk"])
    lines = [row(f"団体{i}", "その他") for i in range(4)]
    response = upload(client, towns["niiza"], csv_bytes(*lines))
    assert response.status_code == 400
    assert "行数が多すぎます（上限 3 行）。" in page_text(response)
    assert batch_id_of(upload(client, towns["niiza"], csv_bytes(*lines[:3]))) > 0


def test_a_full_size_file_is_read_in_memory_within_limits():
    lines = [row(f"団体{i // 2}", "その他", f"担当 {i}号", 電話番号="048-477-1111") for i in range(parse.DEFAULT_MAX_ROWS)]
    result = parse.parse(table.read_table(csv_bytes(*lines), max_rows=parse.DEFAULT_MAX_ROWS))
    assert result.problems == []
    assert result.organization_count == parse.DEFAULT_MAX_ROWS // 2
    assert result.contact_count == parse.DEFAULT_MAX_ROWS
    with pytest.raises(table.FileFormatError, match=f"上限 {parse.DEFAULT_MAX_ROWS:,} 行"):
        table.read_table(csv_bytes(*lines, row("もう1つ", "その他")), max_rows=parse.DEFAULT_MAX_ROWS)


def test_the_template_imports_only_once_its_example_row_is_replaced(app, client, towns):
    login(client, towns["desk"])
    template = client.get(f"/m/{towns['niiza']}/members/import/template.csv")
    assert template.status_code == 200
    assert template.data.startswith(spreadsheet.BOM)
    text = template.data.decode("utf-8-sig")
    assert text.splitlines()[0] == HEADER
    batch_id = batch_id_of(upload(client, towns["niiza"], template.data))
    with arranged(app):
        problems = db.session.get(ImportBatch, batch_id).problems
    assert problems == [{"line": 2, "column": "団体名", "message": "テンプレートの記入例の行が残っています。この行を削除してください。"}]
    # The example row itself is valid once it is no longer marked as an example.
    fixed = text.replace("（記入例）", "").encode("utf-8-sig")
    assert import_file(client, towns["niiza"], fixed).status_code == 302
    assert [o["name"] for o in snapshot(app, towns["niiza"])["orgs"]] == ["新座市保健センター"]


# --- cell formats ------------------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("2026-04-01", date(2026, 4, 1)),
    ("2026/4/1", date(2026, 4, 1)),
    ("２０２６年４月１日", date(2026, 4, 1)),
    ("令和8年4月1日", date(2026, 4, 1)),
    ("R8.4.1", date(2026, 4, 1)),
    ("令和元年5月1日", date(2019, 5, 1)),
    ("平成21年7月1日", date(2009, 7, 1)),
    ("", None),
])
def test_dates(text, expected):
    assert columns.parse_date(text) == expected


@pytest.mark.parametrize("text", ["2026-13-01", "令和1年4月30日", "昨日", "2026.4"])
def test_impossible_dates_are_refused(text):
    with pytest.raises(InputError, match="2026-04-01 のように"):
        columns.parse_date(text)


@pytest.mark.parametrize("text,expected", [
    ("はい", True), ("1", True), ("○", True), ("YES", True), ("true", True),
    ("いいえ", False), ("0", False), ("no", False), ("FALSE", False), ("", None),
])
def test_yes_no(text, expected):
    assert columns._yes_no(text) is expected


# --- export ---------------------------------------------------------------------------------


def test_csv_export_is_excel_friendly_and_neutralises_formulas(app, client, towns):
    seed_roster(app, towns["niiza"])
    with arranged(app):
        org = db.session.scalar(select(MemberOrganization).where(MemberOrganization.name == "新座警察署"))
        f.contact(org, "+田中", title="-1+1", reachable_hours="\t=1+1")
    login(client, towns["desk"])
    response = client.get(f"/m/{towns['niiza']}/members/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(spreadsheet.BOM)
    text = response.data.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(columns.HEADERS)
    cells = [cell for r in rows[1:] for cell in r]
    assert "'=HYPERLINK(\"http://evil.example\")" in cells
    assert "'@SUM(A1)" in cells
    assert "'+田中" in cells and "'-1+1" in cells and "'=1+1" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t")]
    # Category order then reading: 保健センター (core) before 警察 (related) before その他.
    names = [r[0] for r in rows[1:]]
    assert names.index("にいざ保育園") < names.index("新座市保健センター") < names.index("新座警察署") < names.index("'=HYPERLINK(\"http://evil.example\")")


def test_xlsx_export_has_a_bold_frozen_header_and_no_formulas(app, client, towns):
    seed_roster(app, towns["niiza"])
    login(client, towns["desk"])
    response = client.get(f"/m/{towns['niiza']}/members/export.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ws = load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert [c.value for c in ws[1]] == list(columns.HEADERS)
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].width == 30
    cells = [c for r in ws.iter_rows(min_row=2) for c in r]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert '=HYPERLINK("http://evil.example")' in [c.value for c in cells]
    assert datetime(2009, 7, 1) in [c.value for c in cells]  # 加入日 is a real date cell


def test_export_filename_is_japanese_with_an_ascii_fallback(app, client, towns):
    login(client, towns["desk"])
    disposition = client.get(f"/m/{towns['niiza']}/members/export.csv").headers["Content-Disposition"]
    assert re.fullmatch(
        r"attachment; filename=\"members_112305_\d{8}\.csv\"; "
        r"filename\*=UTF-8''" + re.escape(quote("構成員一覧_新座市_")) + r"\d{8}\.csv",
        disposition,
    ), disposition


def test_export_uses_a_constant_number_of_queries(app, client, towns):
    login(client, towns["desk"])

    def queries() -> int:
        with count_queries(app) as statements:
            assert client.get(f"/m/{towns['niiza']}/members/export.xlsx").status_code == 200
        return len(statements)

    with arranged(app):
        m = f.municipality(f.NIIZA)
        for i in range(2):
            f.contact(f.organization(m, f"団体A{i}"), "担当 一郎")
    few = queries()
    with arranged(app):
        m = f.municipality(f.NIIZA)
        for i in range(20):
            org = f.organization(m, f"団体B{i}")
            f.contact(org, "担当 一郎")
            f.contact(org, "担当 二郎")
    assert queries() == few


# --- isolation -----------------------------------------------------------------------------------


def test_a_batch_of_another_municipality_is_404(app, client, towns):
    login(client, towns["kawagoe_desk"])
    batch_id = batch_id_of(upload(client, towns["kawagoe"], csv_bytes(*GOOD_LINES)))
    niiza_desk = app.test_client()
    login(niiza_desk, towns["desk"])
    # Through 新座市's URL the batch does not exist ...
    assert niiza_desk.get(f"/m/{towns['niiza']}/members/import/{batch_id}").status_code == 404
    assert apply(niiza_desk, towns["niiza"], batch_id).status_code == 404
    # ... and 川越市's URL is not 新座市's desk's to enter.
    assert niiza_desk.get(f"/m/{towns['kawagoe']}/members/import/{batch_id}").status_code == 404
    with arranged(app):
        assert db.session.get(ImportBatch, batch_id).applied_at is None
    assert snapshot(app, towns["niiza"])["orgs"] == []


def test_export_contains_only_the_own_municipality(app, client, towns):
    seed_roster(app, towns["niiza"])
    login(client, towns["desk"])
    for fmt in ("csv", "xlsx"):
        body = client.get(f"/m/{towns['niiza']}/members/export.{fmt}").data
        text = body.decode("utf-8-sig") if fmt == "csv" else " ".join(
            str(c.value) for r in load_workbook(io.BytesIO(body)).worksheets[0].iter_rows() for c in r
        )
        assert "新座市保健センター" in text
        assert "川越" not in text and "049-224-8811" not in text


def test_import_into_one_municipality_leaves_the_other_alone(app, client, towns):
    before = snapshot(app, towns["kawagoe"])
    login(client, towns["desk"])
    data = csv_bytes(row("川越市保健センター", "保健センター", "川越 太郎", 電話番号="048-477-1111"))
    assert import_file(client, towns["niiza"], data).status_code == 302
    assert snapshot(app, towns["kawagoe"]) == before
    assert [o["name"] for o in snapshot(app, towns["niiza"])["orgs"]] == ["川越市保健センター"]
