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
from sqlalchemy.orm import InstrumentedAttribute

from portal.accounts.models import User
from portal.extensions import db
from portal.japanese import clean
from portal.timeutil import utcnow
from tenants.core.validation import Fields, ValidationError, column_limit, prose, too_long
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

CONSENT_REQUIRED_MESSAGE = (
    "本人（保護者）の同意がないため引き継げません。同意を得てから「同意あり」にしてください。"
    "子どもの安全に関わる場合は「同意不要」を選び、その理由を書いてください。"
)
SAFETY_REASON_MISSING = "同意不要とする理由（子どもの安全に関わる事情）を書いてください。"


def required_text(value: str | None, column: InstrumentedAttribute, field: str, missing: str) -> str:
    """``value`` trimmed, for ``column``; refused on the form's ``field`` with ``missing`` when blank,
    or when over the column's limit."""
    value = prose(value)
    if not value:
        raise ValidationError({field: missing})
    limit = column_limit(column.class_, column.key)
    if limit and len(value) > limit:
        raise ValidationError({field: too_long(limit)})
    return value


def _consent(fields: Fields, missing: str) -> None:
    """The consent state and, for 同意不要, its reason (kept only then)."""
    consent = fields.choice("consent", Consent.values(), missing)
    reason = fields.text("consent_reason", multiline=True)
    if consent == Consent.NOT_REQUIRED.value and not reason:
        fields.refuse("consent_reason", SAFETY_REASON_MISSING)
    fields.values["consent_reason"] = reason if consent == Consent.NOT_REQUIRED.value else ""


def validate_consultation(data: dict[str, Any]) -> dict[str, Any]:
    fields = Fields(Consultation, data)
    fields.text("case_reference", multiline=True)
    fields.choice("category", frozenset(CATEGORY_LABELS), "相談の区分を選んでください。")
    fields.choice("urgency", Urgency.values(), "緊急度を選んでください。", default=Urgency.NORMAL.value)
    fields.choice("age_band", frozenset(AGE_BAND_LABELS), "子どもの年齢を選んでください。")
    fields.text("summary", required="相談の概要を入力してください（氏名・住所は書かないでください）。", multiline=True)
    fields.text("contact_preference", multiline=True)
    _consent(fields, "本人同意の状態を選んでください。同意の状態がないと引き継げません。")
    values = fields.valid()
    # Nothing given is stored as nothing (NULL), as the purge leaves it.
    for name in ("case_reference", "contact_preference"):
        values[name] = values[name] or None
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
    fields = Fields(Consultation, {"consent": consent, "consent_reason": reason})
    _consent(fields, "本人同意の状態を選んでください。")
    values = fields.valid()
    c.consent, c.consent_reason = values["consent"], values["consent_reason"]
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
    outcome = required_text(
        outcome, Consultation.outcome, "outcome", "終了の理由・結果を書いてください（例: 窓口で情報提供し、解決した）。"
    )
    active = select(Handover.id).where(
        Handover.consultation_id == Consultation.id, Handover.status.in_(ACTIVE_STATUSES)
    ).exists()
    done = end_consultation(c.id, ConsultationStatus.CLOSED, outcome, user, now, ~active)
    db.session.refresh(c)
    if not done:
        if not c.is_open:
            raise HandoverError(f"この相談は既に{c.status_label}です。")
        raise HandoverError("引継ぎ中の相談は終了できません。引継ぎ先の回答を待つか、取り下げてください。")


def end_consultation(consultation_id: int, status: ConsultationStatus, outcome: str, user: User, now: datetime,
                     *criteria: Any) -> bool:
    """Resolve or close a consultation that is still open (and meets ``criteria``), in one conditional
    UPDATE: of two people ending it at once, one does. False when it was not ended."""
    return db.session.execute(
        update(Consultation)
        .where(Consultation.id == consultation_id, Consultation.status == ConsultationStatus.OPEN.value, *criteria)
        .values(status=status.value, closed_at=now, closed_by_id=user.id, outcome=outcome)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
