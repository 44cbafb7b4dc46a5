"""相談と引継ぎ: recording, the handover state machine, inboxes, access log, purge.

Rules (the views stay thin; everything here flushes and never commits):

* A consultation is recorded by the party where it arrives (the desk, or a
  member organisation) and that party coordinates it: it sends handovers
  for it and, when a recipient declines, gets it back to choose another
  recipient (with "whom do I call?" suggestions). Recipients answer; they do
  not pass the consultation on themselves — one coordinator per
  consultation keeps every hop visible (the bounce count).
* No handover without consent: 本人同意 given, or not required because a
  child's safety is at stake (with a reason).
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

from flask import url_for
from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.accounts import tokens
from portal.accounts.models import Role, User
from portal.extensions import db
from portal.japanese import clean
from portal.mail.services import enqueue
from portal.timeutil import to_jst, utcnow
from portal.transactions import keep_even_if_refused
from tenants.handovers import daily, deadlines
from tenants.handovers.contacts import choose_contact
from tenants.handovers.models import (
    ACTIVE_STATUSES,
    AGE_BAND_LABELS,
    CATEGORY_LABELS,
    AccessAction,
    Consent,
    Consultation,
    ConsultationStatus,
    Handover,
    HandoverAccess,
    HandoverStatus,
    Urgency,
)
from tenants.members.freshness import Freshness
from tenants.members.models import Contact, MemberOrganization, MemberStatus
from tenants.core.validation import ValidationError
from tenants.members.services import blocks_deletion

DESK_NAME = "総合支援窓口"
MAIL_PREFIX = "【子育て支援ネットワーク】"
SUMMARY_MAX = 2000
TEXT_MAX = 1000
REFERENCE_MAX = 40
CONTACT_PREFERENCE_MAX = 200


class HandoverError(Exception):
    """A refused action; the message is Japanese and meant for the user."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# ---------------------------------------------------------------------------
# Parties: the desk (organization_id None) or one member organisation


@dataclass(frozen=True)
class Party:
    organization_id: int | None

    @property
    def is_desk(self) -> bool:
        return self.organization_id is None


DESK = Party(None)


@blocks_deletion
def _keeps_its_handovers(org: MemberOrganization) -> str | None:
    """Handovers and consultations outlive an organisation: the figures count them."""
    n = db.session.scalar(
        select(func.count(Handover.id)).where(
            or_(Handover.sender_organization_id == org.id, Handover.recipient_organization_id == org.id)
        )
    ) or 0
    n += db.session.scalar(
        select(func.count(Consultation.id)).where(Consultation.received_by_organization_id == org.id)
    ) or 0
    if n:
        return f"この団体には引継ぎ・相談の記録が {n} 件あります。記録と統計を残すため、削除できません。"
    return None


def party_of(user) -> Party | None:
    """Whom ``user`` acts for; None when nobody (a member user without an organisation)."""
    if user.role_enum is Role.DESK:
        return DESK
    if user.role_enum is Role.MEMBER and user.member_organization_id:
        return Party(user.member_organization_id)
    return None


def party_name(org: MemberOrganization | None) -> str:
    return org.name if org is not None else DESK_NAME


def person_name(user: User | None) -> str:
    if user is None:
        return "（削除された利用者）"
    return user.display_name or user.email


def is_sender(h: Handover, party: Party) -> bool:
    return h.sender_organization_id == party.organization_id


def is_recipient(h: Handover, party: Party) -> bool:
    return h.recipient_organization_id == party.organization_id


def is_coordinator(c: Consultation, party: Party) -> bool:
    return c.received_by_organization_id == party.organization_id


def may_view_handover(h: Handover, party: Party) -> bool:
    return party.is_desk or is_sender(h, party) or is_recipient(h, party)


def may_view_consultation(c: Consultation, party: Party) -> bool:
    return party.is_desk or is_coordinator(c, party)


# ---------------------------------------------------------------------------
# Recording a consultation


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


# ---------------------------------------------------------------------------
# Recipients and whom to call there


