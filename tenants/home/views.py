"""A municipality's home page for its desk staff and member users."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from portal.accounts.models import Role
from portal.extensions import db
from portal.security.policy import allow
from tenants.context import current_municipality
from tenants.network.models import Network

bp = Blueprint("municipality", __name__, url_prefix="/m/<code>")


@bp.get("/")
@allow(Role.DESK, Role.MEMBER, Role.ADMIN, tenant=True)
def home():
    network = db.session.scalar(select(Network))
    return render_template("tenants/home.html", municipality=current_municipality, network=network)
