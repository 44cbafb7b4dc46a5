"""誰に連絡？ — find the organisation and the person to call.

One search box over organisation names and readings, categories, consultation
tags and contact names. Matching runs on ``MemberOrganization.search_text``
(every part already ``fold()``ed by the member services), so width, case and
hiragana/katakana differences do not matter: 「ほけん」「ﾎｹﾝ」「ホケン」 are the
same query.

A search is one SQL statement whatever the number of results: the ranked
organisations with the total number of matches (a window count, taken before
the LIMIT), each joined to its contacts, primary first. Reads only: nothing is
flushed or written.
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
from tenants.members.freshness import Freshness, freshness_on
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

    o, c = MemberOrganization, Contact
    name_part = _name_part()
    missing = sum(
        (case((_contains(name_part, t), 0), else_=1) for t in terms), start=literal(0)
    ).label("missing")
    inactive = case((o.status == MemberStatus.ACTIVE.value, 0), else_=1).label("inactive")
    no_reading = case((o.name_kana == "", 1), else_=0).label("no_reading")
    hits = (
        select(
            o.id, o.name, o.name_kana, o.category, o.status, o.consultation_tags, o.phone,
            missing, inactive, no_reading, o.name_key,
            func.count().over().label("total"),  # before the LIMIT: every match
        )
        .where(o.status != MemberStatus.LEFT.value, and_(*(_contains(o.search_text, t) for t in terms)))
        .order_by(missing, inactive, no_reading, o.name_kana, o.name_key, o.id)
        .limit(limit)
        .subquery("hits")
    )
    # Each hit with its contacts, primary first (one row without any): whom to call is the first.
    rows = db.session.execute(
        select(
            hits.c.id, hits.c.name, hits.c.name_kana, hits.c.category, hits.c.status, hits.c.consultation_tags,
            hits.c.phone, hits.c.missing, hits.c.total,
            c.name, c.name_kana, c.title, c.phone, c.email, c.reachable_hours, c.last_confirmed_on, c.is_primary,
        )
        .select_from(hits)
        .outerjoin(c, c.organization_id == hits.c.id)
        .order_by(
            hits.c.missing, hits.c.inactive, hits.c.no_reading, hits.c.name_kana, hits.c.name_key, hits.c.id,
            c.is_primary.desc(), c.id,
        )
    ).all()
    if not rows:
        return WhomResults(query=query, terms=terms, results=(), total=0, limit=limit)
    return WhomResults(query=query, terms=terms, results=_results(rows, today), total=rows[0][8], limit=limit)


def _results(rows, today: date) -> tuple[WhomResult, ...]:
    """One WhomResult per organisation from its rows (read by position: cheaper than a Row's attributes)."""
    firsts: dict[int, list] = {}  # organisation id -> [its first row, its number of contacts], in order
    for row in rows:
        if row[0] in firsts:
            firsts[row[0]][1] += 1
        else:
            firsts[row[0]] = [row, 0 if row[9] is None else 1]
    freshness = freshness_on(today)
    results = []
    for row, n in firsts.values():
        (org_id, name, name_kana, category, status, tags, phone, missing, _total,
         contact_name, contact_kana, title, contact_phone, email, hours, confirmed, is_primary) = row
        contact = None
        if n:
            contact = WhomContact(
                name=contact_name,
                name_kana=contact_kana,
                title=title,
                phone=contact_phone,
                email=email,
                reachable_hours=hours,
                last_confirmed_on=confirmed,
                freshness=freshness(confirmed),
                is_primary=bool(is_primary),
            )
        results.append(WhomResult(
            id=org_id,
            name=name,
            name_kana=name_kana,
            category=category,
            category_label=category_label(category),
            status=status,
            status_label=MemberStatus(status).label,
            consultation_tags=tuple(tags or ()),
            phone=phone,
            name_match=missing == 0,
            contact=contact,
            contact_count=n,
        ))
    return tuple(results)
