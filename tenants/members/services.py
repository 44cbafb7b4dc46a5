"""Rules for member organisations and contacts.

Every change goes through here: input is normalised and validated (Japanese
messages), the search text is refreshed, and the change is audited. Functions
flush but never commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from portal.extensions import db
from portal.japanese import (
    InputError,
    fold,
    normalize_email,
    normalize_kana,
    normalize_phone,
    normalize_postal_code,
    normalize_url,
    tidy,
)
from tenants.core import audit
from tenants.core.validation import Fields, ValidationError
from tenants.members.categories import BY_CODE, CONSULTATION_TAGS
from tenants.members.models import Contact, MemberOrganization, MemberStatus

ORG_FIELDS = (
    "name", "name_kana", "category", "postal_code", "address", "phone", "email", "website",
    "status", "joined_on", "consultation_tags", "public_consent",
)
CONTACT_FIELDS = (
    "name", "name_kana", "title", "phone", "email", "reachable_hours", "is_primary", "last_confirmed_on",
)


def _collect(
    data: dict[str, Any], normalisers: dict[str, Any], model: type
) -> tuple[dict[str, Any], dict[str, str]]:
    # Each value's limit is its column's: the form and the database can never disagree.
    fields = Fields(model, data)
    for name, normalise in normalisers.items():
        if name in data:  # an edit may send only some fields
            fields.normalised(name, normalise)
    return fields.values, fields.errors


def _category(value: str) -> str:
    if value not in BY_CODE:
        raise InputError(f"区分「{value}」は登録されていません。一覧から選んでください。")
    return value


def _status(value: str) -> str:
    try:
        return MemberStatus(value).value
    except ValueError:
        raise InputError(f"状態「{value}」は選べません。") from None


def _tags(value: list[str] | None) -> list[str]:
    tags = list(dict.fromkeys(value or []))
    unknown = [t for t in tags if t not in CONSULTATION_TAGS]
    if unknown:
        raise InputError(f"対応できる相談「{'、'.join(unknown)}」は一覧にありません。")
    # Keep the list's own order so exports and audits are stable.
    return [t for t in CONSULTATION_TAGS if t in tags]


def _date(value: date | None) -> date | None:
    if value is not None and not isinstance(value, date):
        raise InputError("日付の形式が正しくありません。")
    return value


def _required_name(value: str | None) -> str:
    value = tidy(value)
    if not value:
        raise InputError("入力してください。")
    return value


ORG_NORMALISERS = {
    "name": _required_name,
    "name_kana": normalize_kana,
    "category": _category,
    "postal_code": normalize_postal_code,
    "address": tidy,
    "phone": normalize_phone,
    "email": normalize_email,
    "website": normalize_url,
    "status": _status,
    "joined_on": _date,
    "consultation_tags": _tags,
    "public_consent": bool,
}
CONTACT_NORMALISERS = {
    "name": _required_name,
    "name_kana": normalize_kana,
    "title": tidy,
    "phone": normalize_phone,
    "email": normalize_email,
    "reachable_hours": tidy,
    "is_primary": bool,
    "last_confirmed_on": _date,
}


def normalise_organization(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The stored form of the given organisation fields and per-field messages; touches nothing.

    Only the fields of one record are checked (no duplicate-name lookup), so
    an import can check every row of a file before anything is written.
    """
    return _collect(data, ORG_NORMALISERS, MemberOrganization)


