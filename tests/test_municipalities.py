from collections import Counter

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from tenants import municipalities
from tenants.codes import check_digit, is_valid_code
from tenants.models import Municipality


@pytest.mark.parametrize(
    "code,name",
    [("112305", "新座市"), ("111007", "さいたま市"), ("011002", "札幌市"), ("131016", "千代田区"), ("112071", "秩父市")],
)
def test_check_digit_of_known_codes(code, name):
    assert check_digit(code[:5]) == code[5], name
    assert is_valid_code(code)


@pytest.mark.parametrize("code", ["112306", "11230", "1123055", "abcdef", "", "11230５"])
def test_invalid_codes_are_rejected(code):
    assert not is_valid_code(code)


def test_bundle_has_every_municipality_of_japan():
    rows = municipalities.records()
    assert len(rows) == 1741
    assert len({r.code for r in rows}) == 1741
    assert all(is_valid_code(r.code) for r in rows)
    assert len({r.prefecture_code for r in rows}) == 47
    kinds = Counter(r.kind for r in rows)
    assert kinds["特別区"] == 23
    assert sum(r.designated_city for r in rows) == 20
    assert all(r.kana and 20 < r.lat < 46 and 122 < r.lng < 154 for r in rows)


def test_saitama_has_63_municipalities_40_cities_22_towns_1_village():
    rows = municipalities.records("11")
    assert len(rows) == 63
    assert Counter(r.kind for r in rows) == {"市": 40, "町": 22, "村": 1}
    by_code = {r.code: r for r in rows}
    assert by_code["112305"].name == "新座市"
    assert by_code["111007"].designated_city is True
    assert by_code["113697"].name == "東秩父村"


def test_load_is_idempotent(app):
    with app.app_context():
        assert municipalities.load("11") == (63, 0)
        assert municipalities.load("11") == (0, 0)
        db.session.commit()
        assert db.session.scalar(select(func.count(Municipality.id))) == 63


def test_cli_loads_the_configured_prefecture_then_another(runner, app):
    result = runner.invoke(args=["municipalities", "load"])
    assert result.exit_code == 0, result.output
    assert "埼玉県: 63 件を追加" in result.output
    result = runner.invoke(args=["municipalities", "load", "--prefecture", "13"])
    assert "東京都: 62 件を追加" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Municipality.id))) == 63 + 62


def test_cli_rejects_an_unknown_prefecture(runner):
    result = runner.invoke(args=["municipalities", "load", "--prefecture", "48"])
    assert result.exit_code != 0
    assert "都道府県コード 48 の市町村はありません" in result.output


def test_cli_loads_the_whole_country(runner, app):
    result = runner.invoke(args=["municipalities", "load", "--all"])
    assert result.exit_code == 0, result.output
    assert "全国: 1741 件を追加" in result.output
