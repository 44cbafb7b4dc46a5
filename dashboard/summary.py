"""The dashboard's figures kept per municipality (dashboard/models.py), so no view reads every row.

The dashboard's table counts, for every municipality, its active member
organisations, their contacts, those confirmed within 12 months, the
core+related categories covered (the rule of
``tenants.network.services.coverage``) and the handovers of the last 12
months. Counting the first four from the members and contacts read all of
them on every view (18,900 organisations and 37,800 contacts at prefecture
scale, ≈45 ms, bench/bench_dashboard.py); summing the handovers from
``handover_days`` read a row per municipality and day of the year. Instead:

* ``MemberTotals`` — active organisations and their contacts;
* ``ConfirmationStep`` — "confirmed within 12 months" as a step function of
  the day, so the figures stay right as days pass without a write;
* ``HandoverMonth`` — ``handover_days`` summed per month (the dashboard adds
  the days of the one partial month itself).

**How they are kept.** Listeners on the session note every municipality
whose figures a write changes: a flush that adds, deletes, or changes the
status or category of an organisation, or adds, deletes, moves or
(re)confirms a contact; a statement through the session that writes those
tables or ``handover_days`` (``tenants/handovers/daily.py`` upserts its
counts that way). Just before the transaction commits — in the same
transaction — each noted municipality is recomputed from its own source
rows (a few hundred), under its own scope; a bulk statement outside one
municipality's scope recomputes its whole scope. No feature calls this, so
none needs to know the dashboard exists (tenants never import the
dashboard), and no write path can forget it: services, approvals, the
roster import, the handover transitions and the tests' factories all go
through the session. ``catch_up`` applies what is pending at once, so a
transaction reads its own writes; the dashboard calls it before reading.

**Concurrency.** A municipality's recomputation first takes a lock named
after it (PostgreSQL: a transaction-level advisory lock): a second
transaction refreshing the same municipality waits there until the first
commits, and then — READ COMMITTED: each statement sees what was committed
before it started — reads both changes. SQLite has a single writer anyway.
The lock is taken at commit time, so writers wait for each other only for
the length of a commit. A rebuild takes the lock of all municipalities:
writes wait for it at their commit (in a web request, at most
DATABASE_LOCK_TIMEOUT_MS), so run it when the prefecture is quiet.

``rebuild()`` recomputes every municipality of the session's scope (the
migration that created the tables, synthetic data, repair: ``flask --app
wsgi dashboard rebuild-summaries``).
"""

from __future__ import annotations

import zlib
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Date, delete, event, func, insert, inspect, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import ORMExecuteState, Session, object_session
from sqlalchemy.sql.functions import FunctionElement

from dashboard.models import FIRST_DAY, ConfirmationStep, HandoverMonth, MemberTotals
from tenants.handovers.models import HandoverDay
from tenants.members.categories import CORE, COVERAGE_CATEGORIES
from tenants.members.models import Contact, MemberOrganization, MemberStatus
from tenants.scoping import EVERYTHING, Scope, get_scope, scoped

COVERAGE_CODES = frozenset(c.code for c in COVERAGE_CATEGORIES)
CORE_CODES = frozenset(c.code for c in COVERAGE_CATEGORIES if c.group == CORE)

MEMBERS, HANDOVERS = "members", "handovers"  # the two kinds of figures
# What the figures depend on: a change to any other column (a phone number, the
# search text) leaves them as they are. None: every column.
WATCHED: dict[type, tuple[str, ...] | None] = {
    MemberOrganization: ("status", "category"),
    Contact: ("last_confirmed_on", "organization_id"),
    HandoverDay: None,
}
KIND = {MemberOrganization: MEMBERS, Contact: MEMBERS, HandoverDay: HANDOVERS}
WATCHED_TABLES = {model.__tablename__: (KIND[model], columns) for model, columns in WATCHED.items()}

_PENDING = "kosodate.dashboard_summary_pending"  # session.info: {(kind, municipality id or ALL): scope}
ALL = 0  # (no municipality has id 0) a bulk statement: every municipality of the scope noted with it


class month_start(FunctionElement):
    """The first day of a date column's month, in SQL."""

    type = Date()
    inherit_cache = True