@dataclass(frozen=True)
class Recipient:
    organization_id: int | None  # None = the desk
    name: str
    category_label: str
    phone: str
    contact_id: int | None
    contact_name: str
    contact_title: str
    contact_phone: str
    contact_hours: str
    contact_freshness: Freshness | None
    contact_note: str = ""

    @property
    def key(self) -> str:
        return "desk" if self.organization_id is None else str(self.organization_id)

    @property
    def option_label(self) -> str:
        if self.organization_id is None:
            return DESK_NAME
        who = f"担当: {self.contact_name}" if self.contact_name else "担当者未登録"
        return f"{self.name}（{self.category_label}・{who}）"


def _suggested(contacts: list[Contact], today: date) -> Contact | None:
    """Whom to name at the recipient: see ``tenants.handovers.contacts``."""
    return choose_contact(contacts, today).contact


def recipients(party: Party, today: date) -> list[Recipient]:
    """Where ``party`` can hand over to: the desk, then active organisations by reading. Two queries."""
    orgs = list(db.session.scalars(
        select(MemberOrganization)
        .where(MemberOrganization.status == MemberStatus.ACTIVE.value)
        .order_by(MemberOrganization.category, MemberOrganization.name_kana, MemberOrganization.name_key)
    ))
    orgs = [o for o in orgs if o.id != party.organization_id]
    by_org: dict[int, list[Contact]] = {}
    if orgs:
        for contact in db.session.scalars(select(Contact).where(Contact.organization_id.in_([o.id for o in orgs]))):
            by_org.setdefault(contact.organization_id, []).append(contact)
    out: list[Recipient] = []
    if not party.is_desk:
        desk = _desk()
        out.append(Recipient(None, DESK_NAME, "", desk.phone if desk else "", None, "", "", "", "", None))
    for o in orgs:
        choice = choose_contact(by_org.get(o.id, []), today)
        c = choice.contact
        out.append(Recipient(
            o.id, o.name, o.category_label, o.phone,
            c.id if c else None, c.name if c else "", c.title if c else "", c.phone if c else "",
            c.reachable_hours if c else "", choice.freshness, choice.note,
        ))
    return out


def _desk():
    from tenants.network.services import get_desk

    return get_desk()


def suggestions_for(c: Consultation, today: date, exclude: set[int | None], limit: int = 5):
    """"Whom do I call?" for a consultation's category, without the ones already tried."""
    from tenants.handovers.models import CATEGORY_SEARCH
    from tenants.whom import services as whom

    query = CATEGORY_SEARCH.get(c.category, "")
    if not query:
        return []
    results = whom.search(query, today, limit=limit + len(exclude))
    return [r for r in results if r.id not in exclude and r.is_active][:limit]


# ---------------------------------------------------------------------------
# Sending


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def may_send(c: Consultation, party: Party) -> bool:
    return c.is_open and is_coordinator(c, party) and active_handover(c) is None


def active_handover(c: Consultation) -> Handover | None:
    return next((h for h in c.handovers if h.is_active), None)


