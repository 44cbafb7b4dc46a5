"""Declaring a municipality's network status and keeping its 応援タウン checklist.

Callers run these under the municipality's own scope (``Scope(municipality_id=…)``):
the scoping guard then refuses any row of another municipality. Services flush,
never commit, and audit what they changed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from portal.extensions import db
from portal.timeutil import today_jst
from tenants.core import audit
from tenants.core.actors import acting_user_id
from tenants.core.validation import Fields
from tenants.rollout.models import NetworkStatus, NetworkStatusDeclaration, TownCertification

EARLIEST = date(1990, 1, 1)
TOWN_FIELDS = ("one_stop_desk", "support_hubs", "network", "certified_on", "note")


def history(limit: int | None = None) -> list[NetworkStatusDeclaration]:
    """The scope's declarations, newest first (the first is the current one)."""
    stmt = select(NetworkStatusDeclaration).order_by(
        NetworkStatusDeclaration.declared_on.desc(), NetworkStatusDeclaration.id.desc()
    )
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def current_declaration() -> NetworkStatusDeclaration | None:
    found = history(limit=1)
    return found[0] if found else None


def _date_errors(value: date | None, label: str, required: bool) -> str | None:
    if value is None:
        return f"{label}を入力してください。" if required else None
    if value > today_jst():
        return f"{label}に未来の日付は入力できません。"
    if value < EARLIEST:
        return f"{label}は1990年以降の日付を入力してください。"
    return None


def declare(municipality_id: int, data: dict[str, Any]) -> NetworkStatusDeclaration:
    """Add a declaration (history is never rewritten)."""
    fields = Fields(NetworkStatusDeclaration, data)
    status = fields.choice("status", NetworkStatus.values(), "状況を「未着手」「準備中」「設置済」から選んでください。")
    declared_on = fields.value("declared_on")
    if message := _date_errors(declared_on, "日付", required=True):
        fields.refuse("declared_on", message)
    note = fields.text("note", multiline=True, label="メモ")
    fields.valid()
    row = NetworkStatusDeclaration(
        municipality_id=municipality_id, status=status, declared_on=declared_on, note=note,
        declared_by_id=acting_user_id(),
    )
    db.session.add(row)
    db.session.flush()
    audit.record("create", "network_status", row,
                 {"status": NetworkStatus(status).label, "declared_on": declared_on.isoformat(), "note": note},
                 label=NetworkStatus(status).label)
    return row


def get_town() -> TownCertification | None:
    return db.session.scalar(select(TownCertification))


def save_town(municipality_id: int, data: dict[str, Any]) -> TownCertification:
    fields = Fields(TownCertification, data)
    requirements = [fields.flag(name) for name in ("one_stop_desk", "support_hubs", "network")]
    certified_on = fields.value("certified_on")
    if message := _date_errors(certified_on, "認定日", required=False):
        fields.refuse("certified_on", message)
    elif certified_on and not all(requirements):
        fields.refuse("certified_on", "認定日を入力するには、3つの要件すべてにチェックを付けてください。")
    fields.text("note", multiline=True, label="メモ")
    values = fields.valid()
    town = get_town()
    if town is None:
        town = TownCertification(municipality_id=municipality_id, updated_by_id=acting_user_id(), **values)
        db.session.add(town)
        db.session.flush()
        audit.record("create", "town_certification", town, audit.snapshot(town, TOWN_FIELDS), label="地域子育て応援タウン")
        return town
    audit.update_audited(town, values, TOWN_FIELDS, "town_certification", label="地域子育て応援タウン",
                         stamp={"updated_by_id": acting_user_id()})
    return town