@compiles(month_start, "postgresql")
def _month_start_postgresql(element, compiler, **kw):
    return f"CAST(date_trunc('month', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(month_start, "sqlite")
def _month_start_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, 'start of month')"


# --- noting changes ----------------------------------------------------------------


def _note(session: Session, kind: str, key: int, scope: Scope | None) -> None:
    session.info.setdefault(_PENDING, {}).setdefault((kind, key), scope)


def _changed(obj: Any) -> bool:
    columns = WATCHED[type(obj)]
    if columns is None:
        return True
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in columns)


def _note_row(mapper, connection, target: Any) -> None:
    """A watched row was inserted, updated or deleted by a flush (deleted as an orphan, too)."""
    session = object_session(target)
    if session is not None:
        _note(session, KIND[type(target)], target.municipality_id, get_scope(session))


def _note_updated_row(mapper, connection, target: Any) -> None:
    if _changed(target):
        _note_row(mapper, connection, target)


# Mapper events, not the session's new/dirty/deleted: those do not list the rows a flush
# deletes as orphans (a contact removed from its organisation's list).
for _model in WATCHED:
    event.listen(_model, "after_insert", _note_row)
    event.listen(_model, "after_update", _note_updated_row)
    event.listen(_model, "after_delete", _note_row)


def _updates_watched_columns(statement: Any, columns: tuple[str, ...] | None) -> bool:
    values = getattr(statement, "_values", None)
    if columns is None or not values:
        return True  # every column counts, or an UPDATE by primary key with many rows: assume it does
    return any(getattr(key, "key", key) in columns for key in values)


