"""The preview: what importing a batch's records would do to the current data.

Organisations and contacts are matched on their stable keys (see ``parse``);
each is new, changed (with every field's before and after) or unchanged.
Organisations absent from the file are never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from tenants.members.categories import category_label
from tenants.members.models import Contact, MemberOrganization
from tenants.transfer.columns import CONTACT, DATE_FIELDS, ORG, header_of, preview_text
from tenants.transfer.models import ImportBatch


@dataclass
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class ContactPlan:
    line: int
    name: str
    contact: Contact | None
    changes: dict[str, Any]  # what to pass to create_contact/update_contact
    shown: list[FieldChange]

    @property
    def state(self) -> str:
        return "new" if self.contact is None else "changed" if self.changes else "unchanged"


@dataclass
class OrganizationPlan:
    line: int
    name: str
    category: str
    org: MemberOrganization | None
    changes: dict[str, Any]
    shown: list[FieldChange]
    contacts: list[ContactPlan]
    demote: list[Contact]  # primaries not in the file who give way to the file's primary

    @property
    def state(self) -> str:
        return "new" if self.org is None else "changed" if self.changes else "unchanged"

    @property
    def touched(self) -> bool:
        return self.state != "unchanged" or any(c.state != "unchanged" for c in self.contacts) or bool(self.demote)


@dataclass
class Counts:
    organizations: dict[str, int] = field(default_factory=lambda: {"new": 0, "changed": 0, "unchanged": 0})
    contacts: dict[str, int] = field(default_factory=lambda: {"new": 0, "changed": 0, "unchanged": 0})

    @property
    def anything(self) -> bool:
        return any(self.organizations[k] or self.contacts[k] for k in ("new", "changed"))

    def summary_of(self, kind: str) -> str:
        n = getattr(self, kind)
        return f"新規{n['new']}件・変更{n['changed']}件・変更なし{n['unchanged']}件"

    def summary(self) -> str:
        return f"団体 {self.summary_of('organizations')}、担当者 {self.summary_of('contacts')}"


@dataclass
class Plan:
    organizations: list[OrganizationPlan]

    @property
    def counts(self) -> Counts:
        counts = Counts()
        for o in self.organizations:
            counts.organizations[o.state] += 1
            for c in o.contacts:
                counts.contacts[c.state] += 1
            counts.contacts["changed"] += len(o.demote)
        return counts


def _differences(kind: str, obj: Any, values: dict[str, Any]) -> tuple[dict[str, Any], list[FieldChange]]:
    changes, shown = {}, []
    for name, value in values.items():
        current = getattr(obj, name)
        if current != value:
            changes[name] = value
            shown.append(FieldChange(header_of(kind, name), preview_text(kind, name, current), preview_text(kind, name, value)))
    return changes, shown


def _current_organizations() -> dict[str, MemberOrganization]:
    orgs = db.session.scalars(select(MemberOrganization).options(selectinload(MemberOrganization.contacts)))
    return {o.name_key: o for o in orgs}


def _typed(values: dict[str, Any]) -> dict[str, Any]:
    """Back from the JSON stored in the batch: ISO dates become dates."""
    return {k: date.fromisoformat(v) if k in DATE_FIELDS and v else v for k, v in values.items()}


def plan(records: list[dict[str, Any]]) -> Plan:
    """What importing these records would do to the municipality's current data."""
    existing = _current_organizations()
    plans = []
    for record in records:
        values = _typed(record["values"])
        org = existing.get(record["key"])
        if org is None:
            changes = values
            shown = [
                FieldChange(header_of(ORG, k), "", preview_text(ORG, k, v))
                for k, v in values.items() if k != "name" and v not in ("", None, [], False)
            ]
        else:
            changes, shown = _differences(ORG, org, values)
        current_contacts = {c.name_key: c for c in org.contacts} if org is not None else {}
        marked = next((c["key"] for c in record["contacts"] if c["primary"]), None)
        contact_plans = []
        for c in record["contacts"]:
            contact_values = _typed(c["values"])
            if marked is not None:
                contact_values["is_primary"] = c["key"] == marked
            contact = current_contacts.get(c["key"])
            if contact is None:
                contact_changes = contact_values
                contact_shown = [
                    FieldChange(header_of(CONTACT, k), "", preview_text(CONTACT, k, v))
                    for k, v in contact_values.items() if k != "name" and v not in ("", None, False)
                ]
            else:
                contact_changes, contact_shown = _differences(CONTACT, contact, contact_values)
            contact_plans.append(ContactPlan(c["line"], contact_values["name"], contact, contact_changes, contact_shown))
        in_file = {c["key"] for c in record["contacts"]}
        demote = [c for c in current_contacts.values() if marked and c.is_primary and c.name_key not in in_file]
        plans.append(OrganizationPlan(
            record["line"], values["name"], category_label(values.get("category") or (org.category if org else "")),
            org, changes, shown, contact_plans, demote,
        ))
    return Plan(plans)


def same_file_applied_before(batch: ImportBatch) -> ImportBatch | None:
    """The last batch of the identical file that was imported, if any."""
    return db.session.scalar(
        select(ImportBatch)
        .where(ImportBatch.sha256 == batch.sha256, ImportBatch.id != batch.id, ImportBatch.applied_at.is_not(None))
        .order_by(ImportBatch.applied_at.desc())
        .limit(1)
    )