def send_handover(
    c: Consultation, data: dict[str, Any], user: User, party: Party, today: date, now: datetime | None = None
) -> Handover:
    """Pass ``c`` to one recipient. ``data``: recipient ("desk" or an organisation id), contact_id, message."""
    now = _now(now)
    if not is_coordinator(c, party):
        raise HandoverError("引継ぎを送れるのは、この相談を受け付けた機関です。", 403)
    if not c.is_open:
        raise HandoverError(f"この相談は{c.status_label}のため、引き継げません。")
    problem = consent_problem(c)
    if problem:
        raise HandoverError(problem, 422)
    current = active_handover(c)
    if current is not None:
        raise HandoverError(
            f"この相談は既に{_party_label(current.recipient_organization)}に引き継いでいます"
            f"（{current.status_label}）。辞退されるか取り下げてから、別の引継ぎ先を選んでください。"
        )

    errors: dict[str, str] = {}
    key = str(data.get("recipient") or "").strip()
    recipient_org: MemberOrganization | None = None
    if key == "desk":
        if party.is_desk:
            errors["recipient"] = "総合支援窓口から総合支援窓口へは引き継げません。"
    elif key.isdigit():
        recipient_org = db.session.get(MemberOrganization, int(key))
        if recipient_org is None or recipient_org.status != MemberStatus.ACTIVE.value:
            errors["recipient"] = "引継ぎ先は、活動中の構成員から選んでください。"
        elif recipient_org.id == party.organization_id:
            errors["recipient"] = "自分の団体には引き継げません。"
    else:
        errors["recipient"] = "引継ぎ先を選んでください。"
    contact: Contact | None = None
    contact_id = data.get("contact_id")
    if recipient_org is not None and not errors:
        if contact_id:
            contact = db.session.get(Contact, int(contact_id)) if str(contact_id).isdigit() else None
            if contact is None or contact.organization_id != recipient_org.id:
                errors["contact_id"] = "担当者は引継ぎ先の担当者から選んでください。"
        else:
            contact = _suggested(list(recipient_org.contacts), today)
    message = (data.get("message") or "").strip()
    if len(message) > TEXT_MAX:
        errors["message"] = f"{TEXT_MAX}文字以内で入力してください。"
    if errors:
        raise ValidationError(errors)

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
    _notify_recipient(h)
    return h


# ---------------------------------------------------------------------------
# The state machine


ACTION_LABELS = {
    "accept": "受け付け",
    "decline": "辞退",
    "start": "対応開始に",
    "resolve": "解決に",
    "withdraw": "取り下げ",
}
# action -> (states it may start from, the new state)
TRANSITIONS = {
    "accept": ((HandoverStatus.SENT,), HandoverStatus.ACCEPTED),
    "decline": ((HandoverStatus.SENT,), HandoverStatus.DECLINED),
    "start": ((HandoverStatus.ACCEPTED,), HandoverStatus.IN_PROGRESS),
    "resolve": ((HandoverStatus.ACCEPTED, HandoverStatus.IN_PROGRESS), HandoverStatus.RESOLVED),
    "withdraw": ((HandoverStatus.SENT,), HandoverStatus.WITHDRAWN),
}


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    local = to_jst(value)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def state_sentence(h: Handover) -> str:
    """What happened last to ``h``, naming who and when."""
    s = h.status
    if s == HandoverStatus.SENT.value:
        return f"{_party_label(h.recipient_organization)}の受付を待っています。"
    if s == HandoverStatus.ACCEPTED.value:
        return f"既に {person_name(h.accepted_by)} さんが受け付けました（{_when(h.accepted_at)}）。"
    if s == HandoverStatus.IN_PROGRESS.value:
        return f"既に {person_name(h.started_by)} さんが対応を始めています（{_when(h.started_at)}）。"
    if s == HandoverStatus.RESOLVED.value:
        return f"既に {person_name(h.resolved_by)} さんが解決にしました（{_when(h.resolved_at)}）。"
    if s == HandoverStatus.DECLINED.value:
        return f"既に {person_name(h.declined_by)} さんが辞退しました（{_when(h.declined_at)}）。"
    return f"既に {person_name(h.withdrawn_by)} さんが取り下げました（{_when(h.withdrawn_at)}）。"


def _party_label(org: MemberOrganization | None) -> str:
    return f"「{party_name(org)}」"


def _check_actor(h: Handover, action: str, party: Party) -> None:
    if action == "withdraw":
        if not is_sender(h, party):
            raise HandoverError("取り下げられるのは、引継ぎを送った機関です。", 403)
    elif not is_recipient(h, party):
        raise HandoverError(f"{ACTION_LABELS[action]}られるのは、引継ぎ先の{_party_label(h.recipient_organization)}です。", 403)


