"""How stored things are named on the pages: field, entity and action labels, and ``shown_value``.

One registry for every feature: each feature's models module adds the labels
of its own fields and audited entities (``field_labels(...)``,
``entity_labels(...)``) and how to show its coded values (``shows(...)``), so
the audit trail and the forms name a field the same way everywhere. A field
name means one thing across features: a second, different label for it is
refused at import.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from portal.timeutil import wareki

FIELD_LABELS: dict[str, str] = {}
ENTITY_LABELS: dict[str, str] = {}
# What an audit entry did; features add their own steps (start, approve, ...).
ACTION_LABELS: dict[str, str] = {
    "create": "追加", "update": "変更", "delete": "削除", "confirm": "確認", "import": "取込",
}
_FORMATTERS: dict[str, Callable[[Any], Any]] = {}


def _add(registry: dict[str, str], what: str, labels: dict[str, str]) -> None:
    for key, label in labels.items():
        if registry.get(key, label) != label:
            raise ValueError(f"{what} {key!r} is already labelled {registry[key]!r}, not {label!r}")
        registry[key] = label


def field_labels(**labels: str) -> None:
    _add(FIELD_LABELS, "field", labels)


def entity_labels(**labels: str) -> None:
    _add(ENTITY_LABELS, "entity", labels)


def action_labels(**labels: str) -> None:
    _add(ACTION_LABELS, "action", labels)


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


def shows(field: str, formatter: Callable[[Any], Any]) -> None:
    """Show the stored values of ``field`` through ``formatter`` (e.g. a code as its name)."""
    if _FORMATTERS.get(field, formatter) is not formatter:
        raise ValueError(f"field {field!r} already has a formatter")
    _FORMATTERS[field] = formatter


def shown_value(field: str, value: Any) -> Any:
    """A stored (or audited, JSON) value as people read it: names for codes, dates in 和暦."""
    formatter = _FORMATTERS.get(field)
    if formatter is not None:
        return formatter(value)
    if field.endswith("_on") and value:
        try:
            return wareki(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError:
            return value
    return value
