"""Who opened, printed or exported a family's consultation: every display is logged, refusals too."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.accounts.models import User
from portal.extensions import db
from portal.timeutil import to_jst
from portal.transactions import keep_even_if_refused
from tenants.handovers.models import AccessAction, HandoverAccess
from tenants.handovers.parties import Party, party_name, person_name

ACCESS_LOG_HEADER = ("日時（日本時間）", "利用者", "所属", "操作", "相談番号", "引継ぎ番号")


def log_access(user: User, party: Party | None, action: AccessAction, *, consultation_id: int | None = None,
               handover_id: int | None = None) -> HandoverAccess:
    entry = HandoverAccess(
        user_id=user.id,
        user_label=f"{person_name(user)} <{user.email}>",
        organization_id=party.organization_id if party else None,
        consultation_id=consultation_id,
        handover_id=handover_id,
        action=action.value,
    )
    # Stored even when the page is a refusal (400/403/409) whose request rolls back.
    keep_even_if_refused(entry)
    return entry


def access_log_query(consultation_id: int | None = None):
    stmt = select(HandoverAccess).options(joinedload(HandoverAccess.organization))
    if consultation_id is not None:
        stmt = stmt.where(HandoverAccess.consultation_id == consultation_id)
    return stmt.order_by(HandoverAccess.at.desc(), HandoverAccess.id.desc())


def access_log_rows(consultation_id: int | None = None):
    for e in db.session.scalars(access_log_query(consultation_id)):
        yield (
            to_jst(e.at).strftime("%Y-%m-%d %H:%M:%S"),
            e.user_label,
            party_name(e.organization),
            e.action_label,
            e.consultation_id or "",
            e.handover_id or "",
        )
