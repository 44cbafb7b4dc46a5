"""The municipality menu. Each feature adds its own entry when its views load."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from portal.accounts.models import Role


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    endpoint: str
    roles: frozenset[Role]
    order: int


_ITEMS: dict[str, NavItem] = {}


def nav_item(key: str, label: str, endpoint: str, roles: tuple[Role, ...], order: int) -> None:
    _ITEMS[key] = NavItem(key, label, endpoint, frozenset(roles), order)


def items_for(user) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return []
    return sorted((i for i in _ITEMS.values() if user.role_enum in i.roles), key=lambda i: i.order)


def register_navigation(app: Flask) -> None:
    from flask_login import current_user

    # A global, not a context variable: macros imported without context see it too.
    app.jinja_env.globals["municipality_nav_items"] = lambda: items_for(current_user)
