"""Migrations never drop rows without being told to.

``install()`` (called by migrations/env.py) replaces Alembic's implementation
of ``drop_table`` and ``drop_column`` with one that first counts what would be
lost. A table holding rows, or a column holding values, is refused with a
``CommandError`` (Flask-Migrate prints it as one line and exits 1) unless the
run was forced: ``flask --app wsgi db downgrade -x force=1`` or
``KOSODATE_ALLOW_DESTRUCTIVE_DOWNGRADE=1``. Every revision's downgrade goes
through it, including the ones written before it existed.
"""

from __future__ import annotations

from alembic.operations import Operations, ops, toimpl
from alembic.util import CommandError
from sqlalchemy import text

# Set in context.configure(...) by env.py; read back from the migration context's options.
FORCE_OPTION = "kosodate_allow_data_loss"


class DataLossRefused(CommandError):
    """A migration step would delete stored rows or values."""


def _quote(operations: Operations, name: str) -> str:
    return operations.migration_context.dialect.identifier_preparer.quote(name)


def _forced(operations: Operations) -> bool:
    return bool(operations.migration_context.opts.get(FORCE_OPTION))


def _count(operations: Operations, sql: str) -> int:
    if operations.migration_context.as_sql:  # offline (--sql): nothing to count
        return 0
    return int(operations.migration_context.connection.execute(text(sql)).scalar() or 0)


def _refuse(japanese: str, english: str, rows: int) -> None:
    raise DataLossRefused(
        f"{japanese}に {rows} 行のデータがあるため中止しました（実行するとデータが失われます）。"
        "バックアップを取ったうえで本当に実行する場合は -x force=1 を付けてください。"
        f" / Refusing to drop {english} holding {rows} row(s); back up first, then pass -x force=1"
        " (or set KOSODATE_ALLOW_DESTRUCTIVE_DOWNGRADE=1) to proceed."
    )


def guarded_drop_table(operations: Operations, operation: ops.DropTableOp) -> None:
    if not _forced(operations):
        table = _quote(operations, operation.table_name)
        rows = _count(operations, f"SELECT count(*) FROM {table}")
        if rows:
            _refuse(f"テーブル {operation.table_name} ", f"table {operation.table_name}", rows)
    toimpl.drop_table(operations, operation)


def guarded_drop_column(operations: Operations, operation: ops.DropColumnOp) -> None:
    if not _forced(operations):
        table, column = _quote(operations, operation.table_name), _quote(operations, operation.column_name)
        rows = _count(operations, f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL")
        if rows:
            name = f"{operation.table_name}.{operation.column_name}"
            _refuse(f"列 {name} ", f"column {name}", rows)
    toimpl.drop_column(operations, operation)


def install() -> None:
    """Route every drop_table/drop_column (also inside batch_alter_table) through the guard."""
    Operations.implementation_for(ops.DropTableOp, replace=True)(guarded_drop_table)
    Operations.implementation_for(ops.DropColumnOp, replace=True)(guarded_drop_column)


def forced(x_arguments: dict[str, str], config_flag: bool) -> bool:
    return config_flag or x_arguments.get("force", "").strip().lower() in ("1", "true", "yes", "on")
