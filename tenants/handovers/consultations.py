"""Recording a consultation, its consent, and closing it (the views stay thin; this flushes, never commits).

A consultation is recorded by the party where it arrives (the desk, or a
member organisation) and that party coordinates it (see ``transitions``).
No handover without consent: 本人同意 given, or not required because a
child's safety is at stake (with a reason).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from portal.accounts.models import User
from portal.extensions import db
from portal.japanese import clean
from portal.timeutil import utcnow
from tenants.handovers.models import (
    ACTIVE_STATUSES,
    AGE_BAND_LABELS,
    CATEGORY_LABELS,
    Consent,
    Consultation,
    ConsultationStatus,
    Handover,
    Urgency,
)
from tenants.handovers.parties import HandoverError, Party, is_coordinator
from tenants.core.validation import ValidationError

SUMMARY_MAX = 2000
TEXT_MAX = 1000
REFERENCE_MAX = 40
CONTACT_PREFERENCE_MAX = 200

FIELD_LABELS = {
    "case_reference": "受付番号",
    "category": "相談の区分",
    "urgency": "緊急度",
    "age_band": "子どもの年齢",
    "summary": "相談の概要",
    "contact_preference": "ご家族への連絡方法",
    "consent": "本人同意",
    "consent_reason": "同意不要とする理由",
    "recipient": "引継ぎ先",
    "contact_id": "担当者",
    "message": "引継ぎ先への伝達事項",
    "reason": "辞退の理由",
    "outcome": "対応の結果",
}

CONSENT_REQUIRED_MESSAGE = (
    "本人（保護者）の同意がないため引き継げません。同意を得てから「同意あり」にしてください。"
    "子どもの安全に関わる場合は「同意不要」を選び、その理由を書いてください。"
)


def required_text(value: str | None, field: str, missing: str) -> str:
    """``value`` stripped; refused with ``missing`` when blank, or when over TEXT_MAX."""
    value = (value or "").strip()
    if not clean(value):
        raise ValidationError({field: missing})
    if len(value) > TEXT_MAX:
        raise ValidationError({field: f"{TEXT_MAX}文字以内で入力してください。"})
    return value


def validate_consultation(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    reference = (data.get("case_reference") or "").strip()
    if len(reference) > REFERENCE_MAX:
        errors["case_reference"] = f"{REFERENCE_MAX}文字以内で入力してください。"
    values["case_reference"] = reference or None
    category = data.get("category") or ""
    if category not in CATEGORY_LABELS:
        errors["category"] = "相談の区分を選んでください。"
    values["category"] = category
    urgency = data.get("urgency") or Urgency.NORMAL.value
    if urgency not in {u.value for u in Urgency}:
        errors["urgency"] = "緊急度を選んでください。"
    values["urgency"] = urgency
    age_band = data.get("age_band") or ""
    if age_band not in AGE_BAND_LABELS:
        errors["age_band"] = "子どもの年齢を選んでください。"
    values["age_band"] = age_band
    summary = (data.get("summary") or "").strip()
    if not clean(summary):
        errors["summary"] = "相談の概要を入力してください（氏名・住所は書かないでください）。"
    elif len(summary) > SUMMARY_MAX:
        errors["summary"] = f"{SUMMARY_MAX}文字以内で入力してください。"
    values["summary"] = summary
    preference = (data.get("contact_preference") or "").strip()
    if len(preference) > CONTACT_PREFERENCE_MAX:
        errors["contact_preference"] = f"{CONTACT_PREFERENCE_MAX}文字以内で入力してください。"
    values["contact_preference"] = preference or None
    consent = data.get("consent") or ""
    reason = (data.get("consent_reason") or "").strip()
    if consent not in {c.value for c in Consent}:
        errors["consent"] = "本人同意の状態を選んでください。同意の状態がないと引き継げません。"
    elif consent == Consent.NOT_REQUIRED.value and not clean(reason):
        errors["consent_reason"] = "同意不要とする理由（子どもの安全に関わる事情）を書いてください。"
    if len(reason) > TEXT_MAX:
        errors["consent_reason"] = f"{TEXT_MAX}文字以内で入力してください。"
    values["consent"] = consent
    values["consent_reason"] = reason if consent == Consent.NOT_REQUIRED.value else ""
    if errors:
        raise ValidationError(errors)
    return values


def record_consultation(data: dict[str, Any], user: User, party: Party) -> Consultation:
    values = validate_consultation(data)
    c = Consultation(
        received_by_organization_id=party.organization_id,
        created_by_id=user.id,
        status=ConsultationStatus.OPEN.value,
        hop_count=0,
        **values,
    )
    db.session.add(c)
    db.session.flush()
    return c


def update_consent(c: Consultation, consent: str, reason: str, party: Party) -> None:
    """The coordinator records consent obtained later (or the safety reason)."""
    if not is_coordinator(c, party):
        raise HandoverError("同意の状態を変えられるのは相談を受け付けた機関です。", 403)
    if not c.is_open:
        raise HandoverError("終了した相談の同意は変更できません。")
    reason = (reason or "").strip()
    if consent not in {x.value for x in Consent}:
        raise ValidationError({"consent": "本人同意の状態を選んでください。"})
    if consent == Consent.NOT_REQUIRED.value and not clean(reason):
        raise ValidationError({"consent_reason": "同意不要とする理由（子どもの安全に関わる事情）を書いてください。"})
    if len(reason) > TEXT_MAX:
        raise ValidationError({"consent_reason": f"{TEXT_MAX}文字以内で入力してください。"})
    c.consent = consent
    c.consent_reason = reason if consent == Consent.NOT_REQUIRED.value else ""
    db.session.flush()


def consent_problem(c: Consultation) -> str | None:
    """Why no handover may be sent for ``c`` now, as far as consent goes; None when it may."""
    if c.consent == Consent.GIVEN.value:
        return None
    if c.consent == Consent.NOT_REQUIRED.value and clean(c.consent_reason):
        return None
    return CONSENT_REQUIRED_MESSAGE


def active_handover(c: Consultation) -> Handover | None:
    return next((h for h in c.handovers if h.is_active), None)


def may_send(c: Consultation, party: Party) -> bool:
    return c.is_open and is_coordinator(c, party) and active_handover(c) is None


def close_consultation(c: Consultation, outcome: str | None, user: User, party: Party,
                       now: datetime | None = None) -> None:
    """The coordinator ends a consultation that needs no (further) handover."""
    now = now or utcnow()
    if not is_coordinator(c, party):
        raise HandoverError("相談を終了できるのは、この相談を受け付けた機関です。", 403)
    outcome = required_text(outcome, "outcome", "終了の理由・結果を書いてください（例: 窓口で情報提供し、解決した）。")
    active = select(Handover.id).where(
        Handover.consultation_id == Consultation.id, Handover.status.in_(ACTIVE_STATUSES)
    ).exists()
    done = db.session.execute(
        update(Consultation)
        .where(Consultation.id == c.id, Consultation.status == ConsultationStatus.OPEN.value, ~active)
        .values(status=ConsultationStatus.CLOSED.value, closed_at=now, closed_by_id=user.id, outcome=outcome)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(c)
    if done != 1:
        if not c.is_open:
            raise HandoverError(f"この相談は既に{c.status_label}です。")
        raise HandoverError("引継ぎ中の相談は終了できません。引継ぎ先の回答を待つか、取り下げてください。")
