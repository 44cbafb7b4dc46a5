"""活動状況 (Activity): information exchange meetings, study sessions, guidebook editing."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import utcnow
from tenants.scoping import TenantScoped


class ActivityKind(StrEnum):
    EXCHANGE = "exchange"
    STUDY = "study"
    GUIDEBOOK = "guidebook"
    OTHER = "other"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    ActivityKind.EXCHANGE: "情報交換会",
    ActivityKind.STUDY: "学習会",
    ActivityKind.GUIDEBOOK: "ガイドブック編集",
    ActivityKind.OTHER: "その他",
}


class NetworkActivity(TenantScoped, db.Model):
    __tablename__ = "network_activities"
    __table_args__ = (
        CheckConstraint("kind IN ('exchange', 'study', 'guidebook', 'other')", name="kind"),
        CheckConstraint("participants IS NULL OR participants >= 0", name="participants"),
        Index("ix_network_activities_municipality_id_held_on", "municipality_id", "held_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Counted up by every UPDATE; edit forms carry it (portal/concurrency.py).
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}
    kind: Mapped[str] = mapped_column(String(12), default=ActivityKind.EXCHANGE.value)
    held_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(120))
    participants: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    @property
    def kind_label(self) -> str:
        return ActivityKind(self.kind).label

    @property
    def name(self) -> str:  # what the audit log shows
        return self.title
