"""The members and contacts part of the dashboard, kept per municipality (dashboard/models.py).

The dashboard's table counts, for every municipality, its active member
organisations, their contacts, those confirmed within 12 months, and the
core+related categories covered (the rule of
``tenants.network.services.coverage``). Counting that from the members and
contacts on every view read all of them (18,900 organisations and 37,800
contacts at prefecture scale, ≈50 ms, bench/bench_dashboard.py). Here each
municipality's figures are kept in two small tables instead:

* ``MemberTotals`` — active organisations and their contacts;
* ``ConfirmationStep`` — the time-dependent part as a step function of "12
  months ago", so the figures stay right as days pass without a write.

**How they are kept.** A flush listener notes every municipality whose
members or contacts changed in a way the figures see (an organisation added,
deleted, its status or category changed; a contact added, deleted, moved or
its confirmation date changed). Just before the transaction commits — in the
same transaction — each noted municipality is recomputed from its own rows
(a few hundred), under its own scope. No feature calls
this, so none needs to know the dashboard exists (tenants never import the
dashboard), and no write path can forget it: services, approvals, the roster
import and the tests' factories all go through the ORM. A bulk
UPDATE/DELETE/INSERT of those tables through the session is noted too (then
the whole scope is recomputed). ``catch_up`` applies what is pending at once,
so a transaction reads its own writes; the dashboard calls it before reading.

**Concurrency.** The recomputation first upserts the municipality's totals
row, which locks it: a second transaction refreshing the same municipality
waits there until the first commits, and then (PostgreSQL, READ COMMITTED:
every statement sees what was committed before it started) reads both
changes. SQLite has a single writer anyway. The lock is taken at commit time
only, so transactions wait for each other for the length of a commit.

``rebuild()`` recomputes every municipality of the session's scope (the
migration that created the tables, synthetic data, repair: ``flask --app
wsgi dashboard rebuild-summaries``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from itertools import chain
from typing import Any

from sqlalchemy import delete, event, func, insert, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session

from dashboard.models import FIRST_DAY, ConfirmationStep, MemberTotals
from tenants.members.categories import CORE, COVERAGE_CATEGORIES
from tenants.members.models import Contact, MemberOrganization, MemberStatus
from tenants.scoping import Scope, get_scope, scoped

COVERAGE_CODES = frozenset(c.code for c in COVERAGE_CATEGORIES)
CORE_CODES = frozenset(c.code for c in COVERAGE_CATEGORIES if c.group == CORE)

# What the figures depend on: a change to any other column (a phone number, the
# search text) leaves them as they are.
WATCHED = {MemberOrganization: ("status", "category"), Contact: ("last_confirmed_on", "organization_id")}
WATCHED_TABLES = {model.__tablename__: columns for model, columns in WATCHED.items()}

_PENDING = "kosodate.dashboard_summary_pending"  # session.info: {municipality id or ALL: scope of the change}
ALL = "all"  # a bulk statement: every municipality of that scope


# --- noting changes ----------------------------------------------------------------


def _note(session: Session, key: int | str, scope: Scope | None) -> None:
    session.info.setdefault(_PENDING, {}).setdefault(key, scope)


def _changed(obj: Any) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in WATCHED[type(obj)])


@event.listens_for(Session, "after_flush")
def _note_flushed_changes(session: Session, flush_context) -> None:
    scope = get_scope(session)
    for obj in chain(session.new, session.deleted):
        if type(obj) in WATCHED:
            _note(session, obj.municipality_id, scope)
    for obj in session.dirty:
        if type(obj) in WATCHED and _changed(obj):
            _note(session, obj.municipality_id, scope)


def _updates_watched_columns(statement: Any, columns: tuple[str, ...]) -> bool:
    values = getattr(statement, "_values", None)
    if not values:
        return True  # an UPDATE by primary key with many rows of values: assume it does
    return any(getattr(key, "key", key) in columns for key in values)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_writes(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    columns = WATCHED_TABLES.get(getattr(table, "name", None))
    if columns is None or (state.is_update and not _updates_watched_columns(state.statement, columns)):
        return
    scope = get_scope(state.session)
    if scope is not None and scope.municipality_id is not None:
        _note(state.session, scope.municipality_id, scope)
    else:
        _note(state.session, ALL, scope)


@event.listens_for(Session, "before_commit")
def _refresh_before_commit(session: Session) -> None:
    if not session.in_nested_transaction():
        catch_up(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_after_rollback(session: Session, transaction) -> None:
    # A rolled-back transaction took its changes with it (a commit consumed the notes already).
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def catch_up(session: Session) -> None:
    """Bring the figures of every municipality changed in this transaction up to date, now."""
    session.flush()
    pending: dict[int | str, Scope | None] = session.info.pop(_PENDING, {})
    if ALL in pending:
        with scoped(session, pending.pop(ALL)):
            rebuild(session)
    # Each municipality from its own rows, under its own scope: the change was its.
    for mid in sorted(pending):
        with scoped(session, Scope(municipality_id=mid)):
            refresh(session, [mid])


# --- recomputing -----------------------------------------------------------------


def _upsert(session: Session, table, rows: list[dict[str, Any]], update: tuple[str, ...]) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.municipality_id],
                                      set_={name: stmt.excluded[name] for name in update})
    session.execute(stmt, rows)


def _counts(session: Session, ids: list[int] | None):
    """({municipality: active organisations}, {municipality: {(category, last confirmed): contacts}})."""
    active = MemberOrganization.status == MemberStatus.ACTIVE.value
    only = () if ids is None else (MemberOrganization.municipality_id.in_(ids),)
    organizations = defaultdict(int)
    for mid, n in session.execute(
        select(MemberOrganization.municipality_id, func.count(MemberOrganization.id))
        .where(active, *only).group_by(MemberOrganization.municipality_id)
    ):
        organizations[mid] = n
    contacts: dict[int, dict] = defaultdict(dict)
    for mid, category, day, n in session.execute(
        select(MemberOrganization.municipality_id, MemberOrganization.category, Contact.last_confirmed_on,
               func.count(Contact.id))
        .select_from(Contact).join(MemberOrganization, MemberOrganization.id == Contact.organization_id)
        .where(active, *only)
        .group_by(MemberOrganization.municipality_id, MemberOrganization.category, Contact.last_confirmed_on)
    ):
        contacts[mid][(category, day)] = n
    return organizations, contacts


def steps(contacts: dict[tuple[str, Any], int]) -> list[tuple[Any, int, int, int]]:
    """(from_day, contacts confirmed after it, categories covered, core categories covered), in day order.

    ``contacts``: {(category, last confirmed day or None): number of contacts of active organisations}.
    """
    per_day: dict[Any, int] = defaultdict(int)
    latest: dict[str, Any] = {}
    for (category, day), n in contacts.items():
        if day is None:
            continue
        per_day[day] += n
        if category not in latest or day > latest[category]:
            latest[category] = day
    covered = sorted(d for c, d in latest.items() if c in COVERAGE_CODES)
    core = sorted(d for c, d in latest.items() if c in CORE_CODES)
    remaining = sum(per_day.values())
    out = []
    for day in sorted({FIRST_DAY, *per_day}):
        remaining -= per_day.get(day, 0)  # confirmed on this day: no longer "after" it
        out.append((day, remaining, len(covered) - bisect_right(covered, day), len(core) - bisect_right(core, day)))
    return out


def _write(session: Session, ids: Iterable[int], organizations, contacts) -> None:
    totals, rows = [], []
    for mid in ids:
        if not organizations.get(mid):
            continue  # no active organisation: no rows (the dashboard reads none as zero)
        totals.append({"municipality_id": mid, "active_members": organizations[mid],
                       "contacts": sum(contacts[mid].values()) if mid in contacts else 0})
        rows += [{"municipality_id": mid, "from_day": day, "contacts_confirmed": n, "covered": cov, "core_covered": core}
                 for day, n, cov, core in steps(contacts.get(mid, {}))]
    if totals:
        _upsert(session, MemberTotals.__table__, totals, ("active_members", "contacts"))
    if rows:
        session.execute(insert(ConfirmationStep), rows)


def refresh(session: Session, municipality_ids: Iterable[int]) -> None:
    """Recompute these municipalities' rows from their members and contacts (within the session's scope)."""
    ids = sorted(set(municipality_ids))
    if not ids:
        return
    # First the lock: a concurrent refresh of the same municipality waits here until we commit.
    _upsert(session, MemberTotals.__table__, [{"municipality_id": mid, "active_members": 0, "contacts": 0} for mid in ids],
            ("active_members",))
    organizations, contacts = _counts(session, ids)
    gone = [mid for mid in ids if not organizations.get(mid)]
    if gone:
        session.execute(delete(MemberTotals).where(MemberTotals.municipality_id.in_(gone))
                        .execution_options(synchronize_session=False))
    session.execute(delete(ConfirmationStep).where(ConfirmationStep.municipality_id.in_(ids))
                    .execution_options(synchronize_session=False))
    _write(session, ids, organizations, contacts)


def rebuild(session: Session) -> int:
    """Recompute every municipality of the session's scope. Returns the municipalities with figures."""
    session.flush()
    scope = get_scope(session)
    if scope is not None and scope.everything:
        session.info.pop(_PENDING, None)  # nothing noted so far needs doing again
    unsynchronised = {"synchronize_session": False}  # these rows are never loaded as objects
    session.execute(delete(ConfirmationStep).execution_options(**unsynchronised))
    session.execute(delete(MemberTotals).execution_options(**unsynchronised))
    organizations, contacts = _counts(session, None)
    _write(session, sorted(organizations), organizations, contacts)
    return sum(1 for n in organizations.values() if n)
