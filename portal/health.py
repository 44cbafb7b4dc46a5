"""`GET /healthz`: is the database answering, within a deadline of its own.

The check runs on a fresh connection (not the request's pool) in a thread,
and the answer is given when the deadline passes whatever the database does:
a database that accepts connections and never replies gives 503 in
HEALTHZ_TIMEOUT_SECONDS, not a hung worker thread.
"""

from __future__ import annotations

import threading

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from portal.extensions import db
from portal.security.policy import public

bp = Blueprint("health", __name__)


def _probe(url, connect_args: dict, outcome: list) -> None:
    try:
        engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
        outcome.append(None)
    except Exception as e:  # any failure is the answer: unreachable
        outcome.append(f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}")


def database_problem(deadline: float) -> str | None:
    """None when the database answered ``SELECT 1`` within ``deadline`` seconds, else why not."""
    engine = db.engine
    connect_args: dict = {}
    if engine.dialect.name == "postgresql":
        connect_args["connect_timeout"] = max(1, int(deadline))
    elif engine.dialect.name == "sqlite":
        connect_args["timeout"] = deadline
    outcome: list = []
    probe = threading.Thread(target=_probe, args=(engine.url, connect_args, outcome), daemon=True)
    probe.start()
    probe.join(deadline)
    if not outcome:
        return f"timeout: no answer within {deadline:g} s"
    return outcome[0]


@bp.get("/healthz")
@public
def healthz():
    deadline = current_app.config["HEALTHZ_TIMEOUT_SECONDS"]
    problem = database_problem(deadline)
    if problem is not None:
        current_app.logger.error("healthz: 503, database unreachable (%s): %s", db.engine.url.render_as_string(hide_password=True), problem)
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200


def register(app: Flask) -> None:
    app.register_blueprint(bp)
