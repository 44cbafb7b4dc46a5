"""One transaction per request: services flush, the request boundary commits.

A response below 400 commits; anything else (errors, refused input) rolls
back, so a failed request never leaves half of a change behind.

A few rows must be stored whatever the response says: an access log entry for
a page that showed a family's consultation, even when it was a refused POST
re-rendered with 422/403/409. ``keep_even_if_refused`` adds such a row to the
request's transaction and remembers its values; after a rollback they are
written again in a transaction of their own, before the response leaves. If
that fails, the request fails (500) instead of showing the page unlogged.
"""

from __future__ import annotations

from flask import Flask, Response, g

from portal.extensions import db

_KEPT = "_rows_kept_even_if_refused"


def keep_even_if_refused(row) -> None:
    """Add ``row`` (flushed now) so that it is committed whatever the response status."""
    db.session.add(row)
    db.session.flush()
    mapper = db.inspect(row).mapper
    values = {attr.key: getattr(row, attr.key) for attr in mapper.column_attrs if attr.key != "id"}
    g.setdefault(_KEPT, []).append((mapper.class_, values))


def _finish_transaction(response: Response) -> Response:
    if not db.session.registry.has():
        # Nothing in this request asked for a session (the login page, an anonymous
        # public page): no transaction to end, and none to begin just to commit it.
        return response
    if response.status_code < 400:
        db.session.commit()
        return response
    db.session.rollback()
    kept = g.pop(_KEPT, [])
    # A 5xx replaced whatever the view rendered: nothing was shown, and the
    # database may be what failed, so only refusals (4xx) write their rows again.
    if kept and response.status_code < 500:
        db.session.add_all(cls(**values) for cls, values in kept)
        db.session.commit()
    return response


def register_transaction_boundary(app: Flask) -> None:
    app.after_request(_finish_transaction)
