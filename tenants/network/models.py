"""市町村子育て支援ネットワーク: one network record per municipality."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import utcnow
from tenants.core import labels
from tenants.core.enums import LabelledEnum
from tenants.scoping import TenantScoped


class NetworkFormation(LabelledEnum):
    """How the network was formed (source document, section 4)."""

    NEW = "new", "新たに設置"
    EXISTING_COUNCIL = "existing_council", "既存の協議会等を活用"
    REGISTRATION = "registration", "登録制度"


class Network(TenantScoped, db.Model):
    __tablename__ = "networks"
    __table_args__ = (
        UniqueConstraint("municipality_id", name="uq_networks_municipality_id"),
        CheckConstraint(
            "formation IN ('new', 'existing_council', 'registration')", name="formation"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Counted up by every UPDATE; edit forms carry it (portal/concurrency.py).
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}
    name: Mapped[str] = mapped_column(String(120))
    established_on: Mapped[date | None] = mapped_column(Date)
    formation: Mapped[str] = mapped_column(String(20), default=NetworkFormation.NEW.value)
    # Which existing council it was built on (e.g. 要保護児童対策地域協議会).
    existing_council: Mapped[str] = mapped_column(String(120), default="")
    activity_summary: Mapped[str] = mapped_column(Text, default="", info={"max_length": 4000})
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    @property
    def formation_label(self) -> str:
        return NetworkFormation(self.formation).label


class Desk(TenantScoped, db.Model):
    """総合支援窓口: the municipality's one-stop child-rearing desk."""

    __tablename__ = "desks"
    __table_args__ = (UniqueConstraint("municipality_id", name="uq_desks_municipality_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Counted up by every UPDATE; edit forms carry it (portal/concurrency.py).
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}
    name: Mapped[str] = mapped_column(String(120))
    postal_code: Mapped[str] = mapped_column(String(8), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    opening_hours: Mapped[str] = mapped_column(String(200), default="")
    # Who staffs it (e.g. 子育てマネジャー 2名); not personal contact data.
    staff: Mapped[str] = mapped_column(Text, default="", info={"max_length": 1000})
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


labels.entity_labels(network="ネットワーク", desk="総合支援窓口")
