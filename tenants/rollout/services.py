"""Declaring a municipality's network status and keeping its 応援タウン checklist.

Callers run these under the municipality's own scope (``Scope(municipality_id=…)``):
the scoping guard then refuses any row of another municipality. Services flush,
never commit, and audit what they changed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_login import current_user
from sqlalchemy import select

from portal.extensions import db
from portal.timeutil import today_jst
from tenants.audit import services as audit
from tenants.members.services import ValidationError
from tenants.rollout.models import NetworkStatus, NetworkStatusDeclaration, TownCertification

NOTE_MAX = 1000
EARLIEST = date(1990, 1, 1)
TOWN_FIELDS = ("one_stop_desk", "support_hubs", "network", "certified_on", "note")


def _actor_id() -> int | None:
    try:
        return current_user.id if current_user.is_authenticated else None
    except (AttributeError, RuntimeError):
        return None


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
    errors: dict[str, str] = {}
    status = data.get("status") or ""
    if status not in {s.value for s in NetworkStatus}:
        errors["status"] = "状況を「未着手」「準備中」「設置済」から選んでください。"
    declared_on = data.get("declared_on")
    message = _date_errors(declared_on, "日付", required=True)
    if message:
        errors["declared_on"] = message
    note = (data.get("note") or "").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = f"メモは{NOTE_MAX}文字以内で入力してください。"
    if errors:
        raise ValidationError(errors)
    row = NetworkStatusDeclaration(
        municipality_id=municipality_id, status=status, declared_on=declared_on, note=note,
        declared_by_id=_actor_id(),
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
    values = {
        "one_stop_desk": bool(data.get("one_stop_desk")),
        "support_hubs": bool(data.get("support_hubs")),
        "network": bool(data.get("network")),
        "certified_on": data.get("certified_on"),
        "note": (data.get("note") or "").strip(),
    }
    errors: dict[str, str] = {}
    message = _date_errors(values["certified_on"], "認定日", required=False)
    if message:
        errors["certified_on"] = message
    elif values["certified_on"] and not (values["one_stop_desk"] and values["support_hubs"] and values["network"]):
        errors["certified_on"] = "認定日を入力するには、3つの要件すべてにチェックを付けてください。"
    if len(values["note"]) > NOTE_MAX:
        errors["note"] = f"メモは{NOTE_MAX}文字以内で入力してください。"
    if errors:
        raise ValidationError(errors)
    town = get_town()
    if town is None:
        town = TownCertification(municipality_id=municipality_id, updated_by_id=_actor_id(), **values)
        db.session.add(town)
        db.session.flush()
        audit.record("create", "town_certification", town, audit.snapshot(town, TOWN_FIELDS), label="地域子育て応援タウン")
        return town
    before = audit.snapshot(town, TOWN_FIELDS)
    for k, v in values.items():
        setattr(town, k, v)
    changes = audit.diff(before, audit.snapshot(town, TOWN_FIELDS))
    if changes:
        town.updated_by_id = _actor_id()
        db.session.flush()
        audit.record("update", "town_certification", town, changes, label="地域子育て応援タウン")
    return town
