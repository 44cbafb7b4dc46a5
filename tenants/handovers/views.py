"""相談と引継ぎ: inboxes, the consultation form, handover pages, the family's slip,
the access log and the desk's figures.

Who may open what (everything else is 404, as if it did not exist):
desk staff of the municipality — every consultation and handover; a member
user — the handovers its organisation sent or received, and the
consultations its organisation recorded. Every opening is logged.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.accounts.models import Role
from portal.extensions import db
from portal.pagination import paginate
from portal.security.policy import allow
from portal.timeutil import today_jst, utcnow, wareki
from tenants.context import current_municipality
from tenants.core.forms import also_check, form_data, show_errors
from tenants.handovers import deadlines, metrics, services
from tenants.handovers import slip as slip_texts
from tenants.handovers.forms import (
    ActionForm,
    CloseForm,
    ConsentForm,
    ConsultationForm,
    DeclineForm,
    ResolveForm,
    SendForm,
)
from tenants.handovers.models import AccessAction, Consultation, Handover, HandoverStatus
from tenants.handovers.services import HandoverError, Party
from tenants.members.models import MemberOrganization
from tenants.core.validation import ValidationError
from tenants.navigation import nav_item

bp = Blueprint("handovers", __name__, url_prefix="/m/<code>")
nav_item("handovers", "引継ぎ", "handovers.inbox", (Role.DESK, Role.MEMBER), order=12)

PARTIES = (Role.DESK, Role.MEMBER)
PAGE_SIZE = 30
WEEKDAYS = "月火水木金土日"


def _party() -> Party:
    party = services.party_of(current_user)
    if party is None:  # a member user whose organisation is gone
        abort(404)
    return party


def _handover_or_404(handover_id: int, party: Party) -> Handover:
    h = db.session.get(Handover, handover_id)
    if h is None or not services.may_view_handover(h, party):
        abort(404)
    return h


def _consultation_or_404(consultation_id: int, party: Party) -> Consultation:
    c = db.session.get(Consultation, consultation_id)
    if c is None or not services.may_view_consultation(c, party):
        abort(404)
    return c


def _party_org(party: Party) -> MemberOrganization | None:
    return db.session.get(MemberOrganization, party.organization_id) if party.organization_id else None


@bp.app_template_filter("wareki_weekday")
def wareki_weekday(value) -> str:
    return f"{wareki(value)}（{WEEKDAYS[value.weekday()]}）"


@bp.app_template_global("handover_counts")
def handover_counts_global():
    """For the home page: what needs action in the user's inbox (None for roles without one)."""
    party = services.party_of(current_user)
    return services.counts(party, utcnow()) if party is not None else None


# ---------------------------------------------------------------------------
# Inbox


@bp.get("/handovers")
@allow(*PARTIES, tenant=True)
def inbox():
    party = _party()
    now = utcnow()
    boxes = dict(services.BOXES)
    if not party.is_desk:
        boxes.pop("overdue")
    box = request.args.get("box", "incoming")
    if box not in boxes:
        box = "incoming"
    show = request.args.get("show", "open")
    if show not in services.FILTERS:
        show = "open"
    stmt, count_stmt = services.inbox_query(party, box, show, now)
    page = paginate(stmt, PAGE_SIZE, total=db.session.scalar(count_stmt))
    return render_template(
        "handovers/inbox.html",
        party=party, party_name=services.party_name(_party_org(party)),
        counts=services.counts(party, now), boxes=boxes, box=box, show=show, filters=services.FILTERS,
        page=page, now=now, name_of=services.party_name,
    )


# ---------------------------------------------------------------------------
# Consultations


