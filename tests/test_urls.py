"""portal.urls.url_pattern: a row's link built from one url_for per page is the link url_for builds."""

import pytest
from flask import url_for

from portal import create_app
from portal.urls import url_pattern
from tests.conftest import TEST_CONFIG


@pytest.fixture(scope="module")
def plain_app():
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize("root", ["", "/kosodate"])
def test_a_pattern_formats_to_what_url_for_builds(plain_app, root):
    with plain_app.test_request_context("/m/112305/members", base_url=f"http://localhost{root}/"):
        pattern = url_pattern("members.show", "org_id", code="112305")
        for org_id in (1, 42, 2_147_483_647):
            assert pattern.format(org_id) == url_for("members.show", code="112305", org_id=org_id)
        assert pattern == f"{root}/m/112305/members/{{}}"


def test_braces_elsewhere_in_the_url_are_not_fields(plain_app):
    with plain_app.test_request_context("/m/112305/members"):
        pattern = url_pattern("members.show", "org_id", code="112305", q="{0}{x}")
        assert pattern.format(3) == url_for("members.show", code="112305", org_id=3, q="{0}{x}")


def test_a_parameter_the_url_does_not_hold_once_is_refused(plain_app):
    with plain_app.test_request_context("/m/112305/members"), pytest.raises(ValueError):
        url_pattern("members.show", "org_id", code="112305", page=918_273_645_546_372_819)
