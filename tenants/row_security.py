"""PostgreSQL row-level security: a second wall behind the ORM's tenant scoping.

Every tenant table (models inheriting ``TenantScoped``) has ``ENABLE`` and
``FORCE ROW LEVEL SECURITY`` and one policy, ``tenant_scope``, that admits a
row only when the transaction's settings allow its municipality:

* ``app.municipality_id`` — one municipality's rows (a request under /m/<code>/);
* ``app.prefecture_code`` — the rows of that prefecture's municipalities (dashboard);
* ``app.scope = 'everything'`` — every row (CLI commands, explicit system work).

The settings are transaction-local (``set_config(…, true)``) and follow the
session's scope (``tenants.scoping.get_scope``): they are applied when a
transaction begins, and again before a statement or flush whenever the scope
changed. With no scope — or from a connection that is not a session's, such as
a raw ``psql`` as the application's role — no tenant row is visible or
writable. Superusers and roles with BYPASSRLS ignore all of this, so the
application connects as a role without either that owns no table
(``flask --app wsgi db create-app-role NAME``).
"""

from __future__ import annotations

from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, event, text
from sqlalchemy.orm import ORMExecuteState, Session

from tenants.scoping import Scope, TenantScoped, get_scope

POLICY = "tenant_scope"
# Each setting is read in its own sub-SELECT: PostgreSQL evaluates it once per
# statement (an InitPlan) instead of once per row, and can use it in an index scan.
POLICY_CONDITION = (
    "(SELECT current_setting('app.scope', true)) = 'everything'"
    " OR municipality_id = (SELECT nullif(current_setting('app.municipality_id', true), '')::integer)"
    " OR municipality_id IN (SELECT id FROM municipalities"
    " WHERE prefecture_code = (SELECT nullif(current_setting('app.prefecture_code', true), '')))"
)

_SUBJECT = "kosodate.rls_subject"  # connection.info: does RLS apply to this connection's role?
_APPLIED = "kosodate.rls_applied"  # session.info: the settings the current transaction carries
_SET = (
    "SELECT set_config('app.scope', %s, true), set_config('app.municipality_id', %s, true),"
    " set_config('app.prefecture_code', %s, true)"
)


def tenant_tables() -> list[str]:
    """The tables of every model inheriting TenantScoped, sorted."""
    found, todo = set(), list(TenantScoped.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if "__table__" in vars(cls):
            found.add(cls.__table__.name)
    return sorted(found)


def enable_statements(table: str) -> list[str]:
    """DDL that puts ``table`` behind the policy (idempotent)."""
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'DROP POLICY IF EXISTS {POLICY} ON "{table}"',
        f'CREATE POLICY {POLICY} ON "{table}" USING ({POLICY_CONDITION}) WITH CHECK ({POLICY_CONDITION})',
    ]


def install(connection: Connection) -> None:
    """Enable the policy on every tenant table (databases made by create_all, e.g. in tests)."""
    if connection.dialect.name != "postgresql":
        return
    for table in tenant_tables():
        for statement in enable_statements(table):
            connection.execute(text(statement))


def settings_for(scope: Scope | None) -> tuple[str, str, str]:
    """(app.scope, app.municipality_id, app.prefecture_code) for a scope; all empty = nothing visible."""
    if scope is None:
        return ("", "", "")
    if scope.everything:
        return ("everything", "", "")
    if scope.municipality_id is not None:
        return ("municipality", str(scope.municipality_id), "")
    return ("prefecture", "", scope.prefecture_code or "")


_NOTHING = settings_for(None)
_FIRST_LOOK = (
    "SELECT NOT (rolsuper OR rolbypassrls), coalesce(current_setting('app.scope', true), ''),"
    " coalesce(current_setting('app.municipality_id', true), ''), coalesce(current_setting('app.prefecture_code', true), '')"
    " FROM pg_roles WHERE rolname = current_user"
)


def bound_by_row_security(connection: Connection) -> bool:
    """Whether the policies bind this PostgreSQL connection's role (not a superuser, no BYPASSRLS)."""
    return _first_look(connection)[0]


def _first_look(connection: Connection) -> tuple[bool, bool]:
    """(bound by the policies, starts its transactions with nothing visible), once per pooled connection.

    The settings are only ever set transaction-locally, so a transaction starts with the
    connection's own values: empty, unless a role or database default (``ALTER ROLE … SET
    app.scope``) or the connection's options gave some. Such a connection gets the empty
    settings at the start of every transaction, as all did before.
    """
    look = connection.info.get(_SUBJECT)
    if look is None:
        # On the raw cursor, before the first statement: not a query of any feature.
        with connection.connection.dbapi_connection.cursor() as cursor:
            cursor.execute(_FIRST_LOOK)
            subject, *settings = cursor.fetchone()
        look = (bool(subject), tuple(settings) == _NOTHING)
        connection.info[_SUBJECT] = look
    return look


def _apply(session: Session, connection: Connection) -> None:
    if connection.dialect.name != "postgresql" or not bound_by_row_security(connection):
        return  # SQLite, or a superuser/BYPASSRLS role that the policy does not bind anyway
    values = settings_for(get_scope(session))
    if session.info.get(_APPLIED) == values:
        return
    # On the raw cursor, inside the session's transaction: the setting belongs to
    # the connection's state (like SET LOCAL), so statement counts stay those of the feature.
    with connection.connection.dbapi_connection.cursor() as cursor:
        cursor.execute(_SET, values)
    session.info[_APPLIED] = values


@event.listens_for(Session, "after_begin")
def _on_begin(session: Session, transaction, connection: Connection) -> None:
    session.info.pop(_APPLIED, None)
    if connection.dialect.name == "postgresql" and transaction.parent is None and _fresh(connection) \
            and _first_look(connection) == (True, True):
        # Nothing has run in this transaction yet, and it starts with nothing visible (see
        # _first_look): the settings go with the first statement that needs more, which for a
        # request's first statement (the session's user, the URL's municipality) is none.
        session.info[_APPLIED] = _NOTHING
    _apply(session, connection)


def _fresh(connection: Connection) -> bool:
    """No statement has run yet in the connection's current transaction (psycopg begins one at the first)."""
    return connection.connection.dbapi_connection.info.transaction_status == TransactionStatus.IDLE


@event.listens_for(Session, "after_transaction_end")
def _on_end(session: Session, transaction) -> None:
    # Also after a savepoint: a rolled-back savepoint takes its set_config with it.
    session.info.pop(_APPLIED, None)


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    # The scope may have changed since the transaction began (the tenant is resolved
    # after the user is loaded; scoped() blocks): bring the settings up to date first.
    if _is_postgresql(state.session):
        _apply(state.session, state.session.connection())


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, flush_context, instances) -> None:
    if _is_postgresql(session):
        _apply(session, session.connection())
