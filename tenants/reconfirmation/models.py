"""担当者の再確認: the desk starts a round; each organisation confirms its contacts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.timeutil import utcnow
from tenants.core import labels
from tenants.scoping import TenantScoped


class ReconfirmationRound(TenantScoped, db.Model):
    __tablename__ = "reconfirmation_rounds"
    __table_args__ = (
        # At most one open round per municipality, whatever races the app loses.
        Index(
            "uq_reconfirmation_rounds_open", "municipality_id", unique=True,
            postgresql_where=text("closed_at IS NULL"), sqlite_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    started_on: Mapped[date] = mapped_column(Date)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    tasks: Mapped[list[ReconfirmationTask]] = relationship(back_populates="round", cascade="all, delete-orphan")


class ReconfirmationTask(TenantScoped, db.Model):
    """One organisation's task in a round: confirm or update its contacts."""

    __tablename__ = "reconfirmation_tasks"
    __table_args__ = (UniqueConstraint("round_id", "organization_id", name="uq_reconfirmation_tasks_round_org"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("reconfirmation_rounds.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("member_organizations.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    round: Mapped[ReconfirmationRound] = relationship(back_populates="tasks")
    organization = relationship("MemberOrganization")


labels.field_labels(confirmed_on="確認日")
labels.entity_labels(reconfirmation_round="再確認", reconfirmation_task="再確認（団体）")
labels.action_labels(start="開始", close="終了", complete="完了")
