"""Issue 12: the grouped municipality menu (item 7) and the dashboard's readable charts (item 10)."""

import re
from datetime import date
from types import SimpleNamespace

import pytest

from dashboard import charts, services, vendor
from portal.accounts.models import Role
from tenants import navigation


def _user(role):
    return SimpleNamespace(is_authenticated=True, role_enum=role)


def test_the_desk_menu_has_every_item_in_three_groups(app):
    groups = navigation.groups_for(_user(Role.DESK))
    assert [g.label for g in groups] == ["日々の仕事", "ネットワークづくり", "管理"]
    labels = [i.label for g in groups for i in g.items]
    assert sorted(labels) == sorted(i.label for i in navigation.items_for(_user(Role.DESK)))
    assert len(labels) == 11
    assert labels[:4] == ["ホーム", "引継ぎ", "構成員", "誰に連絡？"]
    assert "変更履歴" in [i.label for i in groups[-1].items]


def test_a_member_gets_one_group_so_no_group_headings(app):
    assert [g.key for g in navigation.groups_for(_user(Role.MEMBER))] == ["daily"]
    assert navigation.groups_for(SimpleNamespace(is_authenticated=False)) == []


def test_an_unknown_group_is_refused():
    with pytest.raises(ValueError, match="unknown menu group"):
        navigation.nav_item("x", "X", "x.index", (Role.DESK,), order=1, group="misc")


def test_the_menu_renders_both_layouts_and_marks_the_current_page(app):
    from flask import render_template_string
    from flask_login import login_user

    from tenants.models import Municipality

    with app.test_request_context("/"):
        login_user(SimpleNamespace(is_authenticated=True, is_active=True, role_enum=Role.DESK, get_id=lambda: "1"))
        html = render_template_string('{% from "_macros.html" import municipality_nav %}{{ municipality_nav(m, "audit") }}',
                                      m=Municipality(code="112305", name="新座市"))
    assert html.count('aria-current="page"') == 2  # the wide bar and the phone's disclosure
    assert re.search(r'<summary[^>]*>.*メニュー.*変更履歴.*</summary>', html, re.DOTALL)
    assert html.count('role="group"') == 6


def _row(code, status, **kw):
    base = dict(id=int(code), code=code, name=f"市{code}", kana="し", kind="市", kind_label="市", is_city=True,
                latitude=35.8, longitude=139.5, network_name="N", established_on=None, declared_status=status,
                declared_on=date(2010, 1, 1), active_members=3, contacts=3, contacts_confirmed=3, activities_12m=1)
    return services.MunicipalityRow(**{**base, **kw})


def test_map_legend_names_each_status_once_without_a_second_symbol():
    rows = [_row("112305", "established"), _row("112011", "preparing"), _row("111007", "not_started", network_name=None,
                                                                              active_members=0)]
    names = [t["name"] for t in charts.map_figure(rows)["data"] if t.get("showlegend", True)]
    assert names[:3] == ["設置済（1）", "準備中（1）", "未着手（1）"]
    assert not [n for n in names if re.search("[●◆×⚠]", n)]


def test_charts_take_their_height_from_the_page_not_the_figure():
    rows = [_row("112305", "established")]
    head = services.headline(rows, 2027)
    for fig in (charts.map_figure(rows), charts.progress_figure(rows, head, date(2026, 12, 1))):
        assert "height" not in fig["layout"] and fig["layout"]["autosize"] is True


def test_the_ids_plotly_checks_before_injecting_styles_are_found_in_the_bundle():
    assert vendor.PLOTLY_STYLE_ID == "plotly.js-style-global"
    assert re.fullmatch(r"[0-9a-f]{64}", vendor.maplibre_style_id())
    with open(vendor.PLOTLY_JS, encoding="utf-8") as fh:
        bundle = fh.read()
    # plotly.js skips its own <style> when the element with this id has the class no-inline-styles.
    assert 'i.matches(".no-inline-styles")' in bundle and '"plotly.js-style-"+e' in bundle
    assert f'document.getElementById("{vendor.maplibre_style_id()}")' in bundle
