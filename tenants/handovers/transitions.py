"""A handover's life: sending it, then accept / decline / start / resolve / withdraw, and its timeline.

Rules (the views stay thin; everything here flushes and never commits):

* The party that recorded a consultation coordinates it: it sends handovers
  for it and, when a recipient declines, gets it back to choose another
  recipient. Recipients answer; they do not pass the consultation on
  themselves — one coordinator per consultation keeps every hop visible
  (the bounce count).
* No handover without consent (``consultations.consent_problem``).
* At most one active handover (sent / accepted / in progress) per
  consultation, enforced by a partial unique index as well.
* Transitions are conditional UPDATEs (``... WHERE id = :id AND status IN
  (...)``): of two people accepting at once exactly one wins; the other is
  told who did it and when. A transition from a wrong state is refused
  (409) and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.extensions import db
from portal.timeutil import utcnow
from tenants.core.validation import Fields
from tenants.handovers import daily, deadlines, notifications
from tenants.handovers.consultations import active_handover, consent_problem, end_consultation, required_text
from tenants.handovers.contacts import choose_contact
from tenants.handovers.models import Consultation, ConsultationStatus, Handover, HandoverStatus
from tenants.handovers.parties import (
    HandoverError,
    Party,
    is_coordinator,
    is_recipient,
    is_sender,
    party_label,
    party_name,
    person_name,
    short_time,
)
from tenants.members.models import Contact, MemberOrganization, MemberStatus


def send_handover(
    c: Consultation, data: dict[str, Any], user: User, party: Party, today: date, now: datetime | None = None
) -> Handover:
    """Pass ``c`` to one recipient. ``data``: recipient ("desk" or an organisation id), contact_id, message."""
    now = now or utcnow()
    if not is_coordinator(c, party):
        raise HandoverError("引継ぎを送れるのは、この相談を受け付けた機関です。", 403)
    if not c.is_open:
        raise HandoverError(f"この相談は{c.status_label}のため、引き継げません。")
    problem = consent_problem(c)
    if problem:
        raise HandoverError(problem, 400)
    current = active_handover(c)
    if current is not None:
        raise HandoverError(
            f"この相談は既に{party_label(current.recipient_organization)}に引き継いでいます"
            f"（{current.status_label}）。辞退されるか取り下げてから、別の引継ぎ先を選んでください。"
        )

    fields = Fields(Handover, data)
    key = str(data.get("recipient") or "").strip()
    recipient_org: MemberOrganization | None = None
    if key == "desk":
        if party.is_desk:
            fields.refuse("recipient", "総合支援窓口から総合支援窓口へは引き継げません。")
    elif key.isdigit():
        recipient_org = db.session.get(MemberOrganization, int(key))
        if recipient_org is None or recipient_org.status != MemberStatus.ACTIVE.value:
            fields.refuse("recipient", "引継ぎ先は、活動中の構成員から選んでください。")
        elif recipient_org.id == party.organization_id:
            fields.refuse("recipient", "自分の団体には引き継げません。")
    else:
        fields.refuse("recipient", "引継ぎ先を選んでください。")
    contact: Contact | None = None
    contact_id = data.get("contact_id")
    if recipient_org is not None and not fields.errors:
        if contact_id:
            contact = db.session.get(Contact, int(contact_id)) if str(contact_id).isdigit() else None
            if contact is None or contact.organization_id != recipient_org.id:
                fields.refuse("contact_id", "担当者は引継ぎ先の担当者から選んでください。")
        else:
            contact = choose_contact(list(recipient_org.contacts), today).contact
    message = fields.text("message", multiline=True)
    fields.valid()

    h = Handover(
        consultation_id=c.id,
        sender_organization_id=party.organization_id,
        recipient_organization_id=recipient_org.id if recipient_org else None,
        recipient_contact_id=contact.id if contact else None,
        status=HandoverStatus.SENT.value,
        message=message or None,
        sent_at=now,
        sent_by_id=user.id,
        response_due_at=deadlines.response_due(now, c.urgency),
    )
    try:
        with db.session.begin_nested():
            db.session.add(h)
            db.session.flush()
    except IntegrityError:
        # Someone else sent a handover for this consultation a moment ago.
        db.session.expire(c)
        raise HandoverError("この相談は、たった今ほかの人が引き継ぎました。画面を読み込み直してください。") from None
    # The bounce count, atomically.
    db.session.execute(
        update(Consultation).where(Consultation.id == c.id)
        .values(hop_count=Consultation.hop_count + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(c)
    daily.count_sent(h)
    notifications.notify_recipient(h)
    return h


# ---------------------------------------------------------------------------
# The state machine


@dataclass(frozen=True)
class Transition:
    label: str  # as in 「…られません」
    sources: tuple[HandoverStatus, ...]  # the states it may start from
    target: HandoverStatus
    by_sender: bool = False  # taken by the sender; the others by the recipient


TRANSITIONS = {
    "accept": Transition("受け付け", (HandoverStatus.SENT,), HandoverStatus.ACCEPTED),
    "decline": Transition("辞退", (HandoverStatus.SENT,), HandoverStatus.DECLINED),
    "start": Transition("対応開始に", (HandoverStatus.ACCEPTED,), HandoverStatus.IN_PROGRESS),
    "resolve": Transition("解決に", (HandoverStatus.ACCEPTED, HandoverStatus.IN_PROGRESS), HandoverStatus.RESOLVED),
    "withdraw": Transition("取り下げ", (HandoverStatus.SENT,), HandoverStatus.WITHDRAWN, by_sender=True),
}


def state_sentence(h: Handover) -> str:
    """What happened last to ``h``, naming who and when."""
    s = h.status
    if s == HandoverStatus.SENT.value:
        return f"{party_label(h.recipient_organization)}の受付を待っています。"
    if s == HandoverStatus.ACCEPTED.value:
        return f"既に {person_name(h.accepted_by)} さんが受け付けました（{short_time(h.accepted_at)}）。"
    if s == HandoverStatus.IN_PROGRESS.value:
        return f"既に {person_name(h.started_by)} さんが対応を始めています（{short_time(h.started_at)}）。"
    if s == HandoverStatus.RESOLVED.value:
        return f"既に {person_name(h.resolved_by)} さんが解決にしました（{short_time(h.resolved_at)}）。"
    if s == HandoverStatus.DECLINED.value:
        return f"既に {person_name(h.declined_by)} さんが辞退しました（{short_time(h.declined_at)}）。"
    return f"既に {person_name(h.withdrawn_by)} さんが取り下げました（{short_time(h.withdrawn_at)}）。"


def _check_actor(h: Handover, action: str, party: Party) -> None:
    t = TRANSITIONS[action]
    if t.by_sender:
        if not is_sender(h, party):
            raise HandoverError(f"{t.label}られるのは、引継ぎを送った機関です。", 403)
    elif not is_recipient(h, party):
        raise HandoverError(f"{t.label}られるのは、引継ぎ先の{party_label(h.recipient_organization)}です。", 403)


def _transition(h: Handover, action: str, party: Party, **values: Any) -> None:
    _check_actor(h, action, party)
    t = TRANSITIONS[action]
    values["status"] = t.target.value
    done = db.session.execute(
        update(Handover)
        .where(Handover.id == h.id, Handover.status.in_([s.value for s in t.sources]))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(h)
    if done != 1:
        raise HandoverError(f"この引継ぎは{t.label}られません（現在の状態: {h.status_label}）。{state_sentence(h)}")


def _first_response(h: Handover, now: datetime) -> dict[str, Any]:
    """The first response's time, never overwritten by a later one."""
    seconds = max(int((now - h.sent_at).total_seconds()), 0)
    return {
        "first_response_at": func.coalesce(Handover.first_response_at, now),
        "response_seconds": func.coalesce(Handover.response_seconds, seconds),
    }


