"""`flask --app wsgi mail send` (the outbox worker) and `mail queue` (a test message)."""

from __future__ import annotations

import signal
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from portal.extensions import db
from portal.mail.services import MailError, enqueue
from portal.mail.worker import IDLE_LOGGED, deliver_due, run_forever

mail_cli = AppGroup("mail", help="メールの送信（送信待ちメールボックス）")

NO_SMTP = ("SMTP_HOST が設定されていないため、メールは送信しません。"
           "メールは送信待ちのまま保存され、管理画面 /admin/outbox で確認できます。")


def _say(text: str) -> None:
    click.echo(f"[mail] {text}")


def _say_no_smtp() -> None:
    _say(NO_SMTP)
    current_app.extensions[IDLE_LOGGED] = True  # said once is enough


@mail_cli.command("send")
@click.option("--once", "mode", flag_value="once", help="いま送信すべきメールを送って終了する")
@click.option("--loop", "mode", flag_value="loop", default=True, help="送信を続ける（既定）。SIGTERM / Ctrl+C で終了")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(min=0.1), help="確認の間隔（秒）")
@click.option("--batch", default=50, show_default=True, type=click.IntRange(min=1), help="1回に送る最大件数")
def send(mode: str, interval: float, batch: int) -> None:
    """Deliver the outbox over SMTP."""
    configured = bool(current_app.config["SMTP_HOST"])
    if mode == "once":
        if not configured:
            _say_no_smtp()
        counts = last = deliver_due(batch=batch)
        # Drain everything that is due, batch after batch, while the server takes it.
        while configured and last.claimed >= batch and last.sent:
            last = deliver_due(batch=batch)
            counts.sent += last.sent
            counts.deferred += last.deferred
            counts.failed += last.failed
        _say(str(counts))
        return

    stop = threading.Event()

    def _stop(signum, frame):
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    cfg = current_app.config
    if configured:
        _say(f"送信を始めます: {cfg['SMTP_HOST']}:{cfg['SMTP_PORT']}（{interval:g} 秒ごとに確認）")
    else:
        _say_no_smtp()
    try:
        run_forever(interval, stop, batch=batch, report=lambda c: _say(str(c)))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _say("終了しました。")


@mail_cli.command("queue")
@click.option("--to", "to", required=True, help="宛先メールアドレス")
@click.option("--subject", default="テストメール（子育て支援ネットワーク）", show_default=True, help="件名")
@click.option("--body", default="メール送信の設定を確認するためのテストメールです。", show_default=True, help="本文")
@click.option("--kind", default="test", show_default=True, help="種類")
def queue(to: str, subject: str, body: str, kind: str) -> None:
    """Put a message in the outbox (to check the SMTP setup)."""
    try:
        message = enqueue(to, subject, body, kind=kind)
    except MailError as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from e
    db.session.commit()
    click.echo(f"送信待ちに追加しました: #{message.id} {message.to_address} {message.message_id}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(mail_cli)
