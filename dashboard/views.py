"""The prefecture's view of every municipality's progress."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from dashboard import services
from portal.accounts.models import Role
from portal.extensions import db
from portal.security.policy import allow
from tenants.municipalities import prefecture_name
from tenants.scoping import Scope, set_scope

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.before_request
def _prefecture_scope() -> None:
    # The dashboard reads across the prefecture's municipalities, never beyond.
    set_scope(db.session, Scope(prefecture_code=current_app.config["PREFECTURE_CODE"]))


@bp.get("/")
@allow(Role.PREFECTURE, Role.ADMIN)
def index():
    code = current_app.config["PREFECTURE_CODE"]
    rows = services.municipality_rows(code)
    return render_template(
        "dashboard/index.html",
        rows=rows,
        headline=services.headline(rows),
        prefecture_name=prefecture_name(code),
    )
