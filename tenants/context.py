"""The current municipality, taken from the URL (/m/<code>/...) once per request.

The code is popped from the view arguments, resolved, checked against the
user's rights and turned into the session's tenant scope. A municipality the
user may not act in answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, g, request
from flask_login import current_user
from sqlalchemy import inspect, select
from werkzeug.local import LocalProxy

from portal.accounts.models import Role
from portal.extensions import db
from portal.security.policy import policy_for_endpoint
from tenants.models import Municipality
from tenants.scoping import Scope, set_scope

current_municipality: Municipality = LocalProxy(lambda: g.get("municipality"))  # type: ignore[assignment]


def user_may_enter(user, municipality: Municipality) -> bool:
    role = user.role_enum
    if role is Role.ADMIN:
        return True
    if role is Role.PREFECTURE:
        return municipality.prefecture_code == current_app.config["PREFECTURE_CODE"]
    return user.municipality_id == municipality.id


def _pop_code(endpoint: str | None, values: dict | None) -> None:
    if values and "code" in values:
        g.municipality_code = values.pop("code")


def _add_code(endpoint: str, values: dict) -> None:
    # url_for() inside a municipality fills in its code unless told otherwise.
    if "code" in values or not g.get("municipality"):
        return
    if current_app.url_map.is_endpoint_expecting(endpoint, "code"):
        values["code"] = g.municipality.code


def _own_municipality(code: str) -> Municipality | None:
    """The signed-in user's own municipality when the URL names it: loaded with the user
    (``User.municipality`` is joined), so a desk's or member's page needs no second look."""
    state = inspect(current_user._get_current_object(), raiseerr=False)
    if state is None or "municipality" in state.unloaded:
        return None
    own = current_user.municipality
    return own if own is not None and own.code == code else None


def resolve_tenant():
    """before_request, after the access policy: enter the URL's municipality."""
    policy = policy_for_endpoint(current_app, request.endpoint)
    code = g.get("municipality_code")
    if policy is None:
        return None
    if policy.tenant != (code is not None):
        raise RuntimeError(f"{request.endpoint}: tenant=True exactly when the URL has /m/<code>/")
    if not policy.tenant:
        return None
    municipality = None if policy.public else _own_municipality(code)
    if municipality is None:
        municipality = db.session.scalar(select(Municipality).where(Municipality.code == code))
    if municipality is None:
        abort(404)
    if not policy.public and not user_may_enter(current_user, municipality):
        abort(404)
    g.municipality = municipality
    set_scope(db.session, Scope(municipality_id=municipality.id))
    return None


def register_tenant_context(app: Flask) -> None:
    app.url_value_preprocessor(_pop_code)
    app.url_defaults(_add_code)
    app.before_request(resolve_tenant)
    app.context_processor(lambda: {"current_municipality": g.get("municipality")})
