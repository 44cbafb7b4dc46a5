"""登録制度: organisations apply to join a municipality's network; the desk decides."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.timeutil import utcnow
from tenants.core import labels
from tenants.core.enums import LabelledEnum
from tenants.scoping import TenantScoped


class RegistrationStatus(LabelledEnum):
    SUBMITTED = "submitted", "審査待ち"
    APPROVED = "approved", "承認済み"
    DECLINED = "declined", "お断り"


class Registration(TenantScoped, db.Model):
    """An application to join (登録申請), as the applicant typed it (normalised)."""

    __tablename__ = "registrations"
    __table_args__ = (
        CheckConstraint("status IN ('submitted', 'approved', 'declined')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(12), default=RegistrationStatus.SUBMITTED.value, index=True)
    # The organisation
    org_name: Mapped[str] = mapped_column(String(120))
    org_name_kana: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(30))
    postal_code: Mapped[str] = mapped_column(String(8), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    consultation_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    public_consent: Mapped[bool] = mapped_column(default=False)
    # What information they can provide to the network (情報提供できる内容).
    info_offered: Mapped[str] = mapped_column(Text, default="", info={"max_length": 1000})
    # The first contact person, who will be invited as a member user.
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_name_kana: Mapped[str] = mapped_column(String(200), default="")
    contact_title: Mapped[str] = mapped_column(String(120), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    contact_email: Mapped[str] = mapped_column(String(254))
    terms_accepted_at: Mapped[datetime] = mapped_column(DateTime)
    # Where the application came from, to limit floods (kept with the application).
    applicant_address: Mapped[str] = mapped_column(String(45), default="", index=True)
    # The desk's decision
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decline_reason: Mapped[str] = mapped_column(Text, default="", info={"max_length": 1000})
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("member_organizations.id", ondelete="SET NULL"))

    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])

    @property
    def status_label(self) -> str:
        return RegistrationStatus(self.status).label


labels.entity_labels(registration="登録申請")
labels.action_labels(approve="承認", decline="お断り")
