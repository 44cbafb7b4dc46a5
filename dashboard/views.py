"""The prefecture's view of every municipality's progress toward "a network everywhere".

Aggregates only: no page or export here ever carries a family's data, a
contact's name or address, or a handover's content.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from dashboard import charts, services, vendor
from portal.accounts.models import Role
from portal.extensions import db
from portal.search import query_error
from portal.security.policy import allow, public
from portal.spreadsheet import download, write_csv, write_xlsx
from portal.timeutil import today_jst
from tenants.core import labels
from tenants.core.audit import AuditEntry
from tenants.core.forms import form_status, submit
from tenants.models import Municipality
from tenants.municipalities import prefecture_name
from tenants.network.services import coverage
from tenants.rollout import services as rollout
from tenants.rollout.forms import DeclarationForm, TownForm
from tenants.rollout.models import NetworkStatus
from tenants.scoping import EVERYTHING, Scope, scoped, set_scope

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

OFFICIALS = (Role.PREFECTURE, Role.ADMIN)
YEAR = 365 * 24 * 3600  # vendor URLs carry the package version, so they can be cached for a year


def _area() -> str:
    return current_app.config["PREFECTURE_CODE"]


def _area_name() -> str:
    return "全国" if _area() == services.NATIONAL else prefecture_name(_area())


@bp.before_request
def _prefecture_scope() -> None:
    # The dashboard reads across the prefecture's municipalities, never beyond.
    scope = EVERYTHING if _area() == services.NATIONAL else Scope(prefecture_code=_area())
    set_scope(db.session, scope)


@bp.get("/vendor/plotly-<version>.min.js")
@public
def plotly_js(version: str):
    """plotly.js from the installed plotly package: served by the app, never a CDN."""
    if version != vendor.VERSION:
        abort(404)
    return send_file(vendor.PLOTLY_JS, mimetype="text/javascript", max_age=YEAR, conditional=True)


@bp.get("/vendor/plotly-<version>.css")
@public
def plotly_css(version: str):
    """plotly.js's own style rules as a stylesheet (the CSP refuses the ones it injects)."""
    if version != vendor.VERSION:
        abort(404)
    response = Response(vendor.plotly_css(), mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = YEAR
    return response


def _rows():
    return services.municipality_rows(_area(), today_jst())


@bp.get("/")
@allow(*OFFICIALS)
def index():
    today = today_jst()
    rows = services.municipality_rows(_area(), today)
    head = services.headline(rows, current_app.config["DASHBOARD_TARGET_YEAR"])
    filters = services.Filters.from_args(request.args)
    shown = services.apply(rows, filters)
    return render_template(
        "dashboard/index.html",
        rows=shown,
        all_count=len(rows),
        headline=head,
        filters=filters,
        search_error=query_error(request.args.get("q")),
        sort_keys=services.SORT_KEYS,
        statuses=list(NetworkStatus),
        progress=services.cumulative(rows),
        progress_json=charts.to_json(charts.progress_figure(rows, head, today)),
        map_json=charts.to_json(charts.map_figure(rows)),
        prefecture_name=_area_name(),
        coverage_required=services.COVERAGE_REQUIRED,
        # Every row links to its municipality: the URL built once, the code appended per row.
        municipality_url=url_for("dashboard.municipality", mcode="0")[:-1],
        today=today,
    )


def _export_rows():
    filters = services.Filters.from_args(request.args)
    return services.export_table(services.apply(_rows(), filters))


def _filename(ext: str) -> str:
    return f"network-status-{today_jst().isoformat()}.{ext}"


@bp.get("/export.csv")
@allow(*OFFICIALS)
def export_csv():
    header, rows, _ = _export_rows()
    return download(write_csv(header, rows), _filename("csv"))


@bp.get("/export.xlsx")
@allow(*OFFICIALS)
def export_xlsx():
    header, rows, widths = _export_rows()
    # The code and name columns stay in view while scrolling right.
    body = write_xlsx(header, rows, widths=widths, title="設置状況", frozen_columns=2, wrap_header=True)
    return download(body, _filename("xlsx"))


# --- one municipality -------------------------------------------------------------


def _municipality_or_404(code: str) -> Municipality:
    stmt = select(Municipality).where(Municipality.code == code)
    if _area() != services.NATIONAL:
        stmt = stmt.where(Municipality.prefecture_code == _area())
    m = db.session.scalar(stmt)
    if m is None:
        abort(404)
    return m


def _render_municipality(m: Municipality, declaration_form=None, town_form=None, status: int = 200):
    today = today_jst()
    row = services.municipality_rows(_area(), today, municipality_id=m.id)[0]
    with scoped(db.session, Scope(municipality_id=m.id)):
        matrix = coverage(today)  # counts per category only
        history = rollout.history()
        town = rollout.get_town()
        changes = list(db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == "town_certification")
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        ))
        by_kind = services.activity_counts_by_kind(m.id, today)
    if declaration_form is None:
        declaration_form = DeclarationForm(formdata=None)
        declaration_form.status.data = row.status
        declaration_form.declared_on.data = today
        declaration_form.version.data = history[0].id if history else None
    if town_form is None:
        town_form = TownForm(formdata=None, obj=town)
    return render_template(
        "dashboard/municipality.html",
        m=m,
        row=row,
        coverage=matrix,
        history=history,
        town=town,
        town_changes=changes,
        activity_kinds=by_kind,
        declaration_form=declaration_form,
        town_form=town_form,
        field_labels=labels.FIELD_LABELS,
        prefecture_name=_area_name(),
        today=today,
    ), status


@bp.get("/m/<mcode>")
@allow(*OFFICIALS)
def municipality(mcode: str):
    return _render_municipality(_municipality_or_404(mcode))


@bp.post("/m/<mcode>/status")
@allow(*OFFICIALS)
def declare(mcode: str):
    m = _municipality_or_404(mcode)
    form = DeclarationForm()
    # Written under the municipality's own scope: the guard refuses any other.
    with scoped(db.session, Scope(municipality_id=m.id)):
        current = rollout.current_declaration()
        saved = submit(form, lambda data: rollout.declare(m.id, data),
                       current=current, current_version=current.id if current else None)
    if saved:
        flash(f"{m.name}の設置状況を「{NetworkStatus(form.status.data).label}」に変更しました。", "success")
        return redirect(url_for("dashboard.municipality", mcode=m.code))
    return _render_municipality(m, declaration_form=form, status=form_status(form))


@bp.post("/m/<mcode>/town")
@allow(*OFFICIALS)
def town(mcode: str):
    m = _municipality_or_404(mcode)
    form = TownForm()
    with scoped(db.session, Scope(municipality_id=m.id)):
        saved = submit(form, lambda data: rollout.save_town(m.id, data), current=rollout.get_town())
    if saved:
        flash(f"{m.name}の地域子育て応援タウンの要件を保存しました。", "success")
        return redirect(url_for("dashboard.municipality", mcode=m.code) + "#town-heading")
    return _render_municipality(m, town_form=form, status=form_status(form))
