"""Recording the network's activities. Flush, never commit; every change audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from portal.extensions import db
from portal.japanese import tidy
from portal.timeutil import add_years, today_jst, twelve_months_ago
from tenants.activities.models import ActivityKind, NetworkActivity
from tenants.audit import services as audit
from tenants.members.services import ValidationError

FIELDS = ("kind", "held_on", "title", "participants", "note")
TITLE_MAX = 120
NOTE_MAX = 4000
PARTICIPANTS_MAX = 100_000


def _validated(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values = {
        "kind": data.get("kind") or "",
        "held_on": data.get("held_on"),
        "title": tidy(data.get("title")),
        "participants": data.get("participants"),
        "note": (data.get("note") or "").strip(),
    }
    if values["kind"] not in {k.value for k in ActivityKind}:
        errors["kind"] = "種類を選んでください。"
    if values["held_on"] is None:
        errors["held_on"] = "開催日を入力してください（例: 2026-05-20）。"
    elif values["held_on"].year < 1990 or values["held_on"] > add_years(today_jst(), 1):
        errors["held_on"] = "開催日は1990年以降、1年先までの日付を入力してください。"
    if not values["title"]:
        errors["title"] = "題名を入力してください（例: 第2回 情報交換会）。"
    elif len(values["title"]) > TITLE_MAX:
        errors["title"] = f"題名は{TITLE_MAX}文字以内で入力してください。"
    p = values["participants"]
    if p is not None and not (0 <= p <= PARTICIPANTS_MAX):
        errors["participants"] = "参加者数は0以上の数で入力してください（分からなければ空欄）。"
    if len(values["note"]) > NOTE_MAX:
        errors["note"] = f"メモは{NOTE_MAX}文字以内で入力してください。"
    if errors:
        raise ValidationError(errors)
    return values


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
    values = _validated(data)
    before = audit.snapshot(activity, FIELDS)
    for k, v in values.items():
        setattr(activity, k, v)
    changes = audit.diff(before, audit.snapshot(activity, FIELDS))
    if changes:
        db.session.flush()
        audit.record("update", "activity", activity, changes)
    return activity


def delete(activity: NetworkActivity) -> None:
    audit.record("delete", "activity", activity, audit.snapshot(activity, FIELDS))
    db.session.delete(activity)
    db.session.flush()