@bp.route("/handovers/consultations/new", methods=["GET", "POST"])
@allow(*PARTIES, tenant=True)
def new_consultation():
    party = _party()
    form = ConsultationForm()
    if form.validate_on_submit():
        try:
            c = services.record_consultation(form_data(form), current_user, party)
        except ValidationError as e:
            show_errors(form, e)
        else:
            flash(f"相談 #{c.id} を記録しました。続けて引継ぎ先を選べます。", "success")
            return redirect(url_for("handovers.consultation", consultation_id=c.id))
    elif form.is_submitted():
        also_check(form, services.validate_consultation)
    return render_template(
        "handovers/consultation_form.html", form=form, party_name=services.party_name(_party_org(party)),
    ), 422 if form.is_submitted() else 200


def _render_consultation(c: Consultation, party: Party, *, send_form=None, consent_form=None, close_form=None,
                         error: str | None = None, status: int = 200):
    # The one place a consultation's content is rendered, so every display is logged, refusals too.
    services.log_access(current_user, party, AccessAction.VIEW, consultation_id=c.id)
    today = today_jst()
    now = utcnow()
    may_send = services.may_send(c, party)
    recipients = services.recipients(party, today) if may_send else []
    if send_form is None:
        send_form = SendForm(formdata=None)
        wanted = request.args.get("to")
        if wanted:
            send_form.recipient.data = wanted
    send_form.recipient.choices = [SelectChoice("", "選んでください"), *(SelectChoice(r.key, r.option_label) for r in recipients)]
    last = c.handovers[-1] if c.handovers else None
    returned = last is not None and last.status == HandoverStatus.DECLINED.value and c.is_open and may_send
    tried = {h.recipient_organization_id for h in c.handovers}
    suggestions = services.suggestions_for(c, today, tried) if returned or (may_send and not c.handovers) else []
    return render_template(
        "handovers/consultation.html",
        c=c, party=party, now=now,
        may_send=may_send, coordinator=services.is_coordinator(c, party),
        consent_problem=services.consent_problem(c),
        recipients=recipients, send_form=send_form,
        consent_form=consent_form or ConsentForm(formdata=None, obj=c),
        close_form=close_form or CloseForm(formdata=None),
        returned=last if returned else None, suggestions=suggestions,
        active=services.active_handover(c), error=error,
        name_of=services.party_name, person=services.person_name,
        timeline=services.timeline,
    ), status


@bp.get("/handovers/consultations/<int:consultation_id>")
@allow(*PARTIES, tenant=True)
def consultation(consultation_id: int):
    party = _party()
    c = _consultation_or_404(consultation_id, party)
    return _render_consultation(c, party)


@bp.post("/handovers/consultations/<int:consultation_id>/send")
@allow(*PARTIES, tenant=True)
def send(consultation_id: int):
    party = _party()
    c = _consultation_or_404(consultation_id, party)
    form = SendForm()
    form.recipient.choices = []
    if not form.validate_on_submit():
        return _render_consultation(c, party, send_form=form, status=422)
    try:
        h = services.send_handover(c, form_data(form), current_user, party, today_jst())
    except ValidationError as e:
        show_errors(form, e)
        return _render_consultation(c, party, send_form=form, status=422)
    except HandoverError as e:
        return _render_consultation(c, party, send_form=form, error=e.message, status=e.status)
    flash(f"{services.party_name(h.recipient_organization)}に引き継ぎました。回答期限は"
          f"{deadlines_label(h)}です。", "success")
    return redirect(url_for("handovers.show", handover_id=h.id))


def deadlines_label(h: Handover) -> str:
    from portal.timeutil import format_datetime_jst

    return format_datetime_jst(h.response_due_at)


@bp.post("/handovers/consultations/<int:consultation_id>/consent")
@allow(*PARTIES, tenant=True)
def consent(consultation_id: int):
    party = _party()
    c = _consultation_or_404(consultation_id, party)
    form = ConsentForm()
    if not form.validate_on_submit():
        return _render_consultation(c, party, consent_form=form, status=422)
    try:
        services.update_consent(c, form.consent.data, form.consent_reason.data, party)
    except ValidationError as e:
        show_errors(form, e)
        return _render_consultation(c, party, consent_form=form, status=422)
    except HandoverError as e:
        return _render_consultation(c, party, consent_form=form, error=e.message, status=e.status)
    flash("本人同意の状態を更新しました。", "success")
    return redirect(url_for("handovers.consultation", consultation_id=c.id))