# Each takes (handover, user, party) and, where the form asks for text, that text by its field's name.


def accept(h: Handover, user: User, party: Party, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    _transition(h, "accept", party, accepted_at=now, accepted_by_id=user.id, **_first_response(h, now))
    daily.count_first_response(h)  # accept and decline only ever leave 'sent', once


def decline(h: Handover, user: User, party: Party, reason: str | None, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    _check_actor(h, "decline", party)
    reason = required_text(
        reason, Handover.decline_reason, "reason", "辞退の理由を書いてください。送り元が次の引継ぎ先を選ぶ手がかりになります。"
    )
    _transition(h, "decline", party, declined_at=now, declined_by_id=user.id, decline_reason=reason,
                **_first_response(h, now))
    daily.count_first_response(h)
    notifications.notify_sender_declined(h)


def start(h: Handover, user: User, party: Party, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    _transition(h, "start", party, started_at=now, started_by_id=user.id)


def resolve(h: Handover, user: User, party: Party, outcome: str | None, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    _check_actor(h, "resolve", party)
    outcome = required_text(
        outcome, Handover.outcome, "outcome", "対応の結果を書いてください（例: 面談し、発達相談の予約をとった）。"
    )
    _transition(h, "resolve", party, resolved_at=now, resolved_by_id=user.id, outcome=outcome)
    end_consultation(h.consultation_id, ConsultationStatus.RESOLVED, outcome, user, now)
    db.session.refresh(h.consultation)
    notifications.notify_sender_resolved(h)


def withdraw(h: Handover, user: User, party: Party, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    _transition(h, "withdraw", party, withdrawn_at=now, withdrawn_by_id=user.id)


# ---------------------------------------------------------------------------
# Timeline of a handover, for the detail page


@dataclass(frozen=True)
class Step:
    label: str
    at: datetime
    who: str
    detail: str = ""


def timeline(h: Handover) -> list[Step]:
    steps = [Step("送信", h.sent_at, person_name(h.sent_by),
                  f"{party_name(h.sender_organization)} → {party_name(h.recipient_organization)}")]
    if h.accepted_at:
        steps.append(Step("受付", h.accepted_at, person_name(h.accepted_by)))
    if h.declined_at:
        steps.append(Step("辞退", h.declined_at, person_name(h.declined_by), h.decline_reason or ""))
    if h.started_at:
        steps.append(Step("対応開始", h.started_at, person_name(h.started_by)))
    if h.resolved_at:
        steps.append(Step("解決", h.resolved_at, person_name(h.resolved_by), h.outcome or ""))
    if h.withdrawn_at:
        steps.append(Step("取り下げ", h.withdrawn_at, person_name(h.withdrawn_by)))
    if h.escalated_at:
        steps.append(Step("期限超過を総合支援窓口に通知", h.escalated_at, "システム"))
    return sorted(steps, key=lambda s: s.at)


def overdue_by(h: Handover, now: datetime) -> timedelta | None:
    if h.is_overdue(now):
        return now - h.response_due_at
    return None
