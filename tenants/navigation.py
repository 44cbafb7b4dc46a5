"""The municipality menu. Each feature adds its own entry when its views load.

Entries come in groups so that the desk's eleven items never scroll out of
sight: on wide screens every group is in view (templates/_macros.html), on
narrow ones the whole menu is one tap away.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, url_for

from portal.accounts.models import Role

# Menu groups in display order: what a desk does every day, building the network, and keeping watch.
GROUPS = {"daily": "日々の仕事", "network": "ネットワークづくり", "admin": "管理"}


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    endpoint: str
    roles: frozenset[Role]
    order: int
    group: str = "daily"


@dataclass(frozen=True)
class NavLink:
    """An item as one municipality's menu shows it."""

    key: str
    label: str
    url: str


@dataclass(frozen=True)
class NavGroup:
    key: str
    label: str
    items: list  # NavItem (groups_for) or NavLink (links_for)


_ITEMS: dict[str, NavItem] = {}


def nav_item(key: str, label: str, endpoint: str, roles: tuple[Role, ...], order: int, group: str = "daily") -> None:
    if group not in GROUPS:
        raise ValueError(f"unknown menu group {group!r}; one of {sorted(GROUPS)}")
    _ITEMS[key] = NavItem(key, label, endpoint, frozenset(roles), order, group)


def items_for(user) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return []
    return sorted((i for i in _ITEMS.values() if user.role_enum in i.roles), key=lambda i: i.order)


def groups_for(user) -> list[NavGroup]:
    """The user's items by group, empty groups left out."""
    items = items_for(user)
    groups = [NavGroup(key, label, [i for i in items if i.group == key]) for key, label in GROUPS.items()]
    return [g for g in groups if g.items]


def links_for(user, code: str) -> list[NavGroup]:
    """The user's menu in the municipality ``code``: each item's URL built once (the menu is
    drawn twice, as the wide bar and the narrow disclosure)."""
    return [NavGroup(g.key, g.label, [NavLink(i.key, i.label, url_for(i.endpoint, code=code)) for i in g.items])
            for g in groups_for(user)]


def register_navigation(app: Flask) -> None:
    from flask_login import current_user

    # A global, not a context variable: macros imported without context see it too.
    app.jinja_env.globals["municipality_nav_items"] = lambda: items_for(current_user)
    app.jinja_env.globals["municipality_nav_links"] = lambda code: links_for(current_user, code)
