"""相談 (consultations), 引継ぎ (handovers) and the access log of both.

A consultation is recorded where it arrives: at the desk
(``received_by_organization_id`` NULL) or at a member organisation. It holds
the minimum a receiving organisation needs — no name, no address: a case
reference the receiving office uses in its own files, category, urgency,
the child's age band, a short summary, how the family wants to be contacted,
and the family's consent to passing it on.

A handover passes the consultation to one recipient (an organisation, or the
desk when ``recipient_organization_id`` is NULL). Its lifecycle::

    sent ──accept──▶ accepted ──start──▶ in_progress ──resolve──▶ resolved
     │                  └──────────────resolve───────────────────▶ resolved
     ├──decline (reason)──▶ declined   (back to the sender, who re-routes)
     └──withdraw (sender)─▶ withdrawn

Every transition stores when and who. Times are naive UTC.

``Consultation.hop_count`` is the bounce count (たらい回し指数): the number of
handovers sent for the consultation, i.e. the number of organisations it
passed through. The purge command erases free text, the case reference and
the contact preference of long-closed consultations and keeps every number.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.timeutil import utcnow
from tenants.core.enums import LabelledEnum
from tenants.scoping import TenantScoped

# ---------------------------------------------------------------------------
# The maintained lists (codes are stored; labels are what people read)

CATEGORIES: tuple[tuple[str, str], ...] = (
    ("anxiety", "育児不安"),
    ("development", "発達"),
    ("daycare", "保育所入所"),
    ("health", "健康・医療"),
    ("financial", "経済的困難"),
    ("abuse", "虐待の疑い"),
    ("peers", "仲間づくり"),
    ("other", "その他"),
)
CATEGORY_LABELS = dict(CATEGORIES)
# What "whom do I call?" is asked when a consultation of this kind needs a recipient.
CATEGORY_SEARCH = {
    "anxiety": "育児不安",
    "development": "発達",
    "daycare": "保育所",
    "health": "健康",
    "financial": "経済",
    "abuse": "虐待",
    "peers": "仲間づくり",
    "other": "",
}

AGE_BANDS: tuple[tuple[str, str], ...] = (
    ("pregnancy", "妊娠中"),
    ("age0", "0歳"),
    ("age1_2", "1〜2歳"),
    ("age3_5", "3〜5歳"),
    ("elementary", "小学生"),
    ("junior_high_plus", "中学生以上"),
    ("unknown", "不明"),
)
AGE_BAND_LABELS = dict(AGE_BANDS)


class Urgency(LabelledEnum):
    NORMAL = "normal", "通常"
    URGENT = "urgent", "至急"


class Consent(LabelledEnum):
    GIVEN = "given", "同意あり（本人・保護者が引継ぎに同意）"
    NOT_GIVEN = "not_given", "同意なし"
    NOT_REQUIRED = "not_required", "同意不要（子どもの安全に関わるため）"


class ConsultationStatus(LabelledEnum):
    # "open" is not 「対応中」: that is a handover's state (HandoverStatus.IN_PROGRESS), and a
    # consultation nobody has taken yet must not look like one being handled.
    OPEN = "open", "受付済"
    RESOLVED = "resolved", "解決"
    CLOSED = "closed", "終了"


class HandoverStatus(LabelledEnum):
    SENT = "sent", "受付待ち"
    ACCEPTED = "accepted", "受付済み"
    IN_PROGRESS = "in_progress", "対応中"
    RESOLVED = "resolved", "解決"
    DECLINED = "declined", "辞退（差し戻し）"
    WITHDRAWN = "withdrawn", "取り下げ"


# A consultation has at most one of these at a time.
ACTIVE_STATUSES = (HandoverStatus.SENT.value, HandoverStatus.ACCEPTED.value, HandoverStatus.IN_PROGRESS.value)


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


class Consultation(TenantScoped, db.Model):
    __tablename__ = "consultations"
    __table_args__ = (
        CheckConstraint(f"category IN ({_in(CATEGORY_LABELS)})", name="category"),
        CheckConstraint(f"urgency IN ({_in(u.value for u in Urgency)})", name="urgency"),
        CheckConstraint(f"age_band IN ({_in(AGE_BAND_LABELS)})", name="age_band"),
        CheckConstraint(f"consent IN ({_in(c.value for c in Consent)})", name="consent"),
        CheckConstraint(f"status IN ({_in(s.value for s in ConsultationStatus)})", name="status"),
        CheckConstraint("hop_count >= 0", name="hop_count"),
        # Retention purge: closed consultations by closing date.
        Index("ix_consultations_municipality_id_status_closed_at", "municipality_id", "status", "closed_at"),
        # The bounce distribution, from the index alone.
        Index("ix_consultations_municipality_id_hop_count", "municipality_id", "hop_count", "created_at"),
        # The consultations an organisation received (and those of the desk: NULL).
        Index("ix_consultations_municipality_id_received_by", "municipality_id", "received_by_organization_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The receiving office's own file number; no name of any person. Erased by the purge.
    case_reference: Mapped[str | None] = mapped_column(String(40))
    # NULL = received at the desk (総合支援窓口).
    received_by_organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("member_organizations.id", ondelete="RESTRICT")
    )
    category: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(10), default=Urgency.NORMAL.value)
    age_band: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str | None] = mapped_column(Text, info={"max_length": 2000})
    contact_preference: Mapped[str | None] = mapped_column(String(200))
    consent: Mapped[str] = mapped_column(String(15))
    consent_reason: Mapped[str] = mapped_column(Text, default="", info={"max_length": 1000})
    status: Mapped[str] = mapped_column(String(10), default=ConsultationStatus.OPEN.value)
    hop_count: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(Text, default="", info={"max_length": 1000})
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    purged_at: Mapped[datetime | None] = mapped_column(DateTime)

    received_by = relationship("MemberOrganization", foreign_keys=[received_by_organization_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    handovers: Mapped[list[Handover]] = relationship(
        back_populates="consultation", order_by="Handover.id", cascade="all, delete-orphan"
    )

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category)

    @property
    def age_band_label(self) -> str:
        return AGE_BAND_LABELS.get(self.age_band, self.age_band)

    @property
    def consent_label(self) -> str:
        return Consent(self.consent).label

    @property
    def status_label(self) -> str:
        return ConsultationStatus(self.status).label

    @property
    def is_open(self) -> bool:
        return self.status == ConsultationStatus.OPEN.value

    def stage_label(self, active: bool | None = None) -> str:
        """The badge: where an open consultation stands; ``active`` = has a handover under way (None: unknown)."""
        if not self.is_open:
            return self.status_label
        if self.hop_count == 0:
            return "引継ぎ前"
        if active is None:
            return self.status_label
        return "引継ぎ中" if active else "引継ぎ先を再検討"

    def __repr__(self) -> str:
        return f"<Consultation {self.id} {self.category} {self.status}>"


class Handover(TenantScoped, db.Model):
    __tablename__ = "handovers"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(s.value for s in HandoverStatus)})", name="status"),
        CheckConstraint(
            "sender_organization_id IS NULL OR recipient_organization_id IS NULL "
            "OR sender_organization_id <> recipient_organization_id",
            name="not_to_itself",
        ),
        # Inboxes: incoming and outgoing, newest first, filtered by status.
        Index("ix_handovers_incoming", "municipality_id", "recipient_organization_id", "status", "sent_at"),
        Index("ix_handovers_outgoing", "municipality_id", "sender_organization_id", "status", "sent_at"),
        # ... and the "all" lists, newest first, without a sort of the whole history.
        # (It also covers the per-recipient figures, so they never read the wide rows.)
        Index("ix_handovers_incoming_all", "municipality_id", "recipient_organization_id", "sent_at",
              "status", "response_due_at", "first_response_at", "response_seconds"),
        Index("ix_handovers_outgoing_all", "municipality_id", "sender_organization_id", "sent_at"),
        # Percentiles of the time to first response: an ordered index walk.
        Index("ix_handovers_municipality_id_response_seconds", "municipality_id", "response_seconds"),
        # Overdue and escalation: open handovers by due time. Also covers the figures'
        # counts (first response, sent), so they never read the wide rows.
        Index("ix_handovers_municipality_id_status_due", "municipality_id", "status", "response_due_at",
              "first_response_at", "sent_at"),
        # One active handover per consultation, whatever two users do at once.
        Index(
            "uq_handovers_one_active", "consultation_id", unique=True,
            postgresql_where=text("status IN ('sent', 'accepted', 'in_progress')"),
            sqlite_where=text("status IN ('sent', 'accepted', 'in_progress')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"), index=True)
    # NULL = the desk, on either side.
    sender_organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("member_organizations.id", ondelete="RESTRICT")
    )
    recipient_organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("member_organizations.id", ondelete="RESTRICT")
    )
    # The person suggested at the recipient (its primary contact when sent).
    recipient_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default=HandoverStatus.SENT.value)
    # What the sender tells the recipient (erased by the purge with the consultation's text).
    message: Mapped[str | None] = mapped_column(Text, info={"max_length": 1000})

    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    response_due_at: Mapped[datetime] = mapped_column(DateTime)
    # Set on accept or decline.
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime)
    # first_response_at - sent_at in seconds, kept with it for the figures (percentiles by index).
    response_seconds: Mapped[int | None] = mapped_column(Integer)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outcome: Mapped[str | None] = mapped_column(Text, info={"max_length": 1000})
    declined_at: Mapped[datetime | None] = mapped_column(DateTime)
    declined_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decline_reason: Mapped[str | None] = mapped_column(Text, info={"max_length": 1000})
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # When the overdue first response was escalated to the desk (once).
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)

    consultation: Mapped[Consultation] = relationship(back_populates="handovers")
    sender_organization = relationship("MemberOrganization", foreign_keys=[sender_organization_id])
    recipient_organization = relationship("MemberOrganization", foreign_keys=[recipient_organization_id])
    recipient_contact = relationship("Contact", foreign_keys=[recipient_contact_id])
    sent_by = relationship("User", foreign_keys=[sent_by_id])
    accepted_by = relationship("User", foreign_keys=[accepted_by_id])
    started_by = relationship("User", foreign_keys=[started_by_id])
    resolved_by = relationship("User", foreign_keys=[resolved_by_id])
    declined_by = relationship("User", foreign_keys=[declined_by_id])
    withdrawn_by = relationship("User", foreign_keys=[withdrawn_by_id])

    @property
    def status_label(self) -> str:
        return HandoverStatus(self.status).label

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        """No first response and the deadline has passed."""
        return self.status == HandoverStatus.SENT.value and self.response_due_at < now

    @property
    def answered_late(self) -> bool:
        return self.first_response_at is not None and self.first_response_at > self.response_due_at

    def __repr__(self) -> str:
        return f"<Handover {self.id} {self.status}>"


class AccessAction(LabelledEnum):
    VIEW = "view", "閲覧"
    PRINT = "print", "説明用紙の印刷"
    EXPORT = "export", "書き出し"


class HandoverAccess(TenantScoped, db.Model):
    """One opening of a consultation or handover (要配慮個人情報): who, when, what."""

    __tablename__ = "handover_access_log"
    __table_args__ = (
        CheckConstraint(f"action IN ({_in(a.value for a in AccessAction)})", name="action"),
        Index("ix_handover_access_log_municipality_id_at", "municipality_id", "at"),
        Index("ix_handover_access_log_consultation_id", "consultation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Kept as text too: the log must still say who after an account is removed.
    user_label: Mapped[str] = mapped_column(String(300), default="")
    # The organisation the user acted for (NULL = the desk).
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("member_organizations.id", ondelete="SET NULL"))
    # No foreign keys: the log outlives what it points at.
    consultation_id: Mapped[int | None] = mapped_column(Integer)
    handover_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))

    user = relationship("User")
    organization = relationship("MemberOrganization")

    @property
    def action_label(self) -> str:
        return AccessAction(self.action).label


class HandoverDay(TenantScoped, db.Model):
    """Handovers sent per municipality and day, and how many were answered (on time).

    Kept by tenants/handovers/daily.py so the prefecture dashboard sums a few
    thousand rows instead of every handover of the last 12 months.
    """

    __tablename__ = "handover_days"
    __table_args__ = (Index("uq_handover_days_municipality_id_day", "municipality_id", "day", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The day (JST) the handovers were sent; a first response counts on its handover's day.
    day: Mapped[date] = mapped_column(Date)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    # First response given (accepted or declined) ...
    answered: Mapped[int] = mapped_column(Integer, default=0)
    # ... by the due time.
    on_time: Mapped[int] = mapped_column(Integer, default=0)