def normalise_contact(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Like ``normalise_organization``, for a contact's fields."""
    return _collect(data, CONTACT_NORMALISERS, Contact)


def validate_organization(data: dict[str, Any], existing: MemberOrganization | None = None) -> dict[str, Any]:
    values, errors = _collect(data, ORG_NORMALISERS, MemberOrganization)
    if existing is None and "category" not in values and "category" not in errors:
        errors["category"] = "区分を選んでください。"
    if "name" in values:
        duplicate = find_organization_by_name(values["name"])
        if duplicate is not None and duplicate is not existing:
            errors["name"] = f"「{duplicate.name}」は既に構成員として登録されています。"
    if errors:
        raise ValidationError(errors)
    return values


def validate_contact(data: dict[str, Any], organization: MemberOrganization, existing: Contact | None = None) -> dict[str, Any]:
    values, errors = _collect(data, CONTACT_NORMALISERS, Contact)
    if "name" in values:
        key = fold(values["name"])
        for other in organization.contacts:
            if other is not existing and other.name_key == key:
                errors["name"] = f"「{other.name}」さんは既にこの団体の担当者です。"
    if errors:
        raise ValidationError(errors)
    return values


def find_organization_by_name(name: str) -> MemberOrganization | None:
    return db.session.scalar(select(MemberOrganization).where(MemberOrganization.name_key == fold(name)))


def refresh_search_text(org: MemberOrganization) -> None:
    category = BY_CODE.get(org.category)
    parts = [org.name, org.name_kana, *(org.consultation_tags or [])]
    if category:
        parts += [category.name, category.kana, *category.aliases]
    for c in org.contacts:
        parts += [c.name, c.name_kana]
    # "|" keeps a query from matching across two parts.
    search_text = "|".join(fold(p) for p in parts if p)
    if org.id is None or org in db.session.new:
        org.search_text = search_text
        return
    if search_text == org.search_text:
        return
    # A derived column, written outside the edit version (portal/concurrency): a contact
    # added by one person must not turn another's concurrent save of the organisation,
    # or a second new contact, into a conflict.
    db.session.execute(
        update(MemberOrganization).where(MemberOrganization.id == org.id).values(search_text=search_text)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(org, "search_text", search_text)


def _keyed(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with the folded name key the unique constraints use."""
    return {**values, "name_key": fold(values["name"])} if "name" in values else values


def _apply(obj: Any, values: dict[str, Any]) -> None:
    for k, v in _keyed(values).items():
        setattr(obj, k, v)


def create_organization(data: dict[str, Any]) -> MemberOrganization:
    values = validate_organization(data)
    org = MemberOrganization(status=MemberStatus.ACTIVE.value, consultation_tags=[], public_consent=False)
    _apply(org, values)
    refresh_search_text(org)
    db.session.add(org)
    db.session.flush()
    audit.record("create", "organization", org, audit.snapshot(org, ORG_FIELDS))
    return org


def update_organization(org: MemberOrganization, data: dict[str, Any]) -> dict[str, list[Any]]:
    values = validate_organization(data, existing=org)
    changes = audit.update_audited(org, _keyed(values), ORG_FIELDS, "organization")
    refresh_search_text(org)
    return changes


# Features whose records must outlive an organisation (e.g. handovers, kept for
# the statistics) register a check: it returns a Japanese reason, or None.
_DELETION_BLOCKERS: list[Callable[[MemberOrganization], str | None]] = []


def blocks_deletion(check: Callable[[MemberOrganization], str | None]):
    _DELETION_BLOCKERS.append(check)
    return check


def deletion_blockers(org: MemberOrganization) -> list[str]:
    return [reason for check in _DELETION_BLOCKERS if (reason := check(org))]


class OrganizationInUse(Exception):
    """The organisation cannot be deleted; nothing was changed."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(" ".join(reasons))
        self.reasons = reasons


def delete_organization(org: MemberOrganization) -> None:
    if reasons := deletion_blockers(org):
        raise OrganizationInUse(reasons)
    snap = audit.snapshot(org, ORG_FIELDS)
    snap["contacts"] = [c.name for c in org.contacts]
    audit.record("delete", "organization", org, snap)
    db.session.delete(org)
    db.session.flush()


def _only_one_primary(contact: Contact) -> list[Contact]:
    """Exactly one primary contact: the one just marked, or else someone.

    Returns the other contacts whose flag this changed, so they are audited too.
    """
    others = [c for c in contact.organization.contacts if c is not contact]
    changed: list[Contact] = []
    if contact.is_primary:
        changed = [c for c in others if c.is_primary]
        for other in changed:
            other.is_primary = False
    elif not any(c.is_primary for c in others):
        # Unticking the only primary hands it to the next contact, or keeps it.
        heir = others[0] if others else contact
        heir.is_primary = True
        changed = [heir] if heir is not contact else []
    return changed


def _audit_primary_changes(contacts: list[Contact]) -> None:
    for c in contacts:
        audit.record("update", "contact", c, {"is_primary": [not c.is_primary, c.is_primary]},
                     label=f"{c.name}（{c.organization.name}）")


def create_contact(org: MemberOrganization, data: dict[str, Any]) -> Contact:
    values = validate_contact(data, org)
    contact = Contact(municipality_id=org.municipality_id, is_primary=False)
    _apply(contact, values)
    org.contacts.append(contact)
    demoted = _only_one_primary(contact)  # an organisation always has someone to call first
    refresh_search_text(org)
    db.session.flush()
    audit.record("create", "contact", contact, audit.snapshot(contact, CONTACT_FIELDS), label=f"{contact.name}（{org.name}）")
    _audit_primary_changes(demoted)
    return contact


def update_contact(contact: Contact, data: dict[str, Any]) -> dict[str, list[Any]]:
    org = contact.organization
    values = validate_contact(data, org, existing=contact)
    if len(org.contacts) == 1:
        values["is_primary"] = True  # the only contact is the one to call first, ticked or not
    changes = audit.update_audited(contact, _keyed(values), CONTACT_FIELDS, "contact",
                                   label=lambda: f"{contact.name}（{org.name}）")
    others_changed = _only_one_primary(contact)
    refresh_search_text(org)
    _audit_primary_changes(others_changed)
    return changes


def confirm_contact(contact: Contact, today: date) -> None:
    """The contact's details were checked and are still right."""
    if contact.last_confirmed_on == today:
        return
    before = contact.last_confirmed_on
    contact.last_confirmed_on = today
    db.session.flush()
    audit.record(
        "confirm", "contact", contact,
        {"last_confirmed_on": [before.isoformat() if before else None, today.isoformat()]},
        label=f"{contact.name}（{contact.organization.name}）",
    )


def delete_contact(contact: Contact) -> None:
    org = contact.organization
    audit.record("delete", "contact", contact, audit.snapshot(contact, CONTACT_FIELDS), label=f"{contact.name}（{org.name}）")
    org.contacts.remove(contact)
    heir = org.contacts[0] if contact.is_primary and org.contacts else None
    if heir is not None:
        heir.is_primary = True
    refresh_search_text(org)
    db.session.flush()
    _audit_primary_changes([heir] if heir is not None else [])