def _transition(h: Handover, action: str, user: User, party: Party, now: datetime, **values: Any) -> None:
    _check_actor(h, action, party)
    sources, target = TRANSITIONS[action]
    values["status"] = target.value
    done = db.session.execute(
        update(Handover)
        .where(Handover.id == h.id, Handover.status.in_([s.value for s in sources]))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(h)
    if done != 1:
        raise HandoverError(
            f"この引継ぎは{ACTION_LABELS[action]}られません（現在の状態: {h.status_label}）。{state_sentence(h)}"
        )


def _first_response(h: Handover, now: datetime) -> dict[str, Any]:
    """The first response's time, never overwritten by a later one."""
    seconds = max(int((now - h.sent_at).total_seconds()), 0)
    return {
        "first_response_at": func.coalesce(Handover.first_response_at, now),
        "response_seconds": func.coalesce(Handover.response_seconds, seconds),
    }


def accept(h: Handover, user: User, party: Party, now: datetime | None = None) -> None:
    now = _now(now)
    _transition(h, "accept", user, party, now, accepted_at=now, accepted_by_id=user.id, **_first_response(h, now))
    daily.count_first_response(h)  # accept and decline only ever leave 'sent', once


def decline(h: Handover, reason: str | None, user: User, party: Party, now: datetime | None = None) -> None:
    now = _now(now)
    _check_actor(h, "decline", party)
    reason = (reason or "").strip()
    if not clean(reason):
        raise ValidationError({"reason": "辞退の理由を書いてください。送り元が次の引継ぎ先を選ぶ手がかりになります。"})
    if len(reason) > TEXT_MAX:
        raise ValidationError({"reason": f"{TEXT_MAX}文字以内で入力してください。"})
    _transition(h, "decline", user, party, now, declined_at=now, declined_by_id=user.id, decline_reason=reason,
                **_first_response(h, now))
    daily.count_first_response(h)
    _notify_sender_declined(h)


def start(h: Handover, user: User, party: Party, now: datetime | None = None) -> None:
    now = _now(now)
    _transition(h, "start", user, party, now, started_at=now, started_by_id=user.id)


def resolve(h: Handover, outcome: str | None, user: User, party: Party, now: datetime | None = None) -> None:
    now = _now(now)
    _check_actor(h, "resolve", party)
    outcome = (outcome or "").strip()
    if not clean(outcome):
        raise ValidationError({"outcome": "対応の結果を書いてください（例: 面談し、発達相談の予約をとった）。"})
    if len(outcome) > TEXT_MAX:
        raise ValidationError({"outcome": f"{TEXT_MAX}文字以内で入力してください。"})
    _transition(h, "resolve", user, party, now, resolved_at=now, resolved_by_id=user.id, outcome=outcome)
    db.session.execute(
        update(Consultation)
        .where(Consultation.id == h.consultation_id, Consultation.status == ConsultationStatus.OPEN.value)
        .values(status=ConsultationStatus.RESOLVED.value, closed_at=now, closed_by_id=user.id, outcome=outcome)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(h.consultation)
    _notify_sender_resolved(h)


def withdraw(h: Handover, user: User, party: Party, now: datetime | None = None) -> None:
    now = _now(now)
    _transition(h, "withdraw", user, party, now, withdrawn_at=now, withdrawn_by_id=user.id)


def close_consultation(c: Consultation, outcome: str | None, user: User, party: Party,
                       now: datetime | None = None) -> None:
    """The coordinator ends a consultation that needs no (further) handover."""
    now = _now(now)
    if not is_coordinator(c, party):
        raise HandoverError("相談を終了できるのは、この相談を受け付けた機関です。", 403)
    outcome = (outcome or "").strip()
    if not clean(outcome):
        raise ValidationError({"outcome": "終了の理由・結果を書いてください（例: 窓口で情報提供し、解決した）。"})
    if len(outcome) > TEXT_MAX:
        raise ValidationError({"outcome": f"{TEXT_MAX}文字以内で入力してください。"})
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


# ---------------------------------------------------------------------------
# E-mail: a notice and a link, nothing about the family


def _member_users(organization_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).where(
            User.role == Role.MEMBER.value,
            User.member_organization_id == organization_id,
            User.active.is_(True),
        ).order_by(User.id)
    ))


def _desk_users(municipality_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).where(
            User.role == Role.DESK.value, User.municipality_id == municipality_id, User.active.is_(True)
        ).order_by(User.id)
    ))


