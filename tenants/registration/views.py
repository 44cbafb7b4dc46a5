"""登録制度: the public application form, and the desk's review queue."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.models import Role
from portal.accounts.tokens import link
from portal.extensions import db
from portal.pagination import paginate
from portal.security.policy import allow, public
from tenants.context import current_municipality
from tenants.core.forms import ButtonForm, form_status, submit
from tenants.core.loading import get_or_404
from tenants.members.categories import category_label
from tenants.navigation import nav_item
from tenants.network import services as network
from tenants.registration import services
from tenants.registration.forms import ApplicationForm, DeclineForm
from tenants.registration.models import Registration, RegistrationStatus
from tenants.registration.services import RegistrationError, TooManyApplications

bp = Blueprint("registration", __name__, url_prefix="/m/<code>")
nav_item("registration", "登録申請", "registration.queue", (Role.DESK, Role.ADMIN), order=25, group="admin")

DESK = (Role.DESK, Role.ADMIN)
PAGE_SIZE = 50


# ---------------------------------------------------------------------------
# Public: applying


def _render_join(form: ApplicationForm, status: int = 200, flood: bool = False):
    return render_template(
        "registration/join.html", form=form, network=network.get_network(), desk=network.get_desk(), flood=flood,
        flood_message=services.FLOOD_MESSAGE,
    ), status


@bp.route("/join", methods=["GET", "POST"])
@public(tenant=True)
def join():
    form = ApplicationForm()
    try:
        submitted = submit(form, lambda data: services.submit_application(data, current_municipality, request.remote_addr))
    except TooManyApplications:
        return _render_join(form, 429, flood=True)
    if submitted is None:
        return _render_join(form, form_status(form))
    return redirect(url_for("registration.thanks"))


@bp.get("/join/thanks")
@public(tenant=True)
def thanks():
    return render_template("registration/thanks.html", network=network.get_network())


# ---------------------------------------------------------------------------
# Desk: reviewing


@bp.get("/registrations")
@allow(*DESK, tenant=True)
def queue():
    status = request.args.get("status", RegistrationStatus.SUBMITTED.value)
    if status not in {s.value for s in RegistrationStatus} | {"all"}:
        status = RegistrationStatus.SUBMITTED.value
    stmt = select(Registration)
    if status != "all":
        stmt = stmt.where(Registration.status == status)
    # Oldest first while waiting (first come, first served); newest first once decided.
    order = Registration.submitted_at.asc() if status == RegistrationStatus.SUBMITTED.value else Registration.submitted_at.desc()
    page = paginate(stmt.order_by(order, Registration.id), PAGE_SIZE)
    return render_template(
        "registration/queue.html",
        page=page,
        registrations=page.items,
        duplicates=services.duplicates_for(page.items),
        counts=services.status_counts(),
        status=status,
        statuses=RegistrationStatus,
        join_url=link(url_for("registration.join")),
        category_label=category_label,
    )


def _render_show(registration: Registration, *, error: str | None = None, decline_form: DeclineForm | None = None,
                 status: int = 200):
    return render_template(
        "registration/show.html",
        registration=registration,
        duplicates=services.duplicates_for([registration])[registration.id],
        decision_form=ButtonForm(),
        decline_form=decline_form or DeclineForm(formdata=None),
        error=error,
        category_label=category_label,
    ), status


@bp.get("/registrations/<int:registration_id>")
@allow(*DESK, tenant=True)
def show(registration_id: int):
    return _render_show(get_or_404(Registration, registration_id))


def _refused(registration_id: int, message: str, status: int, decline_form: DeclineForm | None = None):
    # Show the page as stored: whatever the refused decision touched is undone first.
    db.session.rollback()
    return _render_show(get_or_404(Registration, registration_id), error=message, decline_form=decline_form, status=status)


@bp.post("/registrations/<int:registration_id>/approve")
@allow(*DESK, tenant=True)
def approve(registration_id: int):
    registration = get_or_404(Registration, registration_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        org = services.approve(registration, current_user)
    except RegistrationError as e:
        return _refused(registration_id, e.message, e.status)
    flash(f"「{org.name}」の申請を承認し、構成員に登録しました。担当者にパスワード設定の案内メールを送ります。", "success")
    return redirect(url_for("registration.show", registration_id=registration_id))


@bp.post("/registrations/<int:registration_id>/decline")
@allow(*DESK, tenant=True)
def decline(registration_id: int):
    registration = get_or_404(Registration, registration_id)
    form = DeclineForm()
    try:
        declined = submit(form, lambda data: services.decline(registration, current_user, data["reason"],
                                                              current_municipality))
    except RegistrationError as e:
        return _refused(registration_id, e.message, e.status, decline_form=form)
    if declined is None:
        if form.csrf_token.errors:
            abort(400)
        return _render_show(registration, decline_form=form, status=form_status(form))
    flash(f"「{registration.org_name}」の申請をお断りし、理由を申請者にメールで送ります。", "success")
    return redirect(url_for("registration.show", registration_id=registration_id))