@bp.post("/handovers/consultations/<int:consultation_id>/close")
@allow(*PARTIES, tenant=True)
def close(consultation_id: int):
    party = _party()
    c = _consultation_or_404(consultation_id, party)
    form = CloseForm()
    if not form.validate_on_submit():
        return _render_consultation(c, party, close_form=form, status=422)
    try:
        services.close_consultation(c, form.outcome.data, current_user, party)
    except ValidationError as e:
        show_errors(form, e)
        return _render_consultation(c, party, close_form=form, status=422)
    except HandoverError as e:
        return _render_consultation(c, party, close_form=form, error=e.message, status=e.status)
    flash("相談を終了しました。", "success")
    return redirect(url_for("handovers.consultation", consultation_id=c.id))


# ---------------------------------------------------------------------------
# One handover


def _render_handover(h: Handover, party: Party, *, decline_form=None, resolve_form=None, error=None, status=200):
    # The one place a handover (and its consultation's content) is rendered: every display is logged.
    services.log_access(current_user, party, AccessAction.VIEW, consultation_id=h.consultation_id, handover_id=h.id)
    now = utcnow()
    return render_template(
        "handovers/show.html",
        h=h, c=h.consultation, party=party, now=now,
        is_recipient=services.is_recipient(h, party), is_sender=services.is_sender(h, party),
        coordinator=services.is_coordinator(h.consultation, party),
        overdue=services.overdue_by(h, now),
        action_form=ActionForm(formdata=None),
        decline_form=decline_form or DeclineForm(formdata=None),
        resolve_form=resolve_form or ResolveForm(formdata=None),
        steps=services.timeline(h), error=error,
        name_of=services.party_name, person=services.person_name,
        contact_freshness=_contact_freshness(h),
    ), status


def _contact_freshness(h: Handover):
    from tenants.members.freshness import freshness

    if h.recipient_contact is None:
        return None
    return freshness(h.recipient_contact.last_confirmed_on, today_jst())


@bp.get("/handovers/<int:handover_id>")
@allow(*PARTIES, tenant=True)
def show(handover_id: int):
    party = _party()
    h = _handover_or_404(handover_id, party)
    return _render_handover(h, party)


@bp.post("/handovers/<int:handover_id>/<action>")
@allow(*PARTIES, tenant=True)
def act(handover_id: int, action: str):
    party = _party()
    h = _handover_or_404(handover_id, party)
    if action not in services.TRANSITIONS:
        abort(404)
    form = {"decline": DeclineForm, "resolve": ResolveForm}.get(action, ActionForm)()
    forms = {"decline_form": form} if action == "decline" else {"resolve_form": form} if action == "resolve" else {}
    if not form.validate_on_submit():
        return _render_handover(h, party, **forms, status=422)
    try:
        if action == "accept":
            services.accept(h, current_user, party)
            message = "引継ぎを受け付けました。ご家族への連絡をお願いします。"
        elif action == "decline":
            services.decline(h, form.reason.data, current_user, party)
            message = "引継ぎを辞退しました。送り元に差し戻しました。"
        elif action == "start":
            services.start(h, current_user, party)
            message = "対応中にしました。"
        elif action == "resolve":
            services.resolve(h, form.outcome.data, current_user, party)
            message = "解決にしました。送り元にお知らせしました。"
        else:
            services.withdraw(h, current_user, party)
            message = "引継ぎを取り下げました。"
    except ValidationError as e:
        show_errors(form, e)
        return _render_handover(h, party, **forms, status=422)
    except HandoverError as e:
        return _render_handover(h, party, **forms, error=e.message, status=e.status)
    flash(message, "success")
    if action in ("decline", "withdraw") and services.is_coordinator(h.consultation, party):
        return redirect(url_for("handovers.consultation", consultation_id=h.consultation_id))
    return redirect(url_for("handovers.show", handover_id=h.id))