def _addresses_of(organization: MemberOrganization | None, municipality_id: int,
                  contact: Contact | None = None) -> list[str]:
    if organization is None:
        return [u.email for u in _desk_users(municipality_id)]
    users = [u.email for u in _member_users(organization.id)]
    if users:
        return users
    # No one of the organisation has an account yet: its contact, else its address.
    fallback = (contact.email if contact is not None else "") or organization.email
    return [fallback] if fallback else []


def _notify_recipient(h: Handover) -> None:
    urgent = h.consultation.urgency == Urgency.URGENT.value
    subject = f"{MAIL_PREFIX}新しい引継ぎが届きました" + ("（至急）" if urgent else "")
    url = tokens.link(url_for("handovers.show", handover_id=h.id, code=_code(h.municipality_id)))
    body = (
        "新しい引継ぎが届きました。\n"
        f"回答期限: {_when(h.response_due_at)}（受け付けるか辞退するかを、期限までにお知らせください）\n\n"
        f"{url}\n（ログインが必要です。アカウントがない場合は総合支援窓口にお問い合わせください）\n"
    )
    for address in _addresses_of(h.recipient_organization, h.municipality_id, h.recipient_contact):
        enqueue(address, subject, body, kind="handover_received", municipality_id=h.municipality_id)


def _notify_sender_declined(h: Handover) -> None:
    subject = f"{MAIL_PREFIX}引継ぎが差し戻されました"
    url = tokens.link(url_for("handovers.consultation", consultation_id=h.consultation_id, code=_code(h.municipality_id)))
    body = (
        "送った引継ぎが辞退され、差し戻されました。別の引継ぎ先を選んでください。\n\n"
        f"{url}\n（ログインが必要です）\n"
    )
    for address in _addresses_of(h.sender_organization, h.municipality_id):
        enqueue(address, subject, body, kind="handover_declined", municipality_id=h.municipality_id)


def _notify_sender_resolved(h: Handover) -> None:
    subject = f"{MAIL_PREFIX}引き継いだ相談が解決しました"
    url = tokens.link(url_for("handovers.show", handover_id=h.id, code=_code(h.municipality_id)))
    body = f"引継ぎ先で相談が解決しました。\n\n{url}\n（ログインが必要です）\n"
    for address in _addresses_of(h.sender_organization, h.municipality_id):
        enqueue(address, subject, body, kind="handover_resolved", municipality_id=h.municipality_id)


def _code(municipality_id: int) -> str:
    from flask import g

    from tenants.models import Municipality

    m = g.get("municipality")
    if m is not None and m.id == municipality_id:
        return m.code
    return db.session.scalar(select(Municipality.code).where(Municipality.id == municipality_id))


# ---------------------------------------------------------------------------
# Inboxes


@dataclass(frozen=True)
class InboxCounts:
    to_answer: int  # incoming, waiting for accept/decline
    overdue: int  # ... of which past the deadline
    in_hand: int  # incoming, accepted or in progress: to resolve
    waiting: int  # outgoing, waiting for the recipient's answer
    to_route: int  # consultations I coordinate that are open with no active handover
    overdue_all: int  # desk only: overdue anywhere in the municipality

    @property
    def needs_action(self) -> int:
        return self.to_answer + self.in_hand + self.to_route


def _party_is(column, party: Party):
    return column.is_(None) if party.is_desk else column == party.organization_id


def counts(party: Party, now: datetime) -> InboxCounts:
    """Everything the inbox's header shows: two queries."""
    h = Handover
    incoming = _party_is(h.recipient_organization_id, party)
    outgoing = _party_is(h.sender_organization_id, party)
    sent = h.status == HandoverStatus.SENT.value
    in_hand = h.status.in_([HandoverStatus.ACCEPTED.value, HandoverStatus.IN_PROGRESS.value])
    overdue = and_(sent, h.response_due_at < now)
    cols = [
        func.count(case((and_(incoming, sent), 1))),
        func.count(case((and_(incoming, overdue), 1))),
        func.count(case((and_(incoming, in_hand), 1))),
        func.count(case((and_(outgoing, sent), 1))),
        func.count(case((overdue, 1))),
    ]
    # Only rows that are still active matter; the partial index serves this.
    row = db.session.execute(select(*cols).where(h.status.in_(ACTIVE_STATUSES))).one()
    to_route = db.session.scalar(_count_of(_to_route_query(party)))
    return InboxCounts(
        to_answer=row[0], overdue=row[1], in_hand=row[2], waiting=row[3], to_route=to_route or 0,
        overdue_all=row[4] if party.is_desk else 0,
    )


