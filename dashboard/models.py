"""What the dashboard keeps per municipality so that it never reads every member, contact or day.

Kept by ``dashboard.summary`` in the transaction of every write that changes
them (listeners on the session: no feature has to know the dashboard
exists), and rebuilt from their sources by ``flask --app wsgi dashboard
rebuild-summaries``. Only numbers live here.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from tenants.scoping import TenantScoped


class MemberTotals(TenantScoped, db.Model):
    """One row per municipality with active member organisations: how many, and their contacts."""

    __tablename__ = "dashboard_member_totals"
    __table_args__ = (Index("uq_dashboard_member_totals_municipality_id", "municipality_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    active_members: Mapped[int] = mapped_column(Integer, default=0)
    # Contacts of the active member organisations, confirmed or not.
    contacts: Mapped[int] = mapped_column(Integer, default=0)


class ConfirmationStep(TenantScoped, db.Model):
    """What "confirmed within 12 months" counts, for every day, as a step function.

    For a day whose "12 months ago" (``portal.timeutil.twelve_months_ago``) is
    ``S``, the municipality's figures are those of its row with the greatest
    ``from_day`` not after ``S``: contacts of active organisations confirmed
    after ``S``, and the core+related categories (and the core ones) with such
    a contact. There is a row for each day on which a contact was last
    confirmed (from that day on, it no longer counts) and one from
    ``FIRST_DAY``, so the figures stay right as days pass without any write,
    and for any day, past or future.
    """

    __tablename__ = "dashboard_confirmation_steps"
    __table_args__ = (
        Index("uq_dashboard_confirmation_steps_municipality_id_from_day", "municipality_id", "from_day", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_day: Mapped[date] = mapped_column(Date)
    contacts_confirmed: Mapped[int] = mapped_column(Integer, default=0)
    covered: Mapped[int] = mapped_column(Integer, default=0)
    core_covered: Mapped[int] = mapped_column(Integer, default=0)


FIRST_DAY = date(1, 1, 1)  # the first step: before any contact's confirmation day


class HandoverMonth(TenantScoped, db.Model):
    """The handovers of one municipality and month: ``handover_days`` (tenants/handovers/daily.py) summed.

    "The last 12 months" are then twelve of these and the days of one partial
    month, instead of every day of the year.
    """

    __tablename__ = "dashboard_handover_months"
    __table_args__ = (
        Index("uq_dashboard_handover_months_municipality_id_month", "municipality_id", "month", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)  # its first day
    sent: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
