"""Retention: what of a closed consultation is erased after the retention period, and when the access log goes.

Registered with ``portal.retention`` (``PURGES``, in this feature's
``register``), whose ``retention purge`` command runs them and then rewrites
the tables so that erased text leaves the files.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update

from portal.extensions import db
from portal.retention import Purge
from portal.timeutil import add_years, utcnow
from tenants.handovers.models import Consultation, ConsultationStatus, Handover, HandoverAccess
from tenants.scoping import EVERYTHING, scoped


def purge(years: int, now: datetime | None = None) -> int:
    """Erase free text, case reference and contact preference of consultations closed before the cutoff.

    Statistics stay: category, age band, urgency, consent state, dates,
    hop_count and every handover's times and states. Returns how many
    consultations were purged (run again: 0).
    """
    now = now or utcnow()
    if years < 1:
        raise ValueError("years must be at least 1")
    cutoff = add_years(now, -years)
    ids = select(Consultation.id).where(
        Consultation.status != ConsultationStatus.OPEN.value,
        Consultation.closed_at < cutoff,
        Consultation.purged_at.is_(None),
    )
    id_list = list(db.session.scalars(ids))
    if not id_list:
        return 0
    for chunk in range(0, len(id_list), 500):
        part = id_list[chunk:chunk + 500]
        db.session.execute(
            update(Handover).where(Handover.consultation_id.in_(part))
            .values(message=None, decline_reason=None, outcome=None)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            update(Consultation).where(Consultation.id.in_(part))
            .values(summary=None, case_reference=None, contact_preference=None, consent_reason="",
                    outcome="", purged_at=now)
            .execution_options(synchronize_session=False)
        )
    return len(id_list)


def purge_access_log(years: int, now: datetime | None = None) -> int:
    """Delete access-log rows older than ``years``, and every row of a consultation already purged.

    The log keeps staff names and addresses (``user_label``); once a
    consultation's text is erased, who opened it is no longer needed either.
    Returns how many rows were deleted (run again: 0).
    """
    now = now or utcnow()
    if years < 1:
        raise ValueError("years must be at least 1")
    purged = select(Consultation.id).where(Consultation.purged_at.is_not(None))
    return db.session.execute(
        delete(HandoverAccess)
        .where(or_(HandoverAccess.at < add_years(now, -years), HandoverAccess.consultation_id.in_(purged)))
        .execution_options(synchronize_session=False)
    ).rowcount


def _everywhere(purge_fn, setting: str):
    """Run ``purge_fn`` over every municipality: retention is the system's work, not a desk's."""
    def run(settings) -> int:
        with scoped(db.session, EVERYTHING):
            return purge_fn(int(settings[setting]))
    return run


# Consultations first: the access log then drops the rows of those just purged too.
PURGES = (
    Purge("consultations", 10, ("consultations", "handovers"), _everywhere(purge, "HANDOVER_RETENTION_YEARS"),
          lambda n, s: f"終了から{s['HANDOVER_RETENTION_YEARS']}年を過ぎた相談 {n} 件の記述・受付番号・連絡方法を消去しました（統計は残ります）。"),
    Purge("access_log", 20, ("handover_access_log",), _everywhere(purge_access_log, "ACCESS_LOG_RETENTION_YEARS"),
          lambda n, s: f"閲覧記録 {n} 件を削除しました（{s['ACCESS_LOG_RETENTION_YEARS']}年より前のもの、記述を消去した相談のもの）。"),
)