def _count_of(stmt):
    """Count an entity query as a subquery: with_only_columns(func.count()) would drop the
    entity, and with it the tenant scope (the listener refuses that shape)."""
    return select(func.count()).select_from(stmt.order_by(None).subquery())


def _to_route_query(party: Party):
    c = Consultation
    # select(Handover.id), not exists(): the scope reaches entities, not WHERE-only references.
    active = select(Handover.id).where(Handover.consultation_id == c.id, Handover.status.in_(ACTIVE_STATUSES)).exists()
    return (
        select(c)
        .where(_party_is(c.received_by_organization_id, party), c.status == ConsultationStatus.OPEN.value, ~active)
        .order_by(c.created_at.desc(), c.id.desc())
    )


BOXES = {
    "incoming": "届いた引継ぎ",
    "outgoing": "送った引継ぎ",
    "consultations": "引継ぎ先を選ぶ相談",
    "overdue": "期限超過（市町村全体）",
}
FILTERS = {"open": "対応中のみ", "all": "すべて"}


def inbox_query(party: Party, box: str, show: str, now: datetime):
    """(the ordered statement of one inbox list, the statement counting it).

    Handovers, or consultations for 'consultations'. The count is its own
    narrow statement (no joins), so counting a long history reads an index only.
    """
    if box == "consultations":
        stmt = _to_route_query(party)
        return stmt, _count_of(stmt)
    h = Handover
    if box == "overdue":
        where = [h.status == HandoverStatus.SENT.value, h.response_due_at < now]
        order = (h.response_due_at, h.id)
    else:
        column = h.recipient_organization_id if box == "incoming" else h.sender_organization_id
        where = [_party_is(column, party)]
        if show == "open":
            where.append(h.status.in_(ACTIVE_STATUSES))
        order = (h.sent_at.desc(), h.id.desc())
    stmt = select(h).options(
        joinedload(h.consultation), joinedload(h.sender_organization), joinedload(h.recipient_organization),
    ).where(*where).order_by(*order)
    return stmt, select(func.count()).select_from(h).where(*where)


# ---------------------------------------------------------------------------
# Access log


def log_access(user: User, party: Party | None, action: AccessAction, *, consultation_id: int | None = None,
               handover_id: int | None = None) -> HandoverAccess:
    entry = HandoverAccess(
        user_id=user.id,
        user_label=f"{person_name(user)} <{user.email}>",
        organization_id=party.organization_id if party else None,
        consultation_id=consultation_id,
        handover_id=handover_id,
        action=action.value,
    )
    # Stored even when the page is a refusal (422/403/409) whose request rolls back.
    keep_even_if_refused(entry)
    return entry


def access_log_query(consultation_id: int | None = None):
    stmt = select(HandoverAccess).options(joinedload(HandoverAccess.organization))
    if consultation_id is not None:
        stmt = stmt.where(HandoverAccess.consultation_id == consultation_id)
    return stmt.order_by(HandoverAccess.at.desc(), HandoverAccess.id.desc())


ACCESS_LOG_HEADER = ("日時（日本時間）", "利用者", "所属", "操作", "相談番号", "引継ぎ番号")


def access_log_rows(consultation_id: int | None = None):
    for e in db.session.scalars(access_log_query(consultation_id)):
        yield (
            to_jst(e.at).strftime("%Y-%m-%d %H:%M:%S"),
            e.user_label,
            party_name(e.organization),
            e.action_label,
            e.consultation_id or "",
            e.handover_id or "",
        )


# ---------------------------------------------------------------------------
# Escalation and retention


