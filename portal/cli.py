"""`flask --app wsgi users ...`"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from portal.accounts import services
from portal.accounts.models import Role
from portal.extensions import db

users_cli = AppGroup("users", help="利用者アカウントの管理")


@users_cli.command("create")
@click.option("--email", required=True, help="ログインに使うメールアドレス")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="役割")
@click.option("--municipality", "municipality_code", help="団体コード (desk と member は必須)")
@click.option("--name", "display_name", default="", help="表示名")
@click.option("--password", help="省略すると入力を求めます")
def create_user(email: str, role: str, municipality_code: str | None, display_name: str, password: str | None) -> None:
    """Create an account."""
    from tenants.models import Municipality  # the CLI wires packages together, like create_app

    municipality_id = None
    if municipality_code:
        municipality = db.session.scalar(select(Municipality).where(Municipality.code == municipality_code))
        if municipality is None:
            raise click.ClickException(f"団体コード {municipality_code} の市町村が見つかりません。先に municipalities load を実行してください。")
        municipality_id = municipality.id
    if password is None:
        password = click.prompt("パスワード", hide_input=True, confirmation_prompt="パスワード（確認）")
    try:
        user = services.create_user(
            email=email,
            role=role,
            password=password,
            municipality_id=municipality_id,
            display_name=display_name,
        )
    except services.AccountError as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from e
    db.session.commit()
    click.echo(f"作成しました: {user.email} ({Role(user.role).label})")


def register_cli(app: Flask) -> None:
    app.cli.add_command(users_cli)
