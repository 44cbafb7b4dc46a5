"""The inbox: its lists and the counts its header and the home page show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from tenants.handovers.models import ACTIVE_STATUSES, Consultation, ConsultationStatus, Handover, HandoverStatus
from tenants.handovers.parties import Party

BOXES = {
    "incoming": "届いた引継ぎ",
    "outgoing": "送った引継ぎ",
    "consultations": "引継ぎ先を選ぶ相談",
    "overdue": "期限超過（市町村全体）",
}
FILTERS = {"open": "対応中のみ", "all": "すべて"}


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
    to_route = db.session.scalar(select(func.count(Consultation.id)).where(*_to_route_criteria(party)))
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
    return (
        select(c)
        .where(*_to_route_criteria(party))
        .order_by(c.created_at.desc(), c.id.desc())
    )


def _to_route_criteria(party: Party):
    c = Consultation
    # NOT IN over the active handovers (consultation_id is NOT NULL), not a correlated NOT EXISTS:
    # SQLite would otherwise scan the municipality's active handovers once per open consultation.
    # The subquery selects an entity's column, so the tenant scope reaches it too.
    active = select(Handover.consultation_id).where(Handover.status.in_(ACTIVE_STATUSES))
    return (_party_is(c.received_by_organization_id, party), c.status == ConsultationStatus.OPEN.value,
            c.id.not_in(active))


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
