"""変更履歴: the audit trail, for desk staff. Entries are written by ``tenants.core.audit``."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from portal.accounts.models import Role
from portal.pagination import paginate
from portal.security.policy import allow
from tenants.core import labels
from tenants.core.audit import AuditEntry
from tenants.navigation import nav_item

bp = Blueprint("audit", __name__, url_prefix="/m/<code>")
nav_item("audit", "変更履歴", "audit.index", (Role.DESK, Role.ADMIN), order=90, group="admin")

PAGE_SIZE = 50


@bp.get("/audit")
@allow(Role.DESK, Role.ADMIN, tenant=True)
def index():
    entity = request.args.get("entity", "")
    stmt = select(AuditEntry)
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    page = paginate(stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()), PAGE_SIZE)
    return render_template(
        "audit/index.html",
        page=page,
        entity=entity,
        action_labels=labels.ACTION_LABELS,
        entity_labels=labels.ENTITY_LABELS,
        field_labels=labels.FIELD_LABELS,
    )
