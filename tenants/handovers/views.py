"""相談と引継ぎ: inboxes, the consultation form, handover pages, the family's slip,
the access log and the desk's figures.

Who may open what (everything else is 404, as if it did not exist):
desk staff of the municipality — every consultation and handover; a member
user — the handovers its organisation sent or received, and the
consultations its organisation recorded. Every opening is logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.accounts.models import Role
from portal.extensions import db
from portal.forms import FlaskForm
from portal.pagination import paginate
from portal.security.policy import allow
from portal.spreadsheet import download, write_csv
from portal.timeutil import format_datetime_jst, today_jst, utcnow
from tenants.context import current_municipality
from tenants.core.forms import INVALID, ButtonForm, also_check, form_status, submit
from tenants.core.loading import get_or_404
from tenants.handovers import consultations, deadlines, metrics, parties, recipients, transitions
from tenants.handovers import slip as slip_texts
from tenants.handovers.access_log import ACCESS_LOG_HEADER, access_log_query, access_log_rows, log_access
from tenants.handovers.forms import CloseForm, ConsentForm, ConsultationForm, DeclineForm, ResolveForm, SendForm
from tenants.handovers.inbox import BOXES, FILTERS, counts, inbox_query
from tenants.handovers.models import AccessAction, Consultation, Handover, HandoverStatus
from tenants.handovers.parties import HandoverError, Party
from tenants.members.models import MemberOrganization
from tenants.navigation import nav_item

bp = Blueprint("handovers", __name__, url_prefix="/m/<code>")
nav_item("handovers", "引継ぎ", "handovers.inbox", (Role.DESK, Role.MEMBER), order=12)

PARTIES = (Role.DESK, Role.MEMBER)
PAGE_SIZE = 30


def _party() -> Party:
    party = parties.party_of(current_user)
    if party is None:  # a member user whose organisation is gone
        abort(404)
    return party


def _handover_or_404(handover_id: int, party: Party) -> Handover:
    return get_or_404(Handover, handover_id, *parties.visible_handovers(party))


def _consultation_or_404(consultation_id: int, party: Party) -> Consultation:
    return get_or_404(Consultation, consultation_id, *parties.visible_consultations(party))


def _party_org(party: Party) -> MemberOrganization | None:
    return db.session.get(MemberOrganization, party.organization_id) if party.organization_id else None


# ---------------------------------------------------------------------------
# Inbox


@bp.get("/handovers")
@allow(*PARTIES, tenant=True)
def inbox():
    party = _party()
    now = utcnow()
    boxes = dict(BOXES)
    if not party.is_desk:
        boxes.pop("overdue")
    box = request.args.get("box", "incoming")
    if box not in boxes:
        box = "incoming"
    show = request.args.get("show", "open")
    if show not in FILTERS:
        show = "open"
    stmt, count_stmt = inbox_query(party, box, show, now)
    page = paginate(stmt, PAGE_SIZE, total=db.session.scalar(count_stmt))
    return render_template(
        "handovers/inbox.html",
        party=party, party_name=parties.party_name(_party_org(party)),
        counts=counts(party, now), boxes=boxes, box=box, show=show, filters=FILTERS,
        page=page, now=now, name_of=parties.party_name,
    )


# ---------------------------------------------------------------------------
# Consultations


@bp.route("/handovers/consultations/new", methods=["GET", "POST"])
@allow(*PARTIES, tenant=True)
def new_consultation():
    party = _party()
    form = ConsultationForm()
    if c := submit(form, lambda data: consultations.record_consultation(data, current_user, party)):
        flash(f"相談 #{c.id} を記録しました。続けて引継ぎ先を選べます。", "success")
        return redirect(url_for("handovers.consultation", consultation_id=c.id))
    if form.is_submitted():
        also_check(form, consultations.validate_consultation)
    return render_template(
        "handovers/consultation_form.html", form=form, party_name=parties.party_name(_party_org(party)),
    ), form_status(form)


def _render_consultation(c: Consultation, party: Party, *, send_form=None, consent_form=None, close_form=None,
                         error: str | None = None, status: int = 200):
    # The one place a consultation's content is rendered, so every display is logged, refusals too.
    log_access(current_user, party, AccessAction.VIEW, consultation_id=c.id)
    today = today_jst()
    now = utcnow()
    may_send = consultations.may_send(c, party)
    targets = recipients.recipients(party, today) if may_send else []
    if send_form is None:
        send_form = SendForm(formdata=None)
        wanted = request.args.get("to")
        if wanted:
            send_form.recipient.data = wanted
    send_form.recipient.choices = [
        SelectChoice("", "選んでください"), *(SelectChoice(r.key, r.option_label) for r in targets)
    ]
    last = c.handovers[-1] if c.handovers else None
    returned = last is not None and last.status == HandoverStatus.DECLINED.value and c.is_open and may_send
    tried = {h.recipient_organization_id for h in c.handovers}
    suggestions = recipients.suggestions_for(c, today, tried) if returned or (may_send and not c.handovers) else []
    return render_template(
        "handovers/consultation.html",
        c=c, party=party, now=now,
        may_send=may_send, coordinator=parties.is_coordinator(c, party),
        consent_problem=consultations.consent_problem(c),
        recipients=targets, send_form=send_form,
        consent_form=consent_form or ConsentForm(formdata=None, obj=c),
        close_form=close_form or CloseForm(formdata=None),
        returned=last if returned else None, suggestions=suggestions,
        active=consultations.active_handover(c), error=error,
        name_of=parties.party_name, person=parties.person_name,
        timeline=transitions.timeline,
    ), status


@bp.get("/handovers/consultations/<int:consultation_id>")
@allow(*PARTIES, tenant=True)
def consultation(consultation_id: int):
    party = _party()
    c = _consultation_or_404(consultation_id, party)
    return _render_consultation(c, party)


def _attempt(form, save, show_again):
    """``(what save(data) returned, None)`` once ``form`` is saved (``submit``); else ``(None, the page
    shown again)``: 400 with the problems on the form's fields, or a refused action's message with its
    status."""
    try:
        saved = submit(form, save)
    except HandoverError as e:
        return None, show_again(error=e.message, status=e.status)
    if saved is None:
        return None, show_again(status=form_status(form))
    return saved, None


@bp.post("/handovers/consultations/<int:consultation_id>/send")
@allow(*PARTIES, tenant=True)
def send(consultation_id: int):
    party = _party()
    c = _consultation_or_404(consultation_id, party)
    form = SendForm()
    form.recipient.choices = []
    h, refused = _attempt(
        form, lambda data: transitions.send_handover(c, data, current_user, party, today_jst()),
        partial(_render_consultation, c, party, send_form=form),
    )
    if refused:
        return refused
    flash(f"{parties.party_name(h.recipient_organization)}に引き継ぎました。回答期限は"
          f"{format_datetime_jst(h.response_due_at)}です。", "success")
    return redirect(url_for("handovers.show", handover_id=h.id))


def _change_consultation(consultation_id: int, form_class, form_name: str, change, message: str):
    """A form on the consultation's page that changes it (``change(c, data, party)``), then back to that page."""
    party = _party()
    c = _consultation_or_404(consultation_id, party)
    form = form_class()
    _, refused = _attempt(
        form, lambda data: change(c, data, party), partial(_render_consultation, c, party, **{form_name: form}),
    )
    if refused:
        return refused
    flash(message, "success")
    return redirect(url_for("handovers.consultation", consultation_id=c.id))


