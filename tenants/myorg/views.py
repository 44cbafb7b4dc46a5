"""自分の団体 (member users) and 変更の承認 (the desk's queue of name/category changes)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.accounts.models import Role
from portal.security.policy import allow
from portal.timeutil import today_jst
from tenants.core import labels
from tenants.core.forms import ButtonForm, form_status, submit
from tenants.core.loading import get_or_404
from tenants.core.validation import ValidationError
from tenants.members.freshness import freshness
from tenants.members.models import MemberOrganization, OrganizationChangeRequest
from tenants.myorg import services
from tenants.myorg.forms import MyOrganizationForm, RejectForm
from tenants.navigation import nav_item

bp = Blueprint("myorg", __name__, url_prefix="/m/<code>")
nav_item("myorg", "自分の団体", "myorg.show", (Role.MEMBER,), order=15)
nav_item("change_requests", "変更の承認", "myorg.requests", (Role.DESK, Role.ADMIN), order=26, group="admin")

DESK = (Role.DESK, Role.ADMIN)


def _my_organization() -> MemberOrganization:
    """The logged-in member's organisation, under this municipality's scope; never from the URL."""
    return get_or_404(MemberOrganization, current_user.member_organization_id)

# ---------------------------------------------------------------------------
# Member users


@bp.get("/my/organization")
@allow(Role.MEMBER, tenant=True)
def show():
    org = _my_organization()
    today = today_jst()
    tasks = services.open_tasks(org, today)
    return render_template(
        "myorg/show.html",
        org=org,
        tasks=tasks,
        actionable=[t for t in tasks if t.actionable],
        requests=services.recent_requests_for(org),
        entries=services.history(org),
        freshness=lambda c: freshness(c.last_confirmed_on, today),
        action_labels=labels.ACTION_LABELS,
        entity_labels=labels.ENTITY_LABELS,
        field_labels=labels.FIELD_LABELS,
    )


@bp.route("/my/organization/edit", methods=["GET", "POST"])
@allow(Role.MEMBER, tenant=True)
def edit():
    org = _my_organization()
    form = MyOrganizationForm(obj=org)
    outcome = submit(form, lambda data: services.submit_changes(org, data, current_user), current=org)
    if outcome:
        if outcome.applied:
            flash("登録情報を更新しました。総合支援窓口にお知らせしました。", "success")
        if outcome.request_changed:
            flash(services.HELD_NOTICE, "info")
        if not outcome.changed:
            flash("変更はありませんでした。", "info")
        return redirect(url_for("myorg.show"))
    return render_template(
        "myorg/edit.html", form=form, org=org,
        pending=services.pending_request_for(org), field_labels=labels.FIELD_LABELS,
    ), form_status(form)


# ---------------------------------------------------------------------------
# The desk


def _render_requests(error: str | None = None, status: int = 200, reject_forms: dict | None = None):
    pending = services.pending_requests()
    # One reject form per request; the one just refused keeps its input and messages.
    forms = {r.id: RejectForm(formdata=None) for r in pending}
    forms.update(reject_forms or {})
    return render_template(
        "myorg/requests.html",
        pending=pending,
        decided=services.decided_requests(),
        reject_forms=forms,
        decision_form=ButtonForm(formdata=None),
        error=error,
        field_labels=labels.FIELD_LABELS,
    ), status


@bp.get("/change-requests")
@allow(*DESK, tenant=True)
def requests():
    return _render_requests()


@bp.post("/change-requests/<int:request_id>/approve")
@allow(*DESK, tenant=True)
def approve(request_id: int):
    change_request = get_or_404(OrganizationChangeRequest, request_id)
    name = change_request.organization.name
    try:
        services.approve(change_request, current_user)
    except ValidationError as e:
        message = "承認できませんでした。" + " ".join(e.errors.values())
        return _render_requests(error=message, status=409)
    except services.ChangeRequestError as e:
        return _render_requests(error=e.message, status=409)
    flash(f"「{name}」の変更を承認し、登録情報に反映しました。", "success")
    return redirect(url_for("myorg.requests"))


@bp.post("/change-requests/<int:request_id>/reject")
@allow(*DESK, tenant=True)
def reject(request_id: int):
    change_request = get_or_404(OrganizationChangeRequest, request_id)
    form = RejectForm()
    try:
        rejected = submit(form, lambda data: services.reject(change_request, data["reason"], current_user))
    except services.ChangeRequestError as e:
        return _render_requests(error=e.message, status=409)
    if rejected is None:
        return _render_requests(status=form_status(form), reject_forms={change_request.id: form})
    flash(f"「{change_request.organization.name}」の変更申請を却下しました。", "success")
    return redirect(url_for("myorg.requests"))
