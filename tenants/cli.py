"""`flask --app wsgi municipalities load` and `users create`: the tenants, then their accounts."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.accounts.models import Role
from portal.extensions import db
from tenants import municipalities
from tenants.models import Municipality

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


users_cli = AppGroup("users", help="利用者アカウントの管理")


@users_cli.command("create")
@click.option("--email", required=True, help="ログインに使うメールアドレス")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="役割")
@click.option("--municipality", "municipality_code", help="団体コード (desk と member は必須)")
@click.option("--name", "display_name", default="", help="表示名")
@click.option("--password", help="省略すると入力を求めます")
def create_user(email: str, role: str, municipality_code: str | None, display_name: str, password: str | None) -> None:
    """Create an account."""
    municipality_id = None
    if municipality_code:
        municipality = db.session.scalar(select(Municipality).where(Municipality.code == municipality_code))
        if municipality is None:
            raise click.ClickException(f"団体コード {municipality_code} の市町村が見つかりません。先に municipalities load を実行してください。")
        municipality_id = municipality.id
    if password is None:
        password = click.prompt("パスワード", hide_input=True, confirmation_prompt="パスワード（確認）")
    try:
        user = accounts.create_user(
            email=email,
            role=role,
            password=password,
            municipality_id=municipality_id,
            display_name=display_name,
        )
    except accounts.AccountError as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from e
    db.session.commit()
    click.echo(f"作成しました: {user.email} ({Role(user.role).label})")


def register_cli(app: Flask) -> None:
    app.cli.add_command(municipalities_cli)
    app.cli.add_command(users_cli)
