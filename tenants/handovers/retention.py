"""Retention: what of a closed consultation is erased after the retention period, and when the access log goes.

Run through ``portal.retention`` (the ``retention purge`` command), which
also rewrites the tables afterwards so that erased text leaves the files.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update

from portal.extensions import db
from portal.timeutil import add_years, utcnow
from tenants.handovers.models import Consultation, ConsultationStatus, Handover, HandoverAccess


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