@bp.post("/handovers/consultations/<int:consultation_id>/consent")
@allow(*PARTIES, tenant=True)
def consent(consultation_id: int):
    return _change_consultation(
        consultation_id, ConsentForm, "consent_form",
        lambda c, data, party: consultations.update_consent(c, data["consent"], data["consent_reason"], party),
        "本人同意の状態を更新しました。",
    )


@bp.post("/handovers/consultations/<int:consultation_id>/close")
@allow(*PARTIES, tenant=True)
def close(consultation_id: int):
    return _change_consultation(
        consultation_id, CloseForm, "close_form",
        lambda c, data, party: consultations.close_consultation(c, data["outcome"], current_user, party),
        "相談を終了しました。",
    )


# ---------------------------------------------------------------------------
# One handover


@dataclass(frozen=True)
class Action:
    service: Callable[..., None]  # (handover, user, party, **the form's fields)
    form: type[FlaskForm]
    message: str
    back_to_consultation: bool = False  # the coordinator chooses another recipient next


ACTIONS = {
    "accept": Action(transitions.accept, ButtonForm, "引継ぎを受け付けました。ご家族への連絡をお願いします。"),
    "decline": Action(transitions.decline, DeclineForm, "引継ぎを辞退しました。送り元に差し戻しました。",
                      back_to_consultation=True),
    "start": Action(transitions.start, ButtonForm, "対応中にしました。"),
    "resolve": Action(transitions.resolve, ResolveForm, "解決にしました。送り元にお知らせしました。"),
    "withdraw": Action(transitions.withdraw, ButtonForm, "引継ぎを取り下げました。", back_to_consultation=True),
}


