"""変更履歴: the audit trail, for desk staff."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.extensions import db
from portal.security.policy import allow
from tenants.audit.models import AuditEntry
from tenants.members.services import FIELD_LABELS
from tenants.navigation import nav_item

bp = Blueprint("audit", __name__, url_prefix="/m/<code>")
nav_item("audit", "変更履歴", "audit.index", (Role.DESK, Role.ADMIN), order=90)

PAGE_SIZE = 50
ACTION_LABELS = {"create": "追加", "update": "変更", "delete": "削除", "confirm": "確認", "import": "取込",
                 "start": "開始", "close": "終了", "complete": "完了"}
ENTITY_LABELS = {"organization": "構成員", "contact": "担当者", "network": "ネットワーク", "desk": "総合支援窓口",
                 "reconfirmation_round": "再確認", "reconfirmation_task": "再確認（団体）",
                 "import_batch": "ファイル取込"}


@bp.get("/audit")
@allow(Role.DESK, Role.ADMIN, tenant=True)
def index():
    entity = request.args.get("entity", "")
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    stmt = select(AuditEntry)
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    entries = db.session.scalars(
        stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "audit/index.html",
        entries=entries,
        total=total,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        entity=entity,
        action_labels=ACTION_LABELS,
        entity_labels=ENTITY_LABELS,
        field_labels=FIELD_LABELS,
    )
