"""One transaction per request: services flush, the request boundary commits.

A response below 400 commits; anything else (errors, refused input) rolls
back, so a failed request never leaves half of a change behind.
"""

from __future__ import annotations

from flask import Flask, Response

from portal.extensions import db


def _finish_transaction(response: Response) -> Response:
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def register_transaction_boundary(app: Flask) -> None:
    app.after_request(_finish_transaction)
