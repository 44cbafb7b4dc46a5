"""`flask --app wsgi backup ...` and `db create-app-role`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_migrate.cli import db as migrate_cli

from portal import app_role, backup
from portal.extensions import db

backup_cli = AppGroup("backup", help="データベースのバックアップと復元")


@backup_cli.command("create")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def create_backup(path: Path | None) -> None:
    """Back up the database (while the server runs) to PATH, by default instance/backups/."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        path = backup.create(url, path or backup.default_path(current_app.instance_path, url),
                             busy_timeout=current_app.config["BACKUP_BUSY_TIMEOUT_SECONDS"])
    except backup.BackupError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"バックアップを作成しました: {path} ({path.stat().st_size:,} バイト)")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="データのあるデータベースを上書きする")
@click.option("--app-role", help="PostgreSQL: 復元後にこのアプリ用ロールへ権限を付け直す")
def restore_backup(path: Path, force: bool, app_role: str | None) -> None:
    """Restore the database from PATH. Refuses a database holding rows unless --force."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if app_role and db.engine.dialect.name != "postgresql":  # refuse before anything is overwritten
        raise click.ClickException("アプリ用ロールは PostgreSQL だけのものです。--app-role を外してください。")
    try:
        backup.restore(url, path, force=force, busy_timeout=current_app.config["BACKUP_BUSY_TIMEOUT_SECONDS"])
    except backup.BackupError as e:
        raise click.ClickException(str(e)) from e
    db.engine.dispose()  # no pooled connection keeps the old schema's view
    click.echo(f"復元しました: {path}")
    if app_role:
        _grant(app_role)


@migrate_cli.command("create-app-role")
@click.argument("name")
def create_app_role(name: str) -> None:
    """PostgreSQL: create/grant the role the app connects as (row-level security binds it)."""
    _grant(name)


def _grant(name: str) -> None:

    if db.engine.dialect.name != "postgresql":
        raise click.ClickException("アプリ用ロールは PostgreSQL だけのものです。")
    try:
        with db.engine.begin() as conn:
            created = app_role.grant_app_role(conn, name)
    except app_role.RoleError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"ロール {name} {'を作成し、' if created else 'に'}権限を付与しました。"
               f"パスワードは psql の \\password {name} で設定し、DATABASE_URL をこのロールにしてください。")


def register_cli(app: Flask) -> None:
    app.cli.add_command(backup_cli)
