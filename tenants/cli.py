"""`flask --app wsgi municipalities load` and `flask --app wsgi demo`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from portal.extensions import db
from tenants import demo, municipalities
from tenants.scoping import EVERYTHING, scoped

municipalities_cli = AppGroup("municipalities", help="市町村データ（団体コード）の読み込み")


@municipalities_cli.command("load")
@click.option("--prefecture", "prefecture_code", help="都道府県コード（2桁）。省略時は設定 PREFECTURE_CODE（既定 11 = 埼玉県）")
@click.option("--all", "load_all", is_flag=True, help="全国 1,741 市区町村を読み込む")
def load_municipalities(prefecture_code: str | None, load_all: bool) -> None:
    """Load the bundled municipalities (rerunning changes nothing)."""
    code = None if load_all else (prefecture_code or current_app.config["PREFECTURE_CODE"]).zfill(2)
    try:
        added, updated = municipalities.load(code)
    except ValueError as e:
        raise click.ClickException(str(e)) from e
    db.session.commit()
    where = "全国" if code is None else municipalities.prefecture_name(code)
    click.echo(f"{where}: {added} 件を追加、{updated} 件を更新しました。")


@click.command("demo")
@with_appcontext
def load_demo() -> None:
    """Load demo data (development mode only) and print the demo logins."""
    if current_app.config["KOSODATE_ENV"] != "development":
        raise click.ClickException("デモデータは開発モード（KOSODATE_ENV=development）でのみ読み込めます。")
    with scoped(db.session, EVERYTHING):
        logins = demo.load_demo()
        db.session.commit()
    click.echo("デモデータを読み込みました。デモ用ログイン（開発モードでのみ有効）:")
    for login in logins:
        click.echo(f"  {login.label:<24} {login.email:<32} {login.password}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(municipalities_cli)
    app.cli.add_command(load_demo)
