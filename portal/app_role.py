"""PostgreSQL: the login role the application connects as.

Row-level security (``tenants/row_security.py``) binds only a role that is no
superuser, has no BYPASSRLS and owns no table; this creates such a role (or
checks an existing one) and grants it what the application needs — no DDL.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RoleError(RuntimeError):
    pass


def grant_app_role(connection: Connection, name: str) -> bool:
    """Create (if needed) a login role the policies bind and grant it the app's privileges.

    Returns True when the role was created. Refuses a superuser, a BYPASSRLS
    role and a role that owns tables: RLS would not bind them.
    """
    if not ROLE_NAME.match(name):
        raise RoleError(f"ロール名「{name}」は英小文字・数字・_ で指定してください。")
    role = connection.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :n"), {"n": name}).first()
    created = role is None
    if created:
        connection.execute(text(f"CREATE ROLE {name} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"))
    elif role.rolsuper or role.rolbypassrls:
        raise RoleError(f"ロール {name} はスーパーユーザーか BYPASSRLS のため、行レベルセキュリティが効きません。")
    owned = connection.execute(text(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = :n"), {"n": name}).scalar()
    if owned:
        raise RoleError(f"ロール {name} はテーブルを {owned} 個所有しています。所有者には FORCE でも迂回の余地があるため、別のロールにしてください。")
    database = connection.execute(text("SELECT current_database()")).scalar()
    for statement in (
        f'GRANT CONNECT ON DATABASE "{database}" TO {name}',
        f"GRANT USAGE ON SCHEMA public TO {name}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {name}",
        # Tables of later migrations (run by the owner) are granted too.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {name}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {name}",
    ):
        connection.execute(text(statement))
    if connection.execute(text("SELECT to_regclass('public.alembic_version')")).scalar():
        connection.execute(text(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {name}"))
    return created
