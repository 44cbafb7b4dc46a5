"""構成員 (member organisations) and their 担当者 (working-level contacts)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.timeutil import utcnow
from tenants.core import labels
from tenants.core.enums import LabelledEnum
from tenants.members.categories import category_label
from tenants.scoping import TenantScoped


class MemberStatus(LabelledEnum):
    APPLYING = "applying", "申請中"
    ACTIVE = "active", "活動中"
    SUSPENDED = "suspended", "休止中"
    LEFT = "left", "退会"


class MemberOrganization(TenantScoped, db.Model):
    __tablename__ = "member_organizations"
    __table_args__ = (
        # The stable key: one organisation per folded name in a municipality.
        UniqueConstraint("municipality_id", "name_key", name="uq_member_organizations_name_key"),
        CheckConstraint("status IN ('applying', 'active', 'suspended', 'left')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Counted up by every UPDATE; edit forms carry it (portal/concurrency.py).
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}
    name: Mapped[str] = mapped_column(String(120))
    name_kana: Mapped[str] = mapped_column(String(200), default="")
    name_key: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(30), index=True)
    postal_code: Mapped[str] = mapped_column(String(8), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(12), default=MemberStatus.ACTIVE.value, index=True)
    joined_on: Mapped[date | None] = mapped_column(Date)
    consultation_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    public_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Folded names, reading, category, tags and contact names for "whom do I call?".
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="organization",
        cascade="all, delete-orphan",
        order_by="(Contact.is_primary.desc(), Contact.id)",
    )

    @property
    def category_label(self) -> str:
        return category_label(self.category)

    @property
    def status_label(self) -> str:
        return MemberStatus(self.status).label

    def __repr__(self) -> str:
        return f"<MemberOrganization {self.id} {self.name}>"


class Contact(TenantScoped, db.Model):
    """A named working-level person (担当者) at a member organisation."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("organization_id", "name_key", name="uq_contacts_name_key"),
        # Loading the contacts of a page of organisations, within the tenant.
        Index("ix_contacts_municipality_id_organization_id", "municipality_id", "organization_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Counted up by every UPDATE; edit forms carry it (portal/concurrency.py).
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}
    organization_id: Mapped[int] = mapped_column(ForeignKey("member_organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    name_kana: Mapped[str] = mapped_column(String(200), default="")
    name_key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    reachable_hours: Mapped[str] = mapped_column(String(200), default="")
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    last_confirmed_on: Mapped[date | None] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    organization: Mapped[MemberOrganization] = relationship(back_populates="contacts")

    def __repr__(self) -> str:
        return f"<Contact {self.id} {self.name}>"


class ChangeRequestStatus(LabelledEnum):
    PENDING = "pending", "承認待ち"
    APPROVED = "approved", "承認済み"
    REJECTED = "rejected", "却下"


class OrganizationChangeRequest(TenantScoped, db.Model):
    """A member's change to its name or category, held until the desk approves it."""

    __tablename__ = "organization_change_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("member_organizations.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # {field: [current, proposed]} for name / category
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=ChangeRequestStatus.PENDING.value, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(Text, default="", info={"max_length": 1000})

    organization: Mapped[MemberOrganization] = relationship()
    requested_by = relationship("User", foreign_keys=[requested_by_id])


# How the audit trail and the pages name these fields and show their values.
labels.field_labels(
    name="名称", name_kana="ふりがな", category="区分", postal_code="郵便番号",
    address="住所", phone="電話番号", email="メールアドレス", website="ウェブサイト",
    status="状態", joined_on="加入日", consultation_tags="対応できる相談",
    public_consent="公開への同意", title="役職・部署", reachable_hours="連絡がつく時間帯",
    is_primary="主担当", last_confirmed_on="最終確認日", reason="理由", contacts="担当者",
)
labels.shows("category", lambda value: category_label(value) if isinstance(value, str) else value)
labels.shows("status", lambda value: MemberStatus(value).label if value in MemberStatus.values() else value)
labels.entity_labels(organization="構成員", contact="担当者", change_request="名称・区分の変更申請")
labels.action_labels(request="申請", approve="承認", reject="却下")
