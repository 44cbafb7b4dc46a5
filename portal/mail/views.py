"""送信メール（管理）: the outbox, for the system administrator."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.extensions import db
from portal.mail.models import STATUS_LABELS, STATUSES, OutboxMessage
from portal.pagination import paginate
from portal.security.policy import allow

bp = Blueprint("mail_admin", __name__, url_prefix="/admin/outbox")

PAGE_SIZE = 50
# Icon (shape, not only colour) + text, with the status classes of app.css.
STATUS_STYLES = {"pending": "todo", "sending": "warn", "sent": "done", "failed": "stale"}


@bp.get("")
@allow(Role.ADMIN)
def index():
    status = request.args.get("status", "")
    if status not in STATUSES:
        status = ""
    by_status = dict(db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).tuples().all())
    stmt = select(OutboxMessage)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    total = by_status.get(status, 0) if status else sum(by_status.values())
    page = paginate(stmt.order_by(OutboxMessage.id.desc()), PAGE_SIZE, total=total)
    return render_template(
        "mail/outbox.html",
        page=page,
        status=status,
        by_status=by_status,
        status_labels=STATUS_LABELS,
        status_styles=STATUS_STYLES,
        smtp_configured=bool(current_app.config["SMTP_HOST"]),
    )


@bp.get("/<int:message_id>")
@allow(Role.ADMIN)
def detail(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return render_template(
        "mail/message.html",
        message=message,
        # Bodies hold one-time links: readable here only in development.
        show_body=current_app.config["KOSODATE_ENV"] == "development",
        status_styles=STATUS_STYLES,
        smtp_configured=bool(current_app.config["SMTP_HOST"]),
    )
