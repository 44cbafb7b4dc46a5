"""Every route declares who may use it; undeclared routes are refused.

    @public                               # anyone, no login
    @allow(Role.PREFECTURE)                # logged in with one of these roles
    @allow(Role.DESK, tenant=True)         # ... and within /m/<code>/ of a
                                           # municipality the user may act in

The checks run in one before_request hook for every endpoint, so a view
cannot forget them. Order: not logged in -> login page; wrong role -> 403;
another municipality -> 404 (see tenants.context), so that the existence of
another municipality's objects is never revealed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

from portal.accounts.models import Role

F = TypeVar("F", bound=Callable)

POLICY_ATTR = "_access_policy"


@dataclass(frozen=True)
class AccessPolicy:
    roles: frozenset[Role]
    public: bool = False
    tenant: bool = False


def _attach(view: F, policy: AccessPolicy) -> F:
    if hasattr(view, POLICY_ATTR):
        raise RuntimeError(f"{view.__name__} declares its access policy twice")
    setattr(view, POLICY_ATTR, policy)
    return view


def public(view: F | None = None, *, tenant: bool = False):
    """Open to anyone, including families without an account.

    ``@public`` or, for a municipality's public pages, ``@public(tenant=True)``.
    """

    def decorator(v: F) -> F:
        return _attach(v, AccessPolicy(roles=frozenset(), public=True, tenant=tenant))

    return decorator(view) if view is not None else decorator


def allow(*roles: Role, tenant: bool = False) -> Callable[[F], F]:
    """Open to logged-in users with one of ``roles``.

    ``tenant=True`` marks a route under /m/<code>/: the user must also be
    entitled to that municipality, and queries are scoped to it.
    """
    if not roles:
        raise ValueError("allow() needs at least one role; use @public for open routes")

    def decorator(view: F) -> F:
        return _attach(view, AccessPolicy(roles=frozenset(Role(r) for r in roles), tenant=tenant))

    return decorator


def policy_for_endpoint(app: Flask, endpoint: str | None) -> AccessPolicy | None:
    view = app.view_functions.get(endpoint) if endpoint else None
    return getattr(view, POLICY_ATTR, None) if view else None


def enforce_access_policy():
    """before_request: refuse what the endpoint's policy does not allow."""
    if request.endpoint is None:  # 404/405 from routing: let Flask answer
        return None
    policy = policy_for_endpoint(current_app, request.endpoint)
    if policy is None:
        current_app.logger.error("route %s has no access policy; refused", request.endpoint)
        abort(403)
    if policy.public:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    if current_user.role_enum not in policy.roles:
        abort(403)
    return None


def register_access_policy(app: Flask) -> None:
    # Flask's own static route serves only public assets.
    public(app.view_functions["static"])
    app.before_request(enforce_access_policy)
