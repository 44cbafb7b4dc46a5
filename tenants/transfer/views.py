"""構成員名簿の取り込み（CSV・Excel）と書き出し."""

from __future__ import annotations

import io

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from portal.accounts.models import Role
from portal.database import lock_for_write
from portal.extensions import db
from portal.security.policy import allow, enforce_access_policy
from portal.spreadsheet import download
from portal.timeutil import today_jst
from tenants.context import current_municipality, resolve_tenant
from tenants.core.forms import ButtonForm
from tenants.core.loading import get_or_404
from tenants.core.validation import ValidationError
from tenants.members.categories import CATEGORIES, CONSULTATION_TAGS
from tenants.transfer import apply, columns, export, parse, plan, table
from tenants.transfer.forms import UploadForm
from tenants.transfer.models import ImportBatch

bp = Blueprint("transfer", __name__, url_prefix="/m/<code>")

MANAGERS = (Role.DESK, Role.ADMIN)

# The preview lists this many organisations in full; the counts cover all of them.
PREVIEW_MAX_ORGANIZATIONS = 300


def _max_bytes() -> int:
    return current_app.config.get("IMPORT_MAX_BYTES", parse.DEFAULT_MAX_BYTES)


def _too_large_message() -> str:
    return f"ファイルが大きすぎます（上限 {_max_bytes() / (1024 * 1024):g} MB）。"


def _upload_page(form: UploadForm, status: int = 200):
    return render_template(
        "transfer/upload.html",
        form=form,
        columns=columns.COLUMNS,
        required=columns.REQUIRED_HEADERS,
        categories=CATEGORIES,
        tags=CONSULTATION_TAGS,
        max_mb=f"{_max_bytes() / (1024 * 1024):g}",
        max_rows=current_app.config.get("IMPORT_MAX_ROWS", parse.DEFAULT_MAX_ROWS),
    ), status


@bp.route("/members/import", methods=["GET", "POST"])
@allow(*MANAGERS, tenant=True)
def import_upload():
    form = UploadForm()
    if request.method == "GET":
        return _upload_page(form)
    if not form.validate_on_submit():
        return _upload_page(form, 400)
    data = form.file.data.read(_max_bytes() + 1)
    if len(data) > _max_bytes():
        form.file.errors.append(_too_large_message())
        return _upload_page(form, 413)
    try:
        batch = parse.create_batch(
            data,
            form.file.data.filename or "",
            current_user.id,
            max_rows=current_app.config.get("IMPORT_MAX_ROWS", parse.DEFAULT_MAX_ROWS),
        )
    except table.FileFormatError as e:
        form.file.errors.append(str(e))
        return _upload_page(form, 400)
    return redirect(url_for(".import_preview", batch_id=batch.id))


def _drop_request_body() -> None:
    """Treat a refused body as an empty form, so nothing tries to read it again.

    (The layout's logout form looks at request.files on every POST; reading
    an oversized body raises RequestEntityTooLarge once more.) This is how
    werkzeug itself caches parsed form data.
    """
    empty = request.parameter_storage_class()
    request.__dict__.update(form=empty, files=empty, stream=io.BytesIO())


@bp.errorhandler(RequestEntityTooLarge)
def _upload_too_large(error: RequestEntityTooLarge):
    """A file over the app's request limit: say so on the upload page, not a bare error page.

    Werkzeug refuses the body while the first before_request hook (CSRF) reads
    the form, before the access policy and the municipality were checked, so
    they are checked here before the page is shown.
    """
    _drop_request_body()
    if request.endpoint != "transfer.import_upload":
        return render_template(
            "errors/error.html", code=413, title="ファイルが大きすぎます", detail=_too_large_message()
        ), 413
    try:
        refusal = enforce_access_policy() or resolve_tenant()
    except HTTPException as refused:
        return current_app.handle_http_exception(refused)
    if refusal is not None:
        return refusal
    form = UploadForm(formdata=None)
    form.file.errors = [_too_large_message()]
    return _upload_page(form, 413)


def _preview_page(batch: ImportBatch, error: str | None = None, status: int = 200):
    preview = None
    if not batch.problems and batch.applied_at is None:
        preview = plan.plan(batch.rows)
    return render_template(
        "transfer/preview.html",
        batch=batch,
        plan=preview,
        counts=preview.counts if preview else None,
        organization_count=len(batch.rows),
        contact_count=sum(len(r["contacts"]) for r in batch.rows),
        earlier=plan.same_file_applied_before(batch) if preview else None,
        form=ButtonForm(),
        error=error,
        max_shown=PREVIEW_MAX_ORGANIZATIONS,
    ), status


@bp.get("/members/import/<int:batch_id>")
@allow(*MANAGERS, tenant=True)
def import_preview(batch_id: int):
    return _preview_page(get_or_404(ImportBatch, batch_id))


@bp.post("/members/import/<int:batch_id>/apply")
@allow(*MANAGERS, tenant=True)
def import_apply(batch_id: int):
    # Two desks pressing 取り込む at once: the second waits, then sees it applied.
    lock_for_write(select(ImportBatch.id).where(ImportBatch.id == batch_id))
    batch = get_or_404(ImportBatch, batch_id)
    if batch.applied_at is not None:
        return _preview_page(batch, "このファイルは既に取り込み済みです。もう一度取り込む場合は、ファイルを選び直してください。", 409)
    if batch.problems:
        return _preview_page(batch, "問題のあるファイルは取り込めません。問題をすべて直してから、もう一度ファイルを選んでください。", 409)
    try:
        counts = apply.apply(batch)
    except ValidationError as e:
        # The data changed since the preview (e.g. someone renamed an organisation).
        db.session.rollback()
        return _preview_page(
            get_or_404(ImportBatch, batch_id),
            f"取り込めませんでした。確認のあとで登録内容が変わった可能性があります（{e}）。何も取り込まれていません。",
            409,
        )
    if counts.anything:
        flash(f"名簿を取り込みました。{counts.summary()}。", "success")
    else:
        flash("名簿を確認しました。登録済みの内容と同じだったため、変更はありません。", "info")
    return redirect(url_for("members.index"))


def _export_names(ext: str) -> tuple[str, str]:
    day = today_jst().strftime("%Y%m%d")
    m = current_municipality
    return f"構成員一覧_{m.name}_{day}.{ext}", f"members_{m.code}_{day}.{ext}"


@bp.get("/members/export.csv")
@allow(*MANAGERS, tenant=True)
def export_csv():
    return download(export.roster_csv(), *_export_names("csv"))


@bp.get("/members/export.xlsx")
@allow(*MANAGERS, tenant=True)
def export_xlsx():
    return download(export.roster_xlsx(), *_export_names("xlsx"))


@bp.get("/members/import/template.csv")
@allow(*MANAGERS, tenant=True)
def template_csv():
    return download(export.template_csv(), "構成員名簿テンプレート.csv", "members_template.csv")
