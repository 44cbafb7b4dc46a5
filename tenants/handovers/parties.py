"""Who takes part in a consultation and its handovers, what each may see, and how pages and mails name them.

A party is the desk (organization_id None) or one member organisation. The
party where a consultation arrives records and coordinates it; a handover
has a sender and a recipient. Everything else is 404 for a party.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from portal.accounts.models import Role, User
from portal.extensions import db
from portal.timeutil import to_jst
from tenants.handovers.models import Consultation, Handover
from tenants.members.models import MemberOrganization
from tenants.members.services import blocks_deletion

DESK_NAME = "総合支援窓口"


class HandoverError(Exception):
    """A refused action; the message is Japanese and meant for the user."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


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


def is_sender(h: Handover, party: Party) -> bool:
    return h.sender_organization_id == party.organization_id


def is_recipient(h: Handover, party: Party) -> bool:
    return h.recipient_organization_id == party.organization_id


def is_coordinator(c: Consultation, party: Party) -> bool:
    return c.received_by_organization_id == party.organization_id


# What a party may open, as criteria of the SELECT that loads it (``get_or_404``): the desk everything
# in its municipality, a member the handovers it sent or received and the consultations it recorded.


def visible_handovers(party: Party) -> tuple[Any, ...]:
    if party.is_desk:
        return ()
    return (or_(Handover.sender_organization_id == party.organization_id,
                Handover.recipient_organization_id == party.organization_id),)


def visible_consultations(party: Party) -> tuple[Any, ...]:
    if party.is_desk:
        return ()
    return (Consultation.received_by_organization_id == party.organization_id,)


# ---------------------------------------------------------------------------
# Names and moments, as pages, messages and mails write them


def party_name(org: MemberOrganization | None) -> str:
    return org.name if org is not None else DESK_NAME


def party_label(org: MemberOrganization | None) -> str:
    return f"「{party_name(org)}」"


def person_name(user: User | None) -> str:
    if user is None:
        return "（削除された利用者）"
    return user.display_name or user.email


def short_time(value: datetime | None) -> str:
    """11月24日 10:05 (JST), as refusals and mails name a moment."""
    if value is None:
        return ""
    local = to_jst(value)
    return f"{local.month}月{local.day}日 {local:%H:%M}"
