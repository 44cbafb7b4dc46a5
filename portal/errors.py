"""Error pages in Japanese."""

from __future__ import annotations

from flask import Flask, current_app, render_template
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from portal.concurrency import STALE_MESSAGE, STALE_PAGE_DETAIL
from portal.extensions import db

MESSAGES = {
    400: ("リクエストが正しくありません", "入力内容を確認して、もう一度お試しください。"),
    403: ("この操作はできません", "このページを見る権限がありません。必要な場合は管理者にお問い合わせください。"),
    404: ("ページが見つかりません", "お探しのページは移動または削除されたか、URLが間違っている可能性があります。"),
    405: ("この操作はできません", "このページではその操作を受け付けていません。"),
    401: ("ログインが必要です", "ログインしてから、もう一度お試しください。"),
    408: ("時間切れになりました", "送信に時間がかかりすぎました。もう一度お試しください。"),
    410: ("ページの有効期限が切れました", "このページは使えなくなりました。"),
    411: ("リクエストが正しくありません", "送信内容を確認して、もう一度お試しください。"),
    413: ("ファイルが大きすぎます", "送信できるファイルの大きさを超えています。"),
    414: ("URLが長すぎます", "検索語などが長すぎます。短くして、もう一度お試しください。"),
    415: ("この形式は受け付けていません", "画面のフォームから送信してください。"),
    422: ("入力内容を確認してください", "送信された内容を処理できませんでした。"),
    431: ("リクエストが大きすぎます", "送信された情報が大きすぎます。ブラウザを再起動するか、Cookieを削除してお試しください。"),
    429: ("しばらくお待ちください", "短い時間に多くの操作があったため、一時的に受け付けを止めています。"),
    500: ("エラーが発生しました", "システムで問題が発生しました。時間をおいてもう一度お試しください。"),
    503: ("ただいま利用できません", "メンテナンス中または混み合っています。時間をおいてお試しください。"),
}


# When even the page cannot be drawn (the database is gone): plain, but ours and in Japanese.
FALLBACK_PAGE = (
    '<!doctype html><html lang="ja"><meta charset="utf-8"><title>{title}</title>'
    "<h1>{title}</h1><p>{detail}</p><p><a href=\"/\">トップページへ戻る</a></p></html>"
)


def _render(code: int, title: str | None = None, detail: str | None = None):
    default_title, default_detail = MESSAGES.get(code) or MESSAGES[400 if code < 500 else 500]
    title, detail = title or default_title, detail or default_detail
    # The request's transaction may have failed (a statement error leaves it
    # unusable): end it first, so drawing the page (the signed-in user, the
    # menu) runs in a fresh one. The request boundary rolls back >= 400 anyway.
    db.session.rollback()
    try:
        return render_template("errors/error.html", code=code, title=title, detail=detail), code
    except Exception:  # the page needs the database, and the database is the problem
        current_app.logger.exception("error page %s could not be rendered; sent the plain one", code)
        db.session.rollback()
        return FALLBACK_PAGE.format(title=escape(title), detail=escape(detail)), code


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(e):
        return _render(400, "送信を受け付けられませんでした", "ページの有効期限が切れた可能性があります。ページを読み込み直して、もう一度お試しください。")

    @app.errorhandler(StaleDataError)
    def _stale(e):
        # A save outside an edit form (e.g. a confirm button) lost the row to another one: nothing is kept.
        db.session.rollback()
        return _render(409, STALE_MESSAGE, STALE_PAGE_DETAIL)

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):
        if e.code is None or e.code < 400:
            return e
        # Our own abort(code, description=…) carries a Japanese detail; werkzeug's defaults are English.
        detail = e.description if e.description != type(e).description else None
        body, code = _render(e.code, detail=detail)
        return body, code, [(k, v) for k, v in e.get_headers() if k == "Allow"]  # 405 keeps its Allow

    @app.errorhandler(500)
    def _internal(e):
        return _render(500)
