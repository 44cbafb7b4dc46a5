"""Issue 3 as a desk user lives it: build a network from an empty municipality.

By hand (network record, an organisation, its contact) and by importing a
council roster (Shift_JIS CSV), then the coverage matrix, "whom do I call?"
by typing, and the Excel-friendly export.
"""

import csv
import io

import openpyxl
import pytest

from portal.accounts.models import Role
from tests import factories as f
from tests.browser.conftest import log_in
from tests.conftest import arranged

pytestmark = pytest.mark.browser

HEADER = ("団体名,団体名ふりがな,区分,郵便番号,住所,電話番号,メールアドレス,ウェブサイト,状態,加入日,対応できる相談,公開同意,"
          "担当者名,担当者ふりがな,役職・部署,担当者電話番号,担当者メールアドレス,連絡がつく時間帯,主担当,最終確認日")
ROSTER = [
    "三芳町立みよし保育園,みよしほいくえん,保育所,354-0041,三芳町藤久保（見本）,049-999-1001,,,活動中,,保育所入所、一時預かり,はい,"
    "見本 花子,みほん はなこ,園長補佐,049-999-1002,hanako@miyoshi.example.jp,平日 9:00〜17:00,はい,{today}",
    "三芳町子育て支援センター,こそだてしえんせんたー,子育て支援センター,,,049-999-1101,,,活動中,,育児不安、仲間づくり,はい,"
    "例示 太郎,れいじ たろう,保育士,049-999-1102,taro@miyoshi.example.jp,,はい,{today}",
    "東入間警察署 生活安全課,ひがしいるまけいさつしょ,警察,,,049-999-1201,,,活動中,,虐待の疑い,いいえ,"
    "仮野 次郎,かりの じろう,係長,049-999-1202,,,はい,{today}",
]


@pytest.fixture
def miyoshi(app):
    with arranged(app):
        return f.user(Role.DESK, f.municipality("113247"), email="desk.miyoshi@example.jp").email


def test_desk_builds_a_network_from_nothing(page, live_server, miyoshi, shoot, tmp_path):
    from portal.timeutil import today_jst

    base = live_server
    log_in(page, base, miyoshi, landing="/m/113247/")

    # 1. The network record, by hand.
    page.get_by_role("link", name="ネットワークを登録する").click()
    page.get_by_label("名称").fill("三芳町子育てネットワーク")
    page.get_by_label("設置の方法").select_option(label="既存の協議会等を活用")
    page.get_by_label("活用した協議会等").fill("要保護児童対策地域協議会")
    page.get_by_role("button", name="保存する").click()
    assert page.get_by_text("ネットワークの情報を保存しました。").is_visible()

    # 2. One organisation and its contact, by hand.
    page.get_by_role("navigation", name="三芳町のメニュー").get_by_role("link", name="構成員").click()
    page.get_by_role("link", name="構成員を追加").click()
    page.get_by_label("名称").fill("三芳町保健センター")
    page.get_by_label("ふりがな").fill("みよしまちほけんせんたー")
    page.get_by_label("区分").select_option(label="保健センター")
    page.get_by_label("発達相談").check()
    page.get_by_label("電話番号").fill("049-999-2001")
    page.get_by_role("button", name="保存する").click()
    page.get_by_label("氏名").fill("架空 美咲")
    page.get_by_label("ふりがな").fill("かくう みさき")
    page.get_by_label("電話番号").fill("049-999-2002")
    page.get_by_role("button", name="保存する").click()
    assert page.get_by_text("担当者「架空 美咲」さんを登録しました。").is_visible()
    shoot("member-detail")

    # 3. The council's roster, as Excel saves it in Japan: Shift_JIS.
    roster = tmp_path / "名簿.csv"
    roster.write_bytes(("\r\n".join([HEADER, *ROSTER]).format(today=today_jst().isoformat()) + "\r\n").encode("cp932"))
    page.goto(base + "/m/113247/members/import")
    page.get_by_label("名簿ファイル（CSV または Excel）").set_input_files(str(roster))
    page.get_by_role("button", name="確認する").click()
    assert page.get_by_role("heading", name="取り込み内容の確認").is_visible()
    shoot("import-preview")
    page.get_by_role("button", name="取り込む").click()
    rows = page.locator("[data-testid=member-table] tbody tr")
    assert rows.count() == 4
    shoot("member-list")

    # 4. The coverage matrix.
    page.goto(base + "/m/113247/network")
    coverage = page.locator("[data-testid=coverage]")
    for code in ("hoikusho", "shien_center", "hoken_center", "keisatsu"):
        assert coverage.locator(f"tr[data-category={code}]").get_attribute("data-state") == "present", code
    assert coverage.locator("tr[data-category=kominkan]").get_attribute("data-state") == "missing"
    assert page.get_by_text("（4 / 10 区分）").is_visible()
    shoot("network-coverage")
    shoot("network-coverage-360", width=360)
    page.set_viewport_size({"width": 1280, "height": 900})

    # 5. Whom do I call? Typing, not submitting, in hiragana and in half-width katakana.
    for query in ("ほけん", "ﾎｹﾝ"):
        page.goto(base + "/m/113247/whom")
        page.get_by_label("団体名・区分・相談の内容・担当者名").press_sequentially(query, delay=60)
        result = page.locator("#whom-results").get_by_role("link", name="三芳町保健センター")
        result.wait_for()
        assert page.locator("#whom-results").get_by_text("架空 美咲").is_visible()
        assert "q=" in page.url  # the address follows what was typed, so it can be shared
    shoot("whom")

    # 6. Export for Excel: UTF-8 with BOM, CRLF; and the .xlsx opens.
    page.goto(base + "/m/113247/members")
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV（Excel用）").first.click()
    data = (tmp_path / "export.csv")
    info.value.save_as(data)
    raw = data.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw
    exported = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert exported[0][0] == "団体名"
    assert {r[0] for r in exported[1:]} == {"三芳町保健センター", "三芳町立みよし保育園", "三芳町子育て支援センター", "東入間警察署 生活安全課"}
    with page.expect_download() as info:
        page.get_by_role("link", name="Excel（.xlsx）").first.click()
    book = tmp_path / "export.xlsx"
    info.value.save_as(book)
    sheet = openpyxl.load_workbook(book).active
    assert sheet.cell(1, 1).value == "団体名"
    assert sheet.max_row == 5
