"""Recording the network's activities. Flush, never commit; every change audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from portal.extensions import db
from portal.timeutil import add_years, today_jst, twelve_months_ago
from tenants.activities.models import ActivityKind, NetworkActivity
from tenants.core import audit
from tenants.core.validation import Fields

FIELDS = ("kind", "held_on", "title", "participants", "note")
PARTICIPANTS_MAX = 100_000


def _validated(data: dict[str, Any]) -> dict[str, Any]:
    fields = Fields(NetworkActivity, data)
    fields.choice("kind", ActivityKind.values(), "種類を選んでください。")
    held_on = fields.value("held_on")
    if held_on is None:
        fields.refuse("held_on", "開催日を入力してください（例: 2026-05-20）。")
    elif held_on.year < 1990 or held_on > add_years(today_jst(), 1):
        fields.refuse("held_on", "開催日は1990年以降、1年先までの日付を入力してください。")
    fields.text("title", required="題名を入力してください（例: 第2回 情報交換会）。", label="題名")
    p = fields.value("participants")
    if p is not None and not (0 <= p <= PARTICIPANTS_MAX):
        fields.refuse("participants", "参加者数は0以上の数で入力してください（分からなければ空欄）。")
    fields.text("note", multiline=True, label="メモ")
    return fields.valid()


def activities() -> list[NetworkActivity]:
    return list(db.session.scalars(
        select(NetworkActivity).order_by(NetworkActivity.held_on.desc(), NetworkActivity.id.desc())
    ))


def recent_count() -> int:
    """Activities held in the last 12 months (up to today)."""
    today = today_jst()
    return db.session.scalar(
        select(func.count(NetworkActivity.id)).where(
            NetworkActivity.held_on > twelve_months_ago(today), NetworkActivity.held_on <= today
        )
    ) or 0


def create(data: dict[str, Any]) -> NetworkActivity:
    activity = NetworkActivity(**_validated(data))
    db.session.add(activity)
    db.session.flush()
    audit.record("create", "activity", activity, audit.snapshot(activity, FIELDS))
    return activity


def update(activity: NetworkActivity, data: dict[str, Any]) -> NetworkActivity:
    audit.update_audited(activity, _validated(data), FIELDS, "activity")
    return activity


def delete(activity: NetworkActivity) -> None:
    audit.record("delete", "activity", activity, audit.snapshot(activity, FIELDS))
    db.session.delete(activity)
    db.session.flush()
