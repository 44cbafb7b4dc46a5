"""Pages of a query: two statements (the count and the page) whatever the size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
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


def requested_page() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


def paginate(stmt: Select, size: int, *, total: int | None = None) -> Page:
    """``stmt`` must already be ordered; pass ``total`` when it is known."""
    number = requested_page()
    if total is None:
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = db.session.scalars(stmt.limit(size).offset((number - 1) * size)).all()
    return Page(items=list(items), total=total, number=number, size=size)
