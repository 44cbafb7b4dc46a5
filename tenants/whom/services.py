"""誰に連絡？ — find the organisation and the person to call.

One search box over organisation names and readings, categories, consultation
tags and contact names. Matching runs on ``MemberOrganization.search_text``
(every part already ``fold()``ed by the member services), so width, case and
hiragana/katakana differences do not matter: 「ほけん」「ﾎｹﾝ」「ホケン」 are the
same query.

A search is two SQL statements whatever the number of results: the ranked
organisations with the total number of matches (a window count), then the
contacts of those organisations. Reads only: nothing is flushed or written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, case, func, literal, select

from portal.extensions import db
from portal.japanese import fold
from portal.search import SEARCH_MAX_CHARS
from tenants.members.categories import category_label
from tenants.members.freshness import Freshness, freshness
from tenants.members.models import Contact, MemberOrganization, MemberStatus

MAX_QUERY_LENGTH = SEARCH_MAX_CHARS
DEFAULT_LIMIT = 30
# Separates the parts of search_text; a term containing it could match across parts.
_PART_SEPARATOR = "|"
_WHITESPACE = re.compile(r"\s+")  # \s covers the full-width space U+3000 too


@dataclass(frozen=True)
class WhomContact:
    name: str
    name_kana: str
    title: str
    phone: str
    email: str
    reachable_hours: str
    last_confirmed_on: date | None
    freshness: Freshness
    is_primary: bool

    @property
    def tel(self) -> str:
        return tel_uri(self.phone)


@dataclass(frozen=True)
class WhomResult:
    id: int
    name: str
    name_kana: str
    category: str
    category_label: str
    status: str
    status_label: str
    consultation_tags: tuple[str, ...]
    phone: str
    # Every term of the query was found in the name or its reading.
    name_match: bool
    contact: WhomContact | None
    contact_count: int

    @property
    def is_active(self) -> bool:
        return self.status == MemberStatus.ACTIVE.value

    @property
    def tel(self) -> str:
        return tel_uri(self.phone)

    @property
    def other_contacts(self) -> int:
        return max(self.contact_count - 1, 0)


@dataclass(frozen=True)
class WhomResults:
    query: str
    terms: tuple[str, ...]
    results: tuple[WhomResult, ...]
    total: int
    limit: int

    @property
    def more(self) -> bool:
        """More organisations matched than are shown: the user should narrow down."""
        return self.total > len(self.results)

    def __bool__(self) -> bool:
        return bool(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self):
        return iter(self.results)


def tel_uri(phone: str) -> str:
    digits = re.sub(r"[^0-9+]", "", phone or "")
    return f"tel:{digits}" if digits else ""


def terms_of(query: str | None) -> tuple[str, tuple[str, ...]]:
    """(the query as used, its folded terms): cut to 100 characters, split on any space."""
    query = (query or "").strip()[:MAX_QUERY_LENGTH]
    terms: list[str] = []
    for word in _WHITESPACE.split(query):
        term = fold(word).replace(_PART_SEPARATOR, "")
        if term and term not in terms:
            terms.append(term)
    return query, tuple(terms)


def _contains(expr: ColumnElement[Any], term: str) -> ColumnElement[bool]:
    # autoescape: %, _ and the escape character itself are matched literally.
    return expr.contains(term, autoescape=True)


def _name_part() -> ColumnElement[str]:
    """The folded name and reading at the start of search_text.

    refresh_search_text writes fold(name) (= name_key) first, then the folded
    reading when there is one. Folding never lengthens a reading, so this
    prefix holds both; at most a character or two of the next part can ride
    along when the reading had long-vowel marks or separators to drop.
    """
    o = MemberOrganization
    length = func.length(o.name_key) + 1 + func.length(o.name_kana)
    return func.substr(o.search_text, 1, length, type_=Text)


def search(query: str | None, today: date, limit: int = DEFAULT_LIMIT) -> WhomResults:
    """Organisations matching every term of ``query``, best first, with whom to call.

    Order: all terms found in the name or reading first (then those with more
    terms in the name), active organisations before the others, then by reading
    and name. Organisations that left the network are never shown.
    """
    query, terms = terms_of(query)
    if not terms:
        return WhomResults(query=query, terms=(), results=(), total=0, limit=limit)

    o = MemberOrganization
    name_part = _name_part()
    missing = sum(
        (case((_contains(name_part, t), 0), else_=1) for t in terms), start=literal(0)
    ).label("missing")
    rows = db.session.execute(
        select(
            o.id, o.name, o.name_kana, o.category, o.status, o.consultation_tags, o.phone,
            missing,
            func.count().over().label("total"),
        )
        .where(o.status != MemberStatus.LEFT.value, and_(*(_contains(o.search_text, t) for t in terms)))
        .order_by(
            missing,
            case((o.status == MemberStatus.ACTIVE.value, 0), else_=1),
            case((o.name_kana == "", 1), else_=0),
            o.name_kana,
            o.name_key,
            o.id,
        )
        .limit(limit)
    ).all()
    if not rows:
        return WhomResults(query=query, terms=terms, results=(), total=0, limit=limit)

    contacts = _whom_to_call([r.id for r in rows], today)
    results = tuple(
        WhomResult(
            id=r.id,
            name=r.name,
            name_kana=r.name_kana,
            category=r.category,
            category_label=category_label(r.category),
            status=r.status,
            status_label=MemberStatus(r.status).label,
            consultation_tags=tuple(r.consultation_tags or ()),
            phone=r.phone,
            name_match=r.missing == 0,
            contact=contacts.get(r.id, (None, 0))[0],
            contact_count=contacts.get(r.id, (None, 0))[1],
        )
        for r in rows
    )
    return WhomResults(query=query, terms=terms, results=results, total=rows[0].total, limit=limit)


def _whom_to_call(org_ids: list[int], today: date) -> dict[int, tuple[WhomContact, int]]:
    """organisation id -> (its primary contact, or the first one; how many it has). One query."""
    c = Contact
    rows = db.session.execute(
        select(
            c.organization_id, c.name, c.name_kana, c.title, c.phone, c.email,
            c.reachable_hours, c.last_confirmed_on, c.is_primary,
        )
        .where(c.organization_id.in_(org_ids))
        .order_by(c.organization_id, c.is_primary.desc(), c.id)
    ).all()
    found: dict[int, tuple[WhomContact, int]] = {}
    for r in rows:
        if r.organization_id in found:
            first, n = found[r.organization_id]
            found[r.organization_id] = (first, n + 1)
            continue
        found[r.organization_id] = (
            WhomContact(
                name=r.name,
                name_kana=r.name_kana,
                title=r.title,
                phone=r.phone,
                email=r.email,
                reachable_hours=r.reachable_hours,
                last_confirmed_on=r.last_confirmed_on,
                freshness=freshness(r.last_confirmed_on, today),
                is_primary=bool(r.is_primary),
            ),
            1,
        )
    return found