@event.listens_for(Session, "do_orm_execute")
def _note_statements(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    watched = WATCHED_TABLES.get(getattr(table, "name", None))
    if watched is None:
        return
    kind, columns = watched
    if state.is_update and not _updates_watched_columns(state.statement, columns):
        return
    scope = get_scope(state.session)
    if scope is not None and scope.municipality_id is not None:
        _note(state.session, kind, scope.municipality_id, scope)
    else:
        _note(state.session, kind, ALL, scope)


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
    pending: dict[tuple[str, int], Scope | None] = session.info.pop(_PENDING, {})
    if not pending:
        return
    done: set[str] = set()  # kinds rebuilt for everything
    for (kind, key), scope in pending.items():
        if key == ALL:
            with scoped(session, scope):
                _lock(session, None)
                REBUILD[kind](session)
            if scope == EVERYTHING:
                done.add(kind)
    kinds: dict[int, list[str]] = defaultdict(list)
    for kind, key in sorted(pending):
        if key != ALL and kind not in done:
            kinds[key].append(kind)
    # Each municipality from its own rows, under its own scope: the change was its.
    for mid in sorted(kinds):
        with scoped(session, Scope(municipality_id=mid)):
            _lock(session, mid)
            for kind in kinds[mid]:
                REFRESH[kind](session, mid)


_LOCKS = "dashboard.summary"  # advisory lock names: one per municipality, and one for all of them


def _key(name: str) -> int:
    return zlib.crc32(name.encode())  # as portal.database.serialise


def _lock(session: Session, municipality_id: int | None) -> None:
    """Until this transaction ends, no other refreshes this municipality's figures (None: anyone's).

    PostgreSQL: a refresh holds its municipality's advisory lock and the shared one of
    all; a rebuild holds that one exclusively, so it waits for the refreshes under way
    and they wait for it. SQLite: the transaction wrote, so it holds the database's only
    write lock already.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    if municipality_id is None:
        session.execute(text("SELECT pg_advisory_xact_lock(:all)"), {"all": _key(_LOCKS)})
    else:
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:all), pg_advisory_xact_lock(:one)"),
                        {"all": _key(_LOCKS), "one": _key(f"{_LOCKS}:{municipality_id}")})


_UNSYNCHRONISED = {"synchronize_session": False}  # these rows are never loaded as objects


def _delete(session: Session, model: type, municipality_id: int | None) -> None:
    stmt = delete(model)
    if municipality_id is not None:
        stmt = stmt.where(model.municipality_id == municipality_id)
    session.execute(stmt.execution_options(**_UNSYNCHRONISED))


# --- members and contacts --------------------------------------------------------


def _member_counts(session: Session, municipality_id: int | None):
    """({municipality: active organisations}, {municipality: {(category, last confirmed): contacts}})."""
    active = MemberOrganization.status == MemberStatus.ACTIVE.value
    only = () if municipality_id is None else (MemberOrganization.municipality_id == municipality_id,)
    organizations = dict(session.execute(
        select(MemberOrganization.municipality_id, func.count(MemberOrganization.id))
        .where(active, *only).group_by(MemberOrganization.municipality_id)
    ).all())
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


def _write_members(session: Session, organizations: dict, contacts: dict) -> None:
    totals, rows = [], []
    for mid in sorted(organizations):
        # No active organisation: no rows (the dashboard reads none as zero).
        totals.append({"municipality_id": mid, "active_members": organizations[mid],
                       "contacts": sum(contacts[mid].values()) if mid in contacts else 0})
        rows += [{"municipality_id": mid, "from_day": day, "contacts_confirmed": n, "covered": cov, "core_covered": core}
                 for day, n, cov, core in steps(contacts.get(mid, {}))]
    if totals:
        session.execute(insert(MemberTotals), totals)
        session.execute(insert(ConfirmationStep), rows)


def refresh_members(session: Session, municipality_id: int) -> None:
    """Recompute one municipality's member figures (under its scope, holding its lock)."""
    organizations, contacts = _member_counts(session, municipality_id)
    _delete(session, MemberTotals, municipality_id)
    _delete(session, ConfirmationStep, municipality_id)
    _write_members(session, organizations, contacts)


def rebuild_members(session: Session) -> None:
    _delete(session, ConfirmationStep, None)
    _delete(session, MemberTotals, None)
    _write_members(session, *_member_counts(session, None))


# --- handovers --------------------------------------------------------------------


def _handover_months(session: Session, municipality_id: int | None) -> list[dict[str, Any]]:
    month = month_start(HandoverDay.day)
    stmt = (
        select(HandoverDay.municipality_id, month.label("month"), func.sum(HandoverDay.sent).label("sent"),
               func.sum(HandoverDay.answered).label("answered"), func.sum(HandoverDay.on_time).label("on_time"))
        .group_by(HandoverDay.municipality_id, month)
    )
    if municipality_id is not None:
        stmt = stmt.where(HandoverDay.municipality_id == municipality_id)
    return [{"municipality_id": r.municipality_id, "month": r.month, "sent": int(r.sent),
             "answered": int(r.answered), "on_time": int(r.on_time)} for r in session.execute(stmt)]


def refresh_handovers(session: Session, municipality_id: int) -> None:
    """Recompute one municipality's handovers per month (under its scope, holding its lock)."""
    rows = _handover_months(session, municipality_id)
    _delete(session, HandoverMonth, municipality_id)
    if rows:
        session.execute(insert(HandoverMonth), rows)


def rebuild_handovers(session: Session) -> None:
    rows = _handover_months(session, None)
    _delete(session, HandoverMonth, None)
    if rows:
        session.execute(insert(HandoverMonth), rows)


REFRESH = {MEMBERS: refresh_members, HANDOVERS: refresh_handovers}
REBUILD = {MEMBERS: rebuild_members, HANDOVERS: rebuild_handovers}


def rebuild(session: Session, kinds: Iterable[str] = (MEMBERS, HANDOVERS)) -> int:
    """Recompute every municipality of the session's scope. Returns the rows written."""
    session.flush()
    scope = get_scope(session)
    if scope == EVERYTHING:
        pending = session.info.get(_PENDING, {})
        for key in [k for k in pending if k[0] in kinds]:
            del pending[key]  # nothing noted so far needs doing again
    _lock(session, None)
    for kind in kinds:
        REBUILD[kind](session)
    models = [m for kind, ms in ((MEMBERS, (MemberTotals, ConfirmationStep)), (HANDOVERS, (HandoverMonth,)))
              if kind in kinds for m in ms]
    # (rowcount of executemany INSERTs is not reported by every driver)
    return sum(session.scalar(select(func.count(m.id))) or 0 for m in models)
