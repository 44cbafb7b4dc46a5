"""監査記録: who created, changed or removed what, when, with before/after values."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.timeutil import utcnow
from tenants.scoping import TenantScoped


class AuditEntry(TenantScoped, db.Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # Null for system work (CLI, imports run by commands).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))  # create / update / delete / confirm / import
    entity: Mapped[str] = mapped_column(String(40))  # organization / contact / network / desk ...
    entity_id: Mapped[int | None] = mapped_column(Integer)
    entity_label: Mapped[str] = mapped_column(String(200), default="")
    # {field: [before, after]} for updates; {field: value} snapshots for create/delete.
    changes: Mapped[dict] = mapped_column(JSON, default=dict)

    user = relationship("User", lazy="joined")
