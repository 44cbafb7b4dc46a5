"""A municipality's home page for its desk staff and member users."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from portal.accounts.models import Role
from portal.extensions import db
from portal.security.policy import allow
from portal.timeutil import today_jst
from tenants.context import current_municipality
from tenants.members.models import MemberOrganization
from tenants.navigation import nav_item
from tenants.network import services as network

bp = Blueprint("home", __name__, url_prefix="/m/<code>")
nav_item("home", "ホーム", "home.index", tuple(Role), order=0)


@bp.get("/")
@allow(Role.DESK, Role.MEMBER, Role.ADMIN, tenant=True)
def index():
    today = today_jst()
    context = {"municipality": current_municipality, "network": network.get_network()}
    if current_user.role_enum is Role.MEMBER:
        org_id = current_user.member_organization_id
        context["organization"] = db.session.get(MemberOrganization, org_id) if org_id else None
    else:
        context["coverage"], context["summary"] = network.coverage_and_summary(today)
    return render_template("home/index.html", **context)
