"""The member list (構成員): one page of organisations, read as plain rows in one statement.

The statement counts the filtered organisations, takes the requested page of
them (only the columns the list shows) and joins each to its contacts, primary
first: one row per contact (one for an organisation without any), and one row
with the count alone when the page is empty. No ORM objects are built: at a
hundred rows an object per organisation and per contact cost more than all the
SQL, and so did the two extra round trips of a count, a page and its contacts
read one by one. Every part selects columns of its entity, so the tenant scope
filters each (``tenants.scoping``; tests/test_members.py reads the SQL).
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sqlalchemy import Select, func, select, true

from portal.extensions import db
from portal.japanese import fold
from portal.pagination import Page, requested_page
from tenants.members.categories import category_label
from tenants.members.freshness import freshness_on
from tenants.members.models import Contact, MemberOrganization, MemberStatus

# Read once per process: a code constant, not data.
_STATUS_LABELS = {s.value: s.label for s in MemberStatus}


class ListedOrganization(NamedTuple):
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
    """The filtered organisations, unordered: the columns the list shows."""
    o = MemberOrganization
    stmt = select(o.id, o.name, o.name_kana, o.category, o.status, o.phone)
    if category:
        stmt = stmt.where(o.category == category)
    if status:
        stmt = stmt.where(o.status == status)
    for term in q.split():
        stmt = stmt.where(o.search_text.contains(fold(term), autoescape=True))
    return stmt


def page_statement(filtered: Select, size: int, number: int) -> Select:
    """(total, the page's organisation columns, contact name, phone, confirmed) rows, in list order.

    The organisations by reading then name (as ever); each one's contacts in the
    order of ``MemberOrganization.contacts`` (primary first, then by id).
    """
    o, c = MemberOrganization, Contact
    counted = select(func.count().label("total")).select_from(filtered.subquery()).subquery("counted")
    page = filtered.order_by(o.name_kana, o.name).limit(size).offset((number - 1) * size).subquery("page")
    return (
        select(
            counted.c.total, page,
            c.name.label("contact_name"), c.phone.label("contact_phone"), c.last_confirmed_on,
        )
        .select_from(counted)
        .outerjoin(page, true())
        .outerjoin(c, c.organization_id == page.c.id)
        .order_by(page.c.name_kana, page.c.name, page.c.id, c.is_primary.desc(), c.id)
    )


def page_of(filtered: Select, size: int, today: date, href: str) -> Page:
    """The requested page of ``filtered`` as ``ListedOrganization``s; ``href``: a url_pattern with the id."""
    number = requested_page()
    rows = db.session.execute(page_statement(filtered, size, number)).all()
    # Rows by position, not by name: a Row's attribute lookup would cost more than all the rest.
    firsts: dict[int, list] = {}  # organisation id -> [its first row, its number of contacts], in list order
    for row in rows:
        org_id, contact_name = row[1], row[7]
        if org_id is None:  # an empty page: the count alone
            continue
        if org_id in firsts:
            firsts[org_id][1] += 1
        else:
            firsts[org_id] = [row, 0 if contact_name is None else 1]
    freshness = freshness_on(today)
    listed = []
    for (_total, org_id, name, name_kana, category, status, phone, contact_name, contact_phone, confirmed), n in (
        firsts.values()
    ):
        phone = contact_phone or phone
        listed.append(ListedOrganization(
            href=href.format(org_id),
            name=name,
            name_kana=name_kana,
            category_label=category_label(category),
            status_label=_STATUS_LABELS.get(status, status),
            primary=contact_name or "",
            others=max(n - 1, 0),
            freshness=freshness(confirmed).value if n else "",
            phone=phone,
            tel=phone.replace("-", ""),
        ))
    return Page(items=listed, total=rows[0][0], number=number, size=size)
