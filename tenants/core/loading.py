"""Loading the row a URL names, or 404.

Always a SELECT, so the tenant scope (``tenants.scoping``) filters it even
when the session already holds the row: another municipality's id is as
unknown as one that does not exist.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort
from sqlalchemy import select

from portal.extensions import db

T = TypeVar("T")


def get_or_404(model: type[T], id_: Any, *criteria: Any) -> T:
    """The ``model`` row with this id (and matching ``criteria``, e.g. its owner), or abort with 404."""
    row = db.session.scalar(select(model).where(model.id == id_, *criteria)) if id_ is not None else None
    if row is None:
        abort(404)
    return row
