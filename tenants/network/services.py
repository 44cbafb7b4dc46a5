"""The network record, the desk and the coverage of member categories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, case, func, select, true

from portal.extensions import db
from portal.japanese import normalize_phone, normalize_postal_code
from portal.timeutil import fiscal_year_start, twelve_months_ago
from tenants.core import audit
from tenants.core.validation import Fields
from tenants.members.categories import CATEGORIES, CORE, RELATED, Category
from tenants.members.models import Contact, MemberOrganization, MemberStatus
from tenants.network.models import Desk, Network, NetworkFormation

NETWORK_FIELDS = ("name", "established_on", "formation", "existing_council", "activity_summary")
DESK_FIELDS = ("name", "postal_code", "address", "phone", "opening_hours", "staff")


def get_network() -> Network | None:
    return db.session.scalar(select(Network))


def get_desk() -> Desk | None:
    return db.session.scalar(select(Desk))


def _validated_network(data: dict[str, Any]) -> dict[str, Any]:
    fields = Fields(Network, data)
    fields.text("name", required="ネットワークの名称を入力してください。")
    fields.value("established_on")
    formation = fields.choice("formation", NetworkFormation.values(), "設置の方法を選んでください。",
                              default=NetworkFormation.NEW.value)
    fields.text("existing_council")
    fields.text("activity_summary", multiline=True)
    if formation == NetworkFormation.EXISTING_COUNCIL and not fields.values["existing_council"]:
        fields.refuse("existing_council", "活用した協議会等の名称を入力してください（例: 要保護児童対策地域協議会）。")
    if formation != NetworkFormation.EXISTING_COUNCIL:
        fields.values["existing_council"] = ""
    established_on = fields.values["established_on"]
    if established_on and established_on > date.today():
        fields.refuse("established_on", "設置日に未来の日付は入力できません。")
    return fields.valid()


def _save_single(existing, model: type, values: dict[str, Any], entity: str, fields: tuple[str, ...]):
    """Create or update the municipality's one record of ``model``, audited."""
    if existing is None:
        obj = model(**values)
        db.session.add(obj)
        db.session.flush()
        audit.record("create", entity, obj, audit.snapshot(obj, fields))
        return obj
    audit.update_audited(existing, values, fields, entity)
    return existing


def save_network(data: dict[str, Any]) -> Network:
    return _save_single(get_network(), Network, _validated_network(data), "network", NETWORK_FIELDS)


def save_desk(data: dict[str, Any]) -> Desk:
    fields = Fields(Desk, data)
    fields.text("name", required="窓口の名称を入力してください。")
    for name in ("address", "opening_hours"):
        fields.text(name)
    fields.text("staff", multiline=True)
    fields.normalised("postal_code", normalize_postal_code)
    fields.normalised("phone", normalize_phone)
    return _save_single(get_desk(), Desk, fields.valid(), "desk", DESK_FIELDS)


@dataclass(frozen=True)
class CoverageCell:
    category: Category
    members: int  # active member organisations of this category
    covered: int  # ... of which have a contact confirmed within 12 months

    @property
    def state(self) -> str:
        if self.covered:
            return "present"
        return "weak" if self.members else "missing"


@dataclass(frozen=True)
class Coverage:
    core: list[CoverageCell]
    related: list[CoverageCell]
    others: list[CoverageCell]  # other categories that have members

    @property
    def missing(self) -> list[CoverageCell]:
        return [c for c in self.core + self.related if c.state != "present"]

    @property
    def present_count(self) -> int:
        return sum(c.state == "present" for c in self.core + self.related)

    @property
    def required_count(self) -> int:
        return len(self.core) + len(self.related)


def _organization_counts_statement(today: date) -> Select:
    """category, status, organisations, of which have a contact confirmed within 12 months."""
    has_current_contact = select(Contact.id).where(
        Contact.organization_id == MemberOrganization.id,
        Contact.last_confirmed_on > twelve_months_ago(today),
    ).exists()
    return select(
        MemberOrganization.category,
        MemberOrganization.status,
        func.count(MemberOrganization.id),
        func.sum(case((has_current_contact, 1), else_=0)),
    ).group_by(MemberOrganization.category, MemberOrganization.status)


def _organization_counts(rows) -> dict[tuple[str, str], tuple[int, int]]:
    """(category, status) -> (organisations, of which covered), from the rows of that statement."""
    return {(row[0], row[1]): (row[2], int(row[3] or 0)) for row in rows}


def _coverage_of(counts: dict[tuple[str, str], tuple[int, int]]) -> Coverage:
    active = MemberStatus.ACTIVE.value
    cells = [CoverageCell(c, *counts.get((c.code, active), (0, 0))) for c in CATEGORIES]
    return Coverage(
        core=[c for c in cells if c.category.group == CORE],
        related=[c for c in cells if c.category.group == RELATED],
        others=[c for c in cells if not c.category.in_coverage and c.members],
    )


def coverage(today: date) -> Coverage:
    """Which categories are present: an active member with a current contact. One query.

    The dashboard counts the same in SQL (``dashboard.services.rows_statement``);
    tests/test_coverage_rule.py holds the two to agreeing.
    """
    return _coverage_of(_organization_counts(db.session.execute(_organization_counts_statement(today))))


@dataclass(frozen=True)
class MemberSummary:
    by_status: dict[str, int]
    contacts_total: int
    contacts_stale: int
    contacts_due: int


def member_summary(today: date) -> MemberSummary:
    return coverage_and_summary(today)[1]


def coverage_and_summary(today: date) -> tuple[Coverage, MemberSummary]:
    """``coverage(today)`` and ``member_summary(today)`` in one query.

    The organisations grouped by category and status, each group row carrying the
    contacts' figures (one row of a derived table; a contact always belongs to an
    organisation, so without organisations there are no contacts to count).
    """
    stale_line, april = twelve_months_ago(today), fiscal_year_start(today)
    contacts = select(
        func.count(Contact.id).label("total"),
        func.sum(case(((Contact.last_confirmed_on.is_(None)) | (Contact.last_confirmed_on <= stale_line), 1),
                      else_=0)).label("stale"),
        func.sum(case(((Contact.last_confirmed_on > stale_line) & (Contact.last_confirmed_on < april), 1),
                      else_=0)).label("due"),
    ).subquery("contact_figures")
    figures = (contacts.c.total, contacts.c.stale, contacts.c.due)
    rows = db.session.execute(
        _organization_counts_statement(today).add_columns(*figures).join(contacts, true()).group_by(*figures)
    ).all()
    counts = _organization_counts(rows)
    by_status: dict[str, int] = {}
    for (_category, status), (members, _covered) in counts.items():
        by_status[status] = by_status.get(status, 0) + members
    total, stale, due = rows[0][4:] if rows else (0, 0, 0)
    return _coverage_of(counts), MemberSummary(by_status, total or 0, int(stale or 0), int(due or 0))