def _render_handover(h: Handover, party: Party, *, action: str | None = None, form=None, error=None, status=200):
    # The one place a handover (and its consultation's content) is rendered: every display is logged.
    log_access(current_user, party, AccessAction.VIEW, consultation_id=h.consultation_id, handover_id=h.id)
    now = utcnow()
    return render_template(
        "handovers/show.html",
        h=h, c=h.consultation, party=party, now=now,
        is_recipient=parties.is_recipient(h, party), is_sender=parties.is_sender(h, party),
        coordinator=parties.is_coordinator(h.consultation, party),
        overdue=transitions.overdue_by(h, now),
        action_form=ButtonForm(formdata=None),
        decline_form=form if action == "decline" else DeclineForm(formdata=None),
        resolve_form=form if action == "resolve" else ResolveForm(formdata=None),
        steps=transitions.timeline(h), error=error,
        name_of=parties.party_name, person=parties.person_name,
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
    if action not in ACTIONS:
        abort(404)
    chosen = ACTIONS[action]
    form = chosen.form()
    _, refused = _attempt(
        form, lambda data: chosen.service(h, current_user, party, **data),
        partial(_render_handover, h, party, action=action, form=form),
    )
    if refused:
        return refused
    flash(chosen.message, "success")
    if chosen.back_to_consultation and parties.is_coordinator(h.consultation, party):
        return redirect(url_for("handovers.consultation", consultation_id=h.consultation_id))
    return redirect(url_for("handovers.show", handover_id=h.id))


@bp.get("/handovers/<int:handover_id>/slip")
@allow(*PARTIES, tenant=True)
def slip(handover_id: int):
    """The family's slip; first a confirmation step when the consent state or a stale contact asks for one."""
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
        ), INVALID if error else 200
    log_access(current_user, party, AccessAction.PRINT, consultation_id=h.consultation_id, handover_id=h.id)
    return render_template(
        "handovers/slip.html",
        h=h, choice=choice, checks=checks,
        wording=slip_texts.wording_for(h.consultation.consent),
        contact_by=deadlines.family_contact_by(h.response_due_at),
        **slip_texts.names_and_phones(h, choice, contact_ok, current_municipality.name),
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
    page = paginate(access_log_query(consultation_id), 50)
    return render_template(
        "handovers/access_log.html", page=page, consultation_id=consultation_id, name_of=parties.party_name,
    )


@bp.get("/handovers/access-log.csv")
@allow(Role.DESK, tenant=True)
def access_log_csv():
    consultation_id = request.args.get("consultation", type=int)
    body = write_csv(ACCESS_LOG_HEADER, access_log_rows(consultation_id))
    log_access(current_user, parties.DESK, AccessAction.EXPORT, consultation_id=consultation_id)
    return download(body, f"handover-access-log-{today_jst().isoformat()}.csv")
