"""Recording changes. Call from services, inside the change's transaction."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable

from flask_login import current_user

from portal.extensions import db
from tenants.audit.models import AuditEntry


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {f: _plain(getattr(obj, f)) for f in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def _actor_id() -> int | None:
    try:
        return current_user.id if current_user.is_authenticated else None
    except (AttributeError, RuntimeError):  # outside a request (CLI)
        return None


def record(action: str, entity: str, obj: Any, changes: dict[str, Any], label: str | None = None) -> AuditEntry:
    entry = AuditEntry(
        municipality_id=obj.municipality_id,
        user_id=_actor_id(),
        action=action,
        entity=entity,
        entity_id=getattr(obj, "id", None),
        entity_label=label if label is not None else getattr(obj, "name", ""),
        changes=changes,
    )
    db.session.add(entry)
    db.session.flush()  # written under the scope of the change it records
    return entry
