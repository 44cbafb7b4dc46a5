"""Pages of a query: two statements (the count and the page) whatever the size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, request
from sqlalchemy import Select, func, select

from portal.extensions import db


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max((self.total + self.size - 1) // self.size, 1)


# Far beyond any list we have; a larger page number is a tampered URL (404),
# and OFFSET must stay within what the database can hold.
MAX_PAGE = 100_000


def requested_page() -> int:
    raw = request.args.get("page", "")
    try:
        number = int(raw)
    except ValueError:
        return 1
    if number > MAX_PAGE:
        abort(404)
    return max(number, 1)


def paginate(stmt: Select, size: int, *, total: int | None = None) -> Page:
    """``stmt`` must already be ordered; pass ``total`` when it is known."""
    number = requested_page()
    if total is None:
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = db.session.scalars(stmt.limit(size).offset((number - 1) * size)).all()
    return Page(items=list(items), total=total, number=number, size=size)
