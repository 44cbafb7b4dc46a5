"""活動状況 (Activity): information exchange meetings, study sessions, guidebook editing."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import utcnow
from tenants.core import labels
from tenants.core.enums import LabelledEnum
from tenants.scoping import TenantScoped


class ActivityKind(LabelledEnum):
    EXCHANGE = "exchange", "情報交換会"
    STUDY = "study", "学習会"
    GUIDEBOOK = "guidebook", "ガイドブック編集"
    OTHER = "other", "その他"


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
    note: Mapped[str] = mapped_column(Text, default="", info={"max_length": 4000})
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    @property
    def kind_label(self) -> str:
        return ActivityKind(self.kind).label

    @property
    def name(self) -> str:  # what the audit log shows
        return self.title


labels.field_labels(kind="種類", held_on="開催日", participants="参加者数", note="メモ")
labels.entity_labels(activity="活動記録")