def escalate_overdue(now: datetime | None = None) -> dict[int, list[int]]:
    """Mark overdue, unanswered handovers escalated (once) and tell each municipality's desk.

    Run under an everything-scope (CLI). Idempotent: a handover is escalated
    once; running again sends nothing new. Returns {municipality_id: [handover ids]}.
    """
    now = _now(now)
    due = list(db.session.execute(
        select(Handover.id, Handover.municipality_id).where(
            Handover.status == HandoverStatus.SENT.value,
            Handover.response_due_at < now,
            Handover.escalated_at.is_(None),
        ).order_by(Handover.municipality_id, Handover.id)
    ))
    by_municipality: dict[int, list[int]] = {}
    for handover_id, municipality_id in due:
        # Conditional: a parallel run (or a response just now) never escalates twice.
        done = db.session.execute(
            update(Handover)
            .where(Handover.id == handover_id, Handover.escalated_at.is_(None),
                   Handover.status == HandoverStatus.SENT.value)
            .values(escalated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if done:
            by_municipality.setdefault(municipality_id, []).append(handover_id)
    if by_municipality:
        from tenants.models import Municipality

        codes = dict(db.session.execute(
            select(Municipality.id, Municipality.code).where(Municipality.id.in_(list(by_municipality)))
        ).all())
        for municipality_id, ids in by_municipality.items():
            _notify_desk_overdue(municipality_id, codes[municipality_id], len(ids))
    return by_municipality


def _notify_desk_overdue(municipality_id: int, code: str, n: int) -> None:
    subject = f"{MAIL_PREFIX}回答期限を過ぎた引継ぎが{n}件あります"
    url = tokens.link(url_for("handovers.inbox", code=code, box="overdue"))
    body = (
        f"引継ぎ先からの回答（受付または辞退）が期限を過ぎた引継ぎが、新たに{n}件あります。\n"
        "引継ぎ先に連絡し、状況を確認してください。\n\n"
        f"{url}\n（ログインが必要です）\n"
    )
    for user in _desk_users(municipality_id):
        enqueue(user.email, subject, body, kind="handover_overdue", municipality_id=municipality_id)


def retention_cutoff(now: datetime, years: int) -> datetime:
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def purge(years: int, now: datetime | None = None) -> int:
    """Erase free text, case reference and contact preference of consultations closed before the cutoff.

    Statistics stay: category, age band, urgency, consent state, dates,
    hop_count and every handover's times and states. Returns how many
    consultations were purged (run again: 0).
    """
    now = _now(now)
    if years < 1:
        raise ValueError("years must be at least 1")
    cutoff = retention_cutoff(now, years)
    ids = select(Consultation.id).where(
        Consultation.status != ConsultationStatus.OPEN.value,
        Consultation.closed_at < cutoff,
        Consultation.purged_at.is_(None),
    )
    id_list = list(db.session.scalars(ids))
    if not id_list:
        return 0
    for chunk in range(0, len(id_list), 500):
        part = id_list[chunk:chunk + 500]
        db.session.execute(
            update(Handover).where(Handover.consultation_id.in_(part))
            .values(message=None, decline_reason=None, outcome=None)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            update(Consultation).where(Consultation.id.in_(part))
            .values(summary=None, case_reference=None, contact_preference=None, consent_reason="",
                    outcome="", purged_at=now)
            .execution_options(synchronize_session=False)
        )
    return len(id_list)


def purge_access_log(years: int, now: datetime | None = None) -> int:
    """Delete access-log rows older than ``years``, and every row of a consultation already purged.

    The log keeps staff names and addresses (``user_label``); once a
    consultation's text is erased, who opened it is no longer needed either.
    Returns how many rows were deleted (run again: 0).
    """
    now = _now(now)
    if years < 1:
        raise ValueError("years must be at least 1")
    purged = select(Consultation.id).where(Consultation.purged_at.is_not(None))
    return db.session.execute(
        delete(HandoverAccess)
        .where(or_(HandoverAccess.at < retention_cutoff(now, years), HandoverAccess.consultation_id.in_(purged)))
        .execution_options(synchronize_session=False)
    ).rowcount


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
