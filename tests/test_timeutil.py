from datetime import date, datetime

import pytest

from portal.timeutil import fiscal_year_label, format_datetime_jst, wareki


@pytest.mark.parametrize(
    "value,expected",
    [
        (date(2026, 11, 24), "令和8年11月24日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
    ],
)
def test_wareki(value, expected):
    assert wareki(value) == expected


@pytest.mark.parametrize(
    "value,expected",
    [
        (date(2026, 11, 24), "令和8年度"),
        (date(2027, 3, 31), "令和8年度"),
        (date(2027, 4, 1), "令和9年度"),
        (date(2019, 6, 1), "令和元年度"),
        (date(2019, 3, 31), "平成30年度"),
        (date(2010, 4, 1), "平成22年度"),
    ],
)
def test_fiscal_year(value, expected):
    assert fiscal_year_label(value) == expected


def test_datetime_is_shown_in_japan_time():
    # 15:30 UTC is 00:30 the next day in Japan.
    assert format_datetime_jst(datetime(2026, 11, 24, 15, 30)) == "令和8年11月25日 00:30"
