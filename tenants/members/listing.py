"""The member list (構成員): one page of organisations, read as plain rows.

A page is three statements whatever its length: the count, the page's
organisations (only the columns the list shows), then their contacts (only the
primary contact's name, telephone and confirmation date are shown, with how
many others there are). No ORM objects are built: at a hundred rows an object
per organisation and per contact cost more than all the SQL. Both SELECTs name
columns of their entity, so the tenant scope filters them (``tenants.scoping``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select

from portal.extensions import db
from portal.japanese import fold
from portal.pagination import Page, paginate
from tenants.members.categories import category_label
from tenants.members.freshness import freshness
from tenants.members.models import STATUS_LABELS, Contact, MemberOrganization


@dataclass(frozen=True, slots=True)
class ListedOrganization:
    """One line of the list, every value as shown."""

    href: str
    name: str
    name_kana: str
    category_label: str
    status_label: str
    primary: str  # the primary contact's name (or the first contact's); "" without contacts
    others: int  # contacts besides that one
    freshness: str  # of that contact: a Freshness value
    phone: str  # that contact's telephone, else the organisation's
    tel: str  # the phone for a tel: link


def statement(category: str, status: str, q: str) -> Select:
    """The filtered, ordered organisations: the columns the list shows."""
    o = MemberOrganization
    stmt = select(o.id, o.name, o.name_kana, o.category, o.status, o.phone)
    if category:
        stmt = stmt.where(o.category == category)
    if status:
        stmt = stmt.where(o.status == status)
    for term in q.split():
        stmt = stmt.where(o.search_text.contains(fold(term), autoescape=True))
    return stmt.order_by(o.name_kana, o.name)


def page_of(stmt: Select, size: int, today: date, href: str) -> Page:
    """The requested page of ``stmt`` as ``ListedOrganization``s; ``href``: a url_pattern with the id."""
    page = paginate(stmt, size, rows=True)
    contacts = _contacts_of([r.id for r in page.items]) if page.items else {}
    listed = []
    for r in page.items:
        first, count = contacts.get(r.id, (None, 0))
        phone = (first.phone if first is not None else "") or r.phone
        listed.append(ListedOrganization(
            href=href.format(r.id),
            name=r.name,
            name_kana=r.name_kana,
            category_label=category_label(r.category),
            status_label=STATUS_LABELS.get(r.status, r.status),
            primary=first.name if first is not None else "",
            others=max(count - 1, 0),
            freshness=freshness(first.last_confirmed_on, today).value if first is not None else "",
            phone=phone,
            tel=phone.replace("-", ""),
        ))
    return Page(items=listed, total=page.total, number=page.number, size=page.size)


def _contacts_of(org_ids: list[int]) -> dict[int, tuple]:
    """organisation id -> (its primary contact, or the first one, as a Row; how many it has).

    The same order as ``MemberOrganization.contacts`` (primary first, then by id).
    """
    c = Contact
    rows = db.session.execute(
        select(c.organization_id, c.name, c.phone, c.last_confirmed_on)
        .where(c.organization_id.in_(org_ids))
        .order_by(c.organization_id, c.is_primary.desc(), c.id)
    ).all()
    found: dict[int, tuple] = {}
    for r in rows:
        first, n = found.get(r.organization_id, (r, 0))
        found[r.organization_id] = (first, n + 1)
    return found
