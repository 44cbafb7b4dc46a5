"""Every route declares who may use it, and tenant routes never cross municipalities."""

import pytest
from werkzeug.routing import IntegerConverter

from portal import create_app
from portal.accounts.models import Role
from portal.security.policy import policy_for_endpoint
from tests import factories as f
from tests.conftest import TEST_CONFIG, arranged, csrf_token, login

# The url_map does not depend on the database, so collection can read it.
_ROUTE_APP = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def _routes():
    for rule in _ROUTE_APP.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, policy_for_endpoint(_ROUTE_APP, rule.endpoint)


TENANT_ROUTES = [
    pytest.param(rule.endpoint, method, sorted(policy.roles), id=f"{method} {rule.rule}")
    for rule, method, policy in _routes()
    if policy and policy.tenant and not policy.public
]
PROTECTED_ROUTES = [
    pytest.param(rule.endpoint, method, sorted(policy.roles), id=f"{method} {rule.rule}")
    for rule, method, policy in _routes()
    if policy and not policy.public
]


def test_every_route_declares_an_access_policy():
    missing = [rule.rule for rule, _, policy in _routes() if policy is None]
    assert missing == [], f"routes without @public/@allow: {missing}"


def test_routes_under_a_municipality_are_declared_tenant_routes():
    for rule, _, policy in _routes():
        assert policy.tenant == ("code" in rule.arguments), rule.rule


def test_there_are_tenant_routes_to_check():
    assert TENANT_ROUTES, "the isolation tests below would be vacuous"


def _url(app, endpoint, code):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {}
    for arg in rule.arguments:
        if arg == "code":
            values[arg] = code
        else:
            values[arg] = 1 if isinstance(rule._converters[arg], IntegerConverter) else "x"
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


def _send(client, method, url, token):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={"csrf_token": token})


@pytest.fixture
def two_municipalities(app):
    with arranged(app):
        a, b = f.municipality(f.NIIZA), f.municipality(f.KAWAGOE)
        f.network(a)
        f.network(b)
        users = {role: f.user(role, a if role in (Role.DESK, Role.MEMBER) else None).email for role in Role}
        return a.code, b.code, users


@pytest.mark.parametrize("endpoint,method,roles", TENANT_ROUTES)
def test_another_municipality_is_404_for_every_allowed_municipal_role(app, two_municipalities, endpoint, method, roles):
    _own, other, users = two_municipalities
    for role in (Role.DESK, Role.MEMBER):
        if role not in roles:
            continue
        client = app.test_client()
        login(client, users[role])
        token = csrf_token(client)
        response = _send(client, method, _url(app, endpoint, other), token)
        assert response.status_code == 404, (role, response.status_code)
        # ... exactly as a code that does not exist at all
        assert _send(client, method, _url(app, endpoint, "999991"), token).status_code == 404


@pytest.mark.parametrize("endpoint,method,roles", PROTECTED_ROUTES)
def test_anonymous_users_are_sent_to_login(app, two_municipalities, endpoint, method, roles):
    own, _, _ = two_municipalities
    client = app.test_client()
    token = csrf_token(client)
    response = _send(client, method, _url(app, endpoint, own), token)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("endpoint,method,roles", PROTECTED_ROUTES)
def test_wrong_roles_get_403(app, two_municipalities, endpoint, method, roles):
    own, _, users = two_municipalities
    wrong = [role for role in Role if role not in roles]
    for role in wrong:
        client = app.test_client()
        login(client, users[role])
        token = csrf_token(client)
        response = _send(client, method, _url(app, endpoint, own), token)
        assert response.status_code == 403, (role, response.status_code)
        assert "この操作はできません" in response.get_data(as_text=True)


def test_prefecture_official_cannot_enter_municipality_pages_of_desk(app, two_municipalities):
    own, _, users = two_municipalities
    client = app.test_client()
    login(client, users[Role.PREFECTURE])
    assert client.get(f"/m/{own}/").status_code == 403


def test_admin_may_enter_any_municipality(app, two_municipalities):
    own, other, users = two_municipalities
    client = app.test_client()
    login(client, users[Role.ADMIN])
    assert client.get(f"/m/{own}/").status_code == 200
    assert client.get(f"/m/{other}/").status_code == 200
