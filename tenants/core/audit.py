"""監査記録: who created, changed or removed what, when, with before/after values.

Services call these inside the change's transaction: ``record`` one entry,
``snapshot`` a row's fields for a create or delete, ``update_audited`` to
change a row and record what actually changed. The 変更履歴 page is the
``audit`` feature's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.timeutil import utcnow
from tenants.core.actors import acting_user_id
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


def record(action: str, entity: str, obj: Any, changes: dict[str, Any], label: str | None = None) -> AuditEntry:
    entry = AuditEntry(
        municipality_id=obj.municipality_id,
        user_id=acting_user_id(),
        action=action,
        entity=entity,
        entity_id=getattr(obj, "id", None),
        entity_label=label if label is not None else getattr(obj, "name", ""),
        changes=changes,
    )
    db.session.add(entry)
    db.session.flush()  # written under the scope of the change it records
    return entry


def update_audited(
    obj: Any, values: dict[str, Any], fields: Iterable[str], entity: str, *,
    label: str | Callable[[], str] | None = None, stamp: dict[str, Any] | None = None,
) -> dict[str, list[Any]]:
    """Set ``values`` on ``obj`` and record one "update" entry of what changed in ``fields``.

    Returns the changes ({field: [before, after]}); when there are none,
    nothing is recorded or flushed. ``stamp`` is set only when something
    changed (e.g. who changed it last); ``label`` may be a function, read
    after the change (a renamed row is recorded under its new name).
    """
    fields = tuple(fields)
    before = snapshot(obj, fields)
    for name, value in values.items():
        setattr(obj, name, value)
    changes = diff(before, snapshot(obj, fields))
    if changes:
        for name, value in (stamp or {}).items():
            setattr(obj, name, value)
        db.session.flush()
        record("update", entity, obj, changes, label=label() if callable(label) else label)
    return changes
