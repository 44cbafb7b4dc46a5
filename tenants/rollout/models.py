"""The network status a municipality declares, and the 地域子育て応援タウン checklist.

Both belong to one municipality (TenantScoped): a desk user can only ever
write its own municipality's rows, and the prefecture dashboard reads them
under its prefecture scope.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.timeutil import utcnow
from tenants.core import labels
from tenants.core.enums import LabelledEnum
from tenants.scoping import TenantScoped

# Both notes (a declaration's, the checklist's) hold this many characters.
NOTE_MAX = 1000


class NetworkStatus(LabelledEnum):
    NOT_STARTED = "not_started", "未着手"
    PREPARING = "preparing", "準備中"
    ESTABLISHED = "established", "設置済"


class NetworkStatusDeclaration(TenantScoped, db.Model):
    """One declaration; the municipality's current status is its latest (by date, then entry)."""

    __tablename__ = "network_status_declarations"
    __table_args__ = (
        CheckConstraint("status IN ('not_started', 'preparing', 'established')", name="status"),
        Index("ix_network_status_declarations_current", "municipality_id", "declared_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(12))
    # The day the status took effect (for 設置済: the day the network was set up).
    declared_on: Mapped[date] = mapped_column(Date)
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="", info={"max_length": NOTE_MAX})
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    declared_by = relationship("User", lazy="joined")

    @property
    def status_label(self) -> str:
        return NetworkStatus(self.status).label


class TownCertification(TenantScoped, db.Model):
    """地域子育て応援タウン: the three requirements and, once certified, the date.

    One row per municipality; every change is written to the audit log.
    """

    __tablename__ = "town_certifications"
    __table_args__ = (UniqueConstraint("municipality_id", name="uq_town_certifications_municipality_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Counted up by every UPDATE; edit forms carry it (portal/concurrency.py).
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}
    one_stop_desk: Mapped[bool] = mapped_column(Boolean, default=False)  # 総合支援窓口
    support_hubs: Mapped[bool] = mapped_column(Boolean, default=False)  # 中学校区ごとの拠点
    network: Mapped[bool] = mapped_column(Boolean, default=False)  # 子育て支援ネットワーク
    certified_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="", info={"max_length": NOTE_MAX})
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    @property
    def met_count(self) -> int:
        return sum((self.one_stop_desk, self.support_hubs, self.network))


labels.field_labels(
    declared_on="日付", note="メモ", one_stop_desk="総合支援窓口", support_hubs="中学校区ごとの拠点",
    network="ネットワーク", certified_on="認定日",
)
labels.entity_labels(network_status="設置状況の申告", town_certification="地域子育て応援タウン")
