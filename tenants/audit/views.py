"""変更履歴: the audit trail, for desk staff."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from portal.accounts.models import Role
from portal.pagination import paginate
from portal.security.policy import allow
from tenants.audit.models import AuditEntry
from tenants.members.services import FIELD_LABELS
from tenants.navigation import nav_item

bp = Blueprint("audit", __name__, url_prefix="/m/<code>")
nav_item("audit", "変更履歴", "audit.index", (Role.DESK, Role.ADMIN), order=90, group="admin")

PAGE_SIZE = 50
ACTION_LABELS = {"create": "追加", "update": "変更", "delete": "削除", "confirm": "確認", "import": "取込",
                 "start": "開始", "close": "終了", "complete": "完了",
                 "request": "申請", "approve": "承認", "reject": "却下", "decline": "お断り"}
ENTITY_LABELS = {"organization": "構成員", "contact": "担当者", "network": "ネットワーク", "desk": "総合支援窓口",
                 "reconfirmation_round": "再確認", "reconfirmation_task": "再確認（団体）",
                 "import_batch": "ファイル取込",
                 "change_request": "名称・区分の変更申請", "registration": "登録申請",
                 "network_status": "設置状況の申告", "town_certification": "地域子育て応援タウン",
                 "activity": "活動記録"}
# Fields of the audited records that are not member fields.
AUDIT_FIELD_LABELS = {
    **FIELD_LABELS,
    "declared_on": "日付", "note": "メモ", "one_stop_desk": "総合支援窓口", "support_hubs": "中学校区ごとの拠点",
    "network": "ネットワーク", "certified_on": "認定日", "kind": "種類", "held_on": "開催日", "participants": "参加者数",
}


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
        action_labels=ACTION_LABELS,
        entity_labels=ENTITY_LABELS,
        field_labels=AUDIT_FIELD_LABELS,
    )
