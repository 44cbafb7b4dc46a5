"""Checking a record's fields before a service changes anything.

A service collects every field's value and message (``Fields``), then either
gets the values or raises ``ValidationError`` with all the messages at once,
in Japanese, keyed by field. A text's limit is its column's: the ``String``
length, or for ``Text`` the ``info={"max_length": n}`` the column declares
(``column_limit``); forms read the same number (``tenants.core.forms.length_of``),
so a form and the database never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from portal.japanese import InputError, tidy
from tenants.core.labels import field_label


@dataclass
class ValidationError(Exception):
    """Field-by-field problems; nothing was changed."""

    errors: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return " ".join(f"{field_label(k)}: {v}" for k, v in self.errors.items())


def column_limit(model: type, name: str) -> int | None:
    """The most characters ``model``'s column ``name`` holds, or None for no limit."""
    column = model.__table__.c[name]
    return getattr(column.type, "length", None) or column.info.get("max_length")


def too_long(limit: int, label: str | None = None) -> str:
    return f"{label}は{limit}文字以内で入力してください。" if label else f"{limit}文字以内で入力してください。"


def prose(value: str | None) -> str:
    """Free text (notes, reasons, summaries) as written, trimmed at both ends."""
    return (value or "").strip()


class Fields:
    """One record's input being checked against ``model``'s columns.

    Each method stores the field's value and, when it is wrong, its first
    message; ``valid()`` returns the values or raises ``ValidationError``.
    """

    def __init__(self, model: type, data: dict[str, Any]) -> None:
        self.model = model
        self.data = data
        self.values: dict[str, Any] = {}
        self.errors: dict[str, str] = {}

    def refuse(self, name: str, message: str) -> None:
        """Report a problem with ``name`` (the first one reported stays)."""
        self.errors.setdefault(name, message)

    def take(self, values: dict[str, Any], errors: dict[str, str]) -> None:
        """Values and messages another check produced (e.g. a feature's own rules)."""
        self.values.update(values)
        for name, message in errors.items():
            self.refuse(name, message)

    def fits(self, name: str, label: str | None = None) -> bool:
        """Check the stored value of ``name`` against its column's limit."""
        value = self.values.get(name)
        limit = column_limit(self.model, name)
        if limit and isinstance(value, str) and len(value) > limit:
            self.refuse(name, too_long(limit, label))
            return False
        return True

    def text(self, name: str, *, required: str | None = None, label: str | None = None,
             multiline: bool = False) -> str:
        """A name-like text (``tidy``), or with ``multiline`` free text (``prose``); ``required``: the
        message when it is empty; ``label``: names the field in the over-long message."""
        value = (prose if multiline else tidy)(self.data.get(name))
        self.values[name] = value
        if required and not value:
            self.refuse(name, required)
        else:
            self.fits(name, label)
        return value

    def normalised(self, name: str, normalise: Callable[[Any], Any]) -> Any:
        """``normalise(data[name])``; its ``InputError`` is the field's message."""
        try:
            value = normalise(self.data.get(name))
        except InputError as e:
            self.refuse(name, str(e))
            return None
        self.values[name] = value
        self.fits(name)
        return value

    def choice(self, name: str, allowed: frozenset[str] | set[str], message: str, default: str = "") -> str:
        """One of ``allowed`` (the stored codes), else ``message``."""
        value = self.data.get(name) or default
        self.values[name] = value
        if value not in allowed:
            self.refuse(name, message)
        return value

    def flag(self, name: str) -> bool:
        """A checkbox: ticked or not."""
        value = self.values[name] = bool(self.data.get(name))
        return value

    def value(self, name: str) -> Any:
        """Taken as the form parsed it (a date, a number, or None); the caller checks the rules."""
        value = self.values[name] = self.data.get(name)
        return value

    def valid(self) -> dict[str, Any]:
        if self.errors:
            raise ValidationError(dict(self.errors))
        return self.values
