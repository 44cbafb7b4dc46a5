"""Automatic tenant scoping for every ORM query and write.

Models that belong to one municipality inherit ``TenantScoped``. Every ORM
SELECT/UPDATE/DELETE that touches such a model is filtered to the session's
current scope; with no scope set, it raises instead of returning everything
(fail closed). New rows are stamped with the scope's municipality, and a row
can never be written into or moved to another municipality.

The scope lives in ``session.info``; Flask-SQLAlchemy gives each request a new
session, so a scope never leaks from one request into the next.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import ForeignKey, Table, event, inspect, select
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, with_loader_criteria
from sqlalchemy.sql import visitors

from tenants.models import Municipality

SCOPE_KEY = "kosodate.tenant_scope"


class TenantScopeError(RuntimeError):
    """Tenant data was touched without a scope, or outside the scope."""


class TenantScoped:
    """Mixin for rows that belong to exactly one municipality."""

    municipality_id: Mapped[int] = mapped_column(
        ForeignKey("municipalities.id", ondelete="RESTRICT"), index=True
    )


@dataclass(frozen=True)
class Scope:
    """What the current unit of work may see.

    Exactly one of: one municipality, one prefecture's municipalities, or
    everything (system work: CLI commands, migrations of data, admin tools).
    """

    municipality_id: int | None = None
    prefecture_code: str | None = None
    everything: bool = False

    def __post_init__(self) -> None:
        chosen = [self.municipality_id is not None, self.prefecture_code is not None, self.everything]
        if sum(chosen) != 1:
            raise ValueError("a Scope names exactly one municipality, one prefecture or everything")


EVERYTHING = Scope(everything=True)


def get_scope(session: Session) -> Scope | None:
    return session.info.get(SCOPE_KEY)


def set_scope(session: Session, scope: Scope | None) -> None:
    if scope is None:
        session.info.pop(SCOPE_KEY, None)
    else:
        session.info[SCOPE_KEY] = scope


@contextmanager
def scoped(session: Session, scope: Scope) -> Iterator[None]:
    """Run a block under ``scope``, restoring the previous one afterwards."""
    previous = get_scope(session)
    set_scope(session, scope)
    try:
        yield
    finally:
        set_scope(session, previous)


def _all_subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_all_subclasses(sub)]
    return out


def _tenant_table_names() -> set[str]:
    return {cls.__table__.name for cls in _all_subclasses(TenantScoped) if "__table__" in vars(cls)}


def _touches_tenant_data(state: ORMExecuteState) -> bool:
    if any(issubclass(m.class_, TenantScoped) for m in state.all_mappers):
        return True
    # all_mappers sees only the top level: look into subqueries and
    # select_from() too, so `select(func.count()).select_from(sub)` is scoped.
    names = _tenant_table_names()
    return any(
        isinstance(element, Table) and element.name in names for element in visitors.iterate(state.statement)
    )


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    # Lazy and column loads inherit the criteria of the query that loaded the parent.
    if state.is_column_load or state.is_relationship_load:
        return
    if not _touches_tenant_data(state):
        return
    scope = get_scope(state.session)
    if scope is None:
        raise TenantScopeError("tenant data queried without a tenant scope")
    if scope.everything:
        return
    if scope.municipality_id is not None:
        municipality_id = scope.municipality_id
        criteria = with_loader_criteria(
            TenantScoped,
            lambda cls: cls.municipality_id == municipality_id,
            include_aliases=True,
        )
    else:
        prefecture_code = scope.prefecture_code
        criteria = with_loader_criteria(
            TenantScoped,
            lambda cls: cls.municipality_id.in_(
                select(Municipality.id).where(Municipality.prefecture_code == prefecture_code)
            ),
            include_aliases=True,
        )
    state.statement = state.statement.options(criteria)


@event.listens_for(Session, "before_flush")
def _guard_writes(session: Session, flush_context, instances) -> None:  # noqa: ANN001
    scope = get_scope(session)
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if scope is None:
            raise TenantScopeError(f"new {type(obj).__name__} written without a tenant scope")
        if obj.municipality_id is None:
            if scope.municipality_id is None:
                raise TenantScopeError(f"new {type(obj).__name__} needs an explicit municipality_id")
            obj.municipality_id = scope.municipality_id
        elif scope.municipality_id is not None and obj.municipality_id != scope.municipality_id:
            raise TenantScopeError(f"new {type(obj).__name__} belongs to another municipality")
    for obj in session.dirty:
        if isinstance(obj, TenantScoped) and inspect(obj).attrs.municipality_id.history.has_changes():
            raise TenantScopeError(f"{type(obj).__name__} cannot move to another municipality")
    for obj in session.deleted:
        if not isinstance(obj, TenantScoped):
            continue
        if scope is None:
            raise TenantScopeError(f"{type(obj).__name__} deleted without a tenant scope")
        if scope.municipality_id is not None and obj.municipality_id != scope.municipality_id:
            raise TenantScopeError(f"{type(obj).__name__} of another municipality cannot be deleted")