@bp.get("/handovers/<int:handover_id>/slip")
@allow(*PARTIES, tenant=True)
def slip(handover_id: int):
    """The family's slip; first a confirmation step when the consent state or a stale contact asks for one."""
    from tenants.network.services import get_desk

    party = _party()
    h = _handover_or_404(handover_id, party)
    if h.status in (HandoverStatus.DECLINED.value, HandoverStatus.WITHDRAWN.value):
        flash("辞退・取り下げになった引継ぎの説明用紙は印刷できません。", "error")
        return redirect(url_for("handovers.show", handover_id=h.id))
    choice = slip_texts.slip_contact(h, today_jst())
    checks = slip_texts.checks_for(h, choice)
    submitted = request.args.get("checked") == "1"
    consent_ok = not checks.consent_warning or request.args.get("consent_ok") == "1"
    contact_ok = choice.is_fresh or request.args.get("contact_ok") == "1"
    if checks.needed and not (submitted and consent_ok):
        error = "印刷の前に、注意を読んで確認欄にチェックを入れてください。" if submitted else None
        return render_template(
            "handovers/slip_check.html", h=h, c=h.consultation, checks=checks, choice=choice, error=error,
        ), 422 if error else 200
    services.log_access(current_user, party, AccessAction.PRINT, consultation_id=h.consultation_id, handover_id=h.id)
    desk = get_desk()
    desk_name = slip_texts.desk_name(current_municipality.name, desk)
    contact = choice.contact if contact_ok else None
    if h.recipient_organization is None:
        phone = desk.phone if desk else ""
    else:
        phone = (contact.phone if contact is not None else "") or h.recipient_organization.phone
    return render_template(
        "handovers/slip.html",
        h=h, desk=desk, contact=contact, phone=phone, choice=choice, checks=checks,
        wording=slip_texts.wording_for(h.consultation.consent),
        recipient_name=h.recipient_organization.name if h.recipient_organization else desk_name,
        sender_name=h.sender_organization.name if h.sender_organization else desk_name,
        sender_phone=(h.sender_organization.phone if h.sender_organization else (desk.phone if desk else "")),
        contact_by=deadlines.family_contact_by(h.response_due_at),
    )


# ---------------------------------------------------------------------------
# The desk: figures and the access log


@bp.get("/handovers/metrics")
@allow(Role.DESK, tenant=True)
def metrics_page():
    period = request.args.get("period", "all")
    since = metrics.period_start(period, today_jst())
    return render_template(
        "handovers/metrics.html",
        summary=metrics.municipality_summary(since=since),
        by_org=metrics.by_organization(since=since),
        period=period, periods=metrics.PERIODS,
    )


@bp.get("/handovers/access-log")
@allow(Role.DESK, tenant=True)
def access_log():
    consultation_id = request.args.get("consultation", type=int)
    page = paginate(services.access_log_query(consultation_id), 50)
    return render_template(
        "handovers/access_log.html", page=page, consultation_id=consultation_id, name_of=services.party_name,
    )


@bp.get("/handovers/access-log.csv")
@allow(Role.DESK, tenant=True)
def access_log_csv():
    from tenants.transfer.csvio import write_csv

    consultation_id = request.args.get("consultation", type=int)
    body = write_csv(services.ACCESS_LOG_HEADER, services.access_log_rows(consultation_id))
    services.log_access(current_user, services.DESK, AccessAction.EXPORT, consultation_id=consultation_id)
    name = f"handover-access-log-{today_jst().isoformat()}.csv"
    return Response(body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
