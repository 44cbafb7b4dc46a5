"""The e-mails a handover sends: a notice and a link, nothing about the family.

No summary, category, age or case reference goes into a mail: the reader
logs in to see them (and that opening is logged). Mails are queued in the
outbox within the request's transaction.
"""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from sqlalchemy import select, update

from portal.accounts import tokens
from portal.accounts.models import Role, User
from portal.extensions import db
from portal.mail.services import enqueue
from portal.timeutil import utcnow
from tenants.handovers.models import Handover, HandoverStatus, Urgency
from tenants.handovers.parties import short_time
from tenants.members.models import Contact, MemberOrganization

MAIL_PREFIX = "【子育て支援ネットワーク】"


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


def notify_recipient(h: Handover) -> None:
    urgent = h.consultation.urgency == Urgency.URGENT.value
    subject = f"{MAIL_PREFIX}新しい引継ぎが届きました" + ("（至急）" if urgent else "")
    url = tokens.link(url_for("handovers.show", handover_id=h.id, code=_code(h.municipality_id)))
    body = (
        "新しい引継ぎが届きました。\n"
        f"回答期限: {short_time(h.response_due_at)}（受け付けるか辞退するかを、期限までにお知らせください）\n\n"
        f"{url}\n（ログインが必要です。アカウントがない場合は総合支援窓口にお問い合わせください）\n"
    )
    for address in _addresses_of(h.recipient_organization, h.municipality_id, h.recipient_contact):
        enqueue(address, subject, body, kind="handover_received", municipality_id=h.municipality_id)


def notify_sender_declined(h: Handover) -> None:
    subject = f"{MAIL_PREFIX}引継ぎが差し戻されました"
    url = tokens.link(
        url_for("handovers.consultation", consultation_id=h.consultation_id, code=_code(h.municipality_id))
    )
    body = (
        "送った引継ぎが辞退され、差し戻されました。別の引継ぎ先を選んでください。\n\n"
        f"{url}\n（ログインが必要です）\n"
    )
    for address in _addresses_of(h.sender_organization, h.municipality_id):
        enqueue(address, subject, body, kind="handover_declined", municipality_id=h.municipality_id)


def notify_sender_resolved(h: Handover) -> None:
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
# Escalation: the desk hears once of each handover left unanswered past its deadline


def escalate_overdue(now: datetime | None = None) -> dict[int, list[int]]:
    """Mark overdue, unanswered handovers escalated (once) and tell each municipality's desk.

    Run under an everything-scope (CLI). Idempotent: a handover is escalated
    once; running again sends nothing new. Returns {municipality_id: [handover ids]}.
    """
    now = now or utcnow()
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
