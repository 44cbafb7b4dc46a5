"""A municipality's home page for its desk staff and member users."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from portal.accounts.models import Role
from portal.extensions import db
from portal.security.policy import allow
from tenants.context import current_municipality
from tenants.network.models import Network

from tenants.navigation import nav_item

bp = Blueprint("municipality", __name__, url_prefix="/m/<code>")
nav_item("home", "ホーム", "municipality.home", tuple(Role), order=0)


@bp.get("/")
@allow(Role.DESK, Role.MEMBER, Role.ADMIN, tenant=True)
def home():
    network = db.session.scalar(select(Network))
    return render_template("tenants/home.html", municipality=current_municipality, network=network)
