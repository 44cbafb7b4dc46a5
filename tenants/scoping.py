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

import re
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Delete, ForeignKey, Select, TableClause, TextClause, Update, event, inspect, select
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, with_loader_criteria
from sqlalchemy.sql.selectable import CTE, Alias, Join, Subquery
from sqlalchemy.sql.util import extract_first_column_annotation

from tenants.models import Municipality

SCOPE_KEY = "kosodate.tenant_scope"
# Execution option for the rare statement that filters by municipality itself
# (e.g. text()); the listener then trusts it instead of refusing it.
SCOPE_CHECKED_BY_HAND = "kosodate_tenant_scope_checked_by_hand"


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


def _entity_table(element) -> str | None:
    """The table of the mapped entity an ORM-annotated element stands for, if any."""
    entity = element._annotations.get("parententity")
    return entity.mapper.local_table.name if entity is not None else None


def _add_from(from_, names: set[str], tables: set[str], unscopable: set[str]) -> None:
    """Collect the tenant tables one FROM element reads (subqueries are walked on their own)."""
    if isinstance(from_, Join):
        _add_from(from_.left, names, tables, unscopable)
        _add_from(from_.right, names, tables, unscopable)
    elif isinstance(from_, TableClause) and from_.name in names:
        tables.add(from_.name)
    elif isinstance(from_, Alias) and isinstance(from_.element, TableClause) and from_.element.name in names:
        # aliased(Model) is filtered (include_aliases); a Core table.alias() never is.
        (tables if _entity_table(from_) else unscopable).add(from_.element.name)


def _join_target_table(target) -> str | None:
    prop = getattr(target, "property", None)
    if prop is not None and hasattr(prop, "mapper"):  # join(Model.relationship)
        return prop.mapper.local_table.name
    return _entity_table(target) if hasattr(target, "_annotations") else None


def _check_select(sel: Select, names: set[str], outer: frozenset[str]) -> tuple[set[str], set[str]]:
    """(tenant tables this SELECT reads, those with_loader_criteria will not filter).

    with_loader_criteria filters the entities of the columns clause (a column
    or function counts for the first mapped entity inside it), select_from()
    and join() of a mapped entity. A table that is only named in WHERE, or
    reached through a Core table, is not filtered, unless it is correlated to
    an enclosing SELECT that reads it.
    """
    tables: set[str] = set()
    unscopable: set[str] = set()
    for element in (*sel._raw_columns, *sel._where_criteria, *sel._having_criteria, *sel._from_obj):
        for from_ in element._from_objects:
            _add_from(from_, names, tables, unscopable)
    joined = {_join_target_table(target) for target, *_ in sel._setup_joins}
    tables |= joined & names
    for target, onclause, *_ in sel._setup_joins:
        for element in (target, onclause):
            for from_ in getattr(element, "_from_objects", ()):
                _add_from(from_, names, tables, unscopable)
    covered = set()
    for column in sel._raw_columns:
        entity_table = _entity_table(column)
        if entity_table is None:
            first = extract_first_column_annotation(column, "parententity")
            entity_table = first.mapper.local_table.name if first is not None else None
        covered.add(entity_table)
    covered |= {_entity_table(from_) for from_ in sel._from_obj}
    covered |= joined
    correlated = outer if sel._auto_correlate else frozenset()
    return tables, unscopable | (tables - covered - correlated)


# What a statement reads, once per statement object: statements are immutable, so a
# statement built once and executed on every request (the dashboard's aggregate, ≈3 ms to
# walk) is walked once. Weak keys: a statement built for one request is forgotten with it.
_WALKED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tenant_tables(statement, names: set[str]) -> tuple[set[str], set[str]]:
    """(tenant tables a statement reads or writes, those the scope cannot be applied to)."""
    key = frozenset(names)
    walked = _WALKED.get(statement)
    if walked is not None and walked[0] == key:
        return set(walked[1]), set(walked[2])
    touched, unscoped = _walk(statement, names)
    _WALKED[statement] = (key, frozenset(touched), frozenset(unscoped))
    return touched, unscoped


def _walk(statement, names: set[str]) -> tuple[set[str], set[str]]:
    touched: set[str] = set()
    unscoped: set[str] = set()
    stack = [(statement, frozenset())]
    while stack:
        element, outer = stack.pop()
        inner = outer
        if isinstance(element, TextClause):
            named = {n for n in names if re.search(rf"\b{n}\b", element.text, re.IGNORECASE)}
            touched |= named
            unscoped |= named
        elif isinstance(element, Select):
            tables, bad = _check_select(element, names, outer)
            touched |= tables | bad
            unscoped |= bad
            inner = outer | tables
        elif isinstance(element, (Update, Delete)) and element.table.name in names:
            touched.add(element.table.name)
            if _entity_table(element.table) is None:  # Core update(table): no loader criteria
                unscoped.add(element.table.name)
            inner = outer | {element.table.name}
        elif isinstance(element, (Subquery, CTE)):
            inner = frozenset()  # a FROM subquery does not correlate to the enclosing query
        stack.extend((child, inner) for child in element.get_children())
    return touched, unscoped


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    # Lazy and column loads inherit the criteria of the query that loaded the parent.
    if state.is_column_load or state.is_relationship_load:
        return
    from_select = getattr(state.statement, "select", None) if state.is_insert else None
    if state.is_insert and from_select is None:  # new rows are checked by the before_flush guard
        return
    touched, unscoped = _tenant_tables(from_select if state.is_insert else state.statement, _tenant_table_names())
    if state.is_insert:
        unscoped = touched  # INSERT … SELECT gets no loader criteria
    if not touched:
        return
    scope = get_scope(state.session)
    if scope is None:
        raise TenantScopeError("tenant data queried without a tenant scope")
    if scope.everything:
        return
    if unscoped and not state.execution_options.get(SCOPE_CHECKED_BY_HAND):
        # Fail closed: a shape the loader criteria cannot reach would return every municipality's rows.
        raise TenantScopeError(
            f"cannot apply the tenant scope to {', '.join(sorted(unscoped))}: select the mapped entity "
            "(or a column of it) instead of a bare table, a WHERE-only reference or text()"
        )
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
def _guard_writes(session: Session, flush_context, instances) -> None:
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
