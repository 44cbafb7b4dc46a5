"""Where a consultation can be handed over to, whom to call there, and "whom do I call?" suggestions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from portal.extensions import db
from tenants.handovers.contacts import choose_contact
from tenants.handovers.models import CATEGORY_SEARCH, Consultation
from tenants.handovers.parties import DESK_NAME, Party
from tenants.members.freshness import Freshness
from tenants.members.models import Contact, MemberOrganization, MemberStatus


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
    from tenants.whom import services as whom

    query = CATEGORY_SEARCH.get(c.category, "")
    if not query:
        return []
    results = whom.search(query, today, limit=limit + len(exclude))
    return [r for r in results if r.id not in exclude and r.is_active][:limit]
