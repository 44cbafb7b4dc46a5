"""相談と引継ぎ (issue 5): recording, consent, every transition, privacy, deadlines,
escalation, access log, purge, metrics and constant query counts — on both databases."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from flask import g
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.extensions import db
from portal.timeutil import utcnow
from tenants.handovers import daily, metrics, transitions
from tenants.handovers.access_log import ACCESS_LOG_HEADER
from tenants.handovers.models import Consultation, Handover, HandoverAccess, HandoverDay
from tenants.handovers.parties import HandoverError, Party
from tenants.models import Municipality
from tenants.scoping import EVERYTHING, Scope, set_scope
from tests import factories as f
from tests.conftest import arranged, count_queries, logged_in, outbox
from tests.factories import CONSULTATION, SUMMARY
from tests.support.clock import frozen_clock
from tests.support.handovers import M, count, handover_world, load, post, record, send, sent_id


@pytest.fixture
def world(app):
    return handover_world(app)


def daily_rows(app) -> list[tuple]:
    """The dashboard's per-day counts: (municipality, day, sent, answered, on time)."""
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        d = HandoverDay
        stmt = select(d.municipality_id, d.day, d.sent, d.answered, d.on_time).order_by(d.municipality_id, d.day)
        return [tuple(r) for r in db.session.execute(stmt)]


def daily_totals(app) -> tuple[int, int, int]:
    rows = daily_rows(app)
    return tuple(sum(r[i] for r in rows) for i in (2, 3, 4))


# ---------------------------------------------------------------------------
# The done-when flow, through HTTP


def test_desk_to_health_centre_declined_rerouted_resolved(app, world):
    desk = logged_in(app, world.desk)
    cid = record(desk)
    page = desk.get(f"{M}/handovers/consultations/{cid}").get_data(as_text=True)
    assert SUMMARY in page
    assert "山田 花子" in page  # the health centre's primary contact is suggested

    h1 = sent_id(send(desk, cid, str(world.hoken)))
    handover = load(app, Handover, h1)
    assert handover.sender_organization_id is None and handover.recipient_organization_id == world.hoken
    assert handover.response_due_at > handover.sent_at
    assert load(app, Consultation, cid).hop_count == 1

    # The centre's member user sees it in its inbox and declines with a reason.
    hoken = logged_in(app, world.hoken_user)
    inbox = hoken.get(f"{M}/handovers").get_data(as_text=True)
    assert f"引継ぎ #{h1}" in inbox
    assert SUMMARY not in inbox  # lists never show the content
    detail = hoken.get(f"{M}/handovers/{h1}").get_data(as_text=True)
    assert SUMMARY in detail
    response = post(hoken, f"{M}/handovers/{h1}/decline", {"reason": "対象年齢外のため、子育て支援センターが適切です。"})
    assert response.status_code == 302
    assert load(app, Handover, h1).status == "declined"
    assert load(app, Handover, h1).first_response_at is not None

    # Back at the desk: returned, with "whom do I call?" suggestions.
    page = desk.get(f"{M}/handovers/consultations/{cid}").get_data(as_text=True)
    assert "差し戻されました" in page
    assert "対象年齢外のため" in page
    assert 'data-testid="suggestion"' in page
    assert "新座市子育て支援センター" in page
    h2 = sent_id(send(desk, cid, str(world.shien), message="お母さんは午後なら話せます"))

    shien = logged_in(app, world.shien_user)
    assert "お母さんは午後なら話せます" in shien.get(f"{M}/handovers/{h2}").get_data(as_text=True)
    assert post(shien, f"{M}/handovers/{h2}/accept").status_code == 302
    assert post(shien, f"{M}/handovers/{h2}/start").status_code == 302
    assert post(shien, f"{M}/handovers/{h2}/resolve", {"outcome": "面談し、発達相談の予約をとった。"}).status_code == 302

    c = load(app, Consultation, cid)
    assert c.status == "resolved" and c.closed_at is not None
    assert c.hop_count == 2
    assert re.search(r'data-testid="hop-count"[^>]*>2<', desk.get(f"{M}/handovers/consultations/{cid}").get_data(as_text=True))

    # Mail: notices and links, never the family's details.
    mails = outbox(app)
    kinds = [m.kind for m in mails]
    received = {m.to_address for m in mails if m.kind == "handover_received"}
    assert received == {world.hoken_user, world.hoken_user2, world.shien_user}
    assert "handover_declined" in kinds and "handover_resolved" in kinds
    to_hoken = [m for m in mails if m.kind == "handover_received" and m.to_address == world.hoken_user]
    assert to_hoken and f"/m/{f.NIIZA}/handovers/{h1}" in to_hoken[0].body_text
    for m in mails:
        for secret in (SUMMARY[:10], "R8-0012", "平日午後に電話", "対象年齢外", "面談し"):
            assert secret not in m.body_text and secret not in m.subject

    # Every opening is in the access log.
    assert count(app, HandoverAccess, HandoverAccess.consultation_id == cid) >= 4
    log = desk.get(f"{M}/handovers/access-log").get_data(as_text=True)
    assert world.hoken_user in log and world.shien_user in log and world.desk in log


def test_member_organisation_hands_over_to_the_desk(app, world):
    hoken = logged_in(app, world.hoken_user)
    cid = record(hoken, urgency="urgent")
    assert load(app, Consultation, cid).received_by_organization_id == world.hoken
    with frozen_clock(datetime(2026, 11, 24, 7, 0)):  # Tuesday 16:00 JST
        hid = sent_id(send(hoken, cid, "desk"))
    h = load(app, Handover, hid)
    assert h.recipient_organization_id is None and h.sender_organization_id == world.hoken
    # 至急: 3 working hours, 16:00-17:15 on Tuesday and 8:30-10:15 on Wednesday.
    assert h.sent_at == datetime(2026, 11, 24, 7, 0)
    assert h.response_due_at == datetime(2026, 11, 25, 1, 15)  # Wednesday 10:15 JST
    assert {m.to_address for m in outbox(app) if m.kind == "handover_received"} == {world.desk, world.desk2}
    desk = logged_in(app, world.desk)
    assert f"引継ぎ #{hid}" in desk.get(f"{M}/handovers").get_data(as_text=True)
    assert post(desk, f"{M}/handovers/{hid}/accept").status_code == 302
    assert post(desk, f"{M}/handovers/{hid}/resolve", {"outcome": "窓口で対応した"}).status_code == 302
    assert load(app, Consultation, cid).status == "resolved"


# ---------------------------------------------------------------------------
# Consent


def test_no_handover_without_consent(app, world):
    with arranged(app):
        cid = f.consultation(world.desk, consent="not_given").id
    desk = logged_in(app, world.desk)
    page = desk.get(f"{M}/handovers/consultations/{cid}").get_data(as_text=True)
    assert "同意がないため引き継げません" in page
    response = send(desk, cid, str(world.hoken))
    assert response.status_code == 400
    assert "同意がないため引き継げません" in response.get_data(as_text=True)
    assert count(app, Handover) == 0
    assert load(app, Consultation, cid).hop_count == 0

    # "Not required" needs a reason.
    response = post(desk, f"{M}/handovers/consultations/{cid}/consent", {"consent": "not_required"})
    assert response.status_code == 400
    assert "理由" in response.get_data(as_text=True)
    assert load(app, Consultation, cid).consent == "not_given"
    response = post(desk, f"{M}/handovers/consultations/{cid}/consent",
                    {"consent": "not_required", "consent_reason": "身体に複数のあざ。子どもの安全を優先する。"})
    assert response.status_code == 302
    assert sent_id(send(desk, cid, str(world.hoken)))


def test_consent_state_is_required_and_not_required_needs_a_reason(app, world):
    desk = logged_in(app, world.desk)
    response = post(desk, f"{M}/handovers/consultations/new", {**CONSULTATION, "consent": ""})
    assert response.status_code == 400
    assert "本人同意の状態を選んでください" in response.get_data(as_text=True)
    response = post(desk, f"{M}/handovers/consultations/new", {**CONSULTATION, "consent": "not_required"})
    assert response.status_code == 400
    assert "同意不要とする理由" in response.get_data(as_text=True)
    response = post(desk, f"{M}/handovers/consultations/new", {**CONSULTATION, "summary": "  ", "category": "x"})
    assert response.status_code == 400
    assert count(app, Consultation) == 0


def test_bad_recipients_are_refused(app, world):
    with arranged(app):
        cid, own = f.consultation(world.desk).id, f.consultation(world.hoken_user).id
    desk = logged_in(app, world.desk)
    for recipient, message in [
        ("", "引継ぎ先を選んでください"),
        ("desk", "総合支援窓口から総合支援窓口へは引き継げません"),
        (str(world.kawagoe_org), "活動中の構成員から選んでください"),  # another municipality's
        ("999999", "活動中の構成員から選んでください"),
    ]:
        response = send(desk, cid, recipient)
        assert response.status_code == 400, recipient
        assert message in response.get_data(as_text=True)
    assert count(app, Handover) == 0
    hoken = logged_in(app, world.hoken_user)
    response = send(hoken, own, str(world.hoken))
    assert response.status_code == 400
    assert "自分の団体には引き継げません" in response.get_data(as_text=True)


# ---------------------------------------------------------------------------
# The state machine


@pytest.fixture
def sent(app, world):
    """A consultation of the desk's, sent to the health centre; the two parties logged in."""
    with arranged(app):
        c = f.consultation(world.desk)
        cid, hid = c.id, f.handover(c, world.hoken).id
    return SimpleNamespace(desk=logged_in(app, world.desk), cid=cid, hid=hid, hoken=logged_in(app, world.hoken_user))


def test_second_accept_is_told_who_accepted(app, world, sent):
    assert post(sent.hoken, f"{M}/handovers/{sent.hid}/accept").status_code == 302
    other = logged_in(app, world.hoken_user2)
    response = post(other, f"{M}/handovers/{sent.hid}/accept")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "既に" in html and "さんが受け付けました" in html
    with app.app_context():
        name = db.session.scalar(select(User.display_name).where(User.email == world.hoken_user))
    assert name in html


@pytest.mark.parametrize("path,action,data,message", [
    # resolving a declined handover
    (["decline"], "resolve", {"outcome": "x"}, "解決にできません"),
    (["decline"], "accept", {}, "受け付けられません"),
    (["accept"], "decline", {"reason": "x"}, "辞退られません"),
    ([], "start", {}, "対応開始にられません"),
    (["accept", "resolve"], "start", {}, "対応開始にられません"),
    (["accept"], "withdraw", {}, "取り下げられません"),
])
def test_wrong_state_transitions_change_nothing(app, world, sent, path, action, data, message):
    steps = {"decline": {"reason": "対象外"}, "accept": {}, "resolve": {"outcome": "済"}}
    for step in path:
        who = sent.desk if step == "withdraw" else sent.hoken
        assert post(who, f"{M}/handovers/{sent.hid}/{step}", steps[step]).status_code == 302
    before = load(app, Handover, sent.hid)
    who = sent.desk if action == "withdraw" else sent.hoken
    response = post(who, f"{M}/handovers/{sent.hid}/{action}", data)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "現在の状態" in html
    after = load(app, Handover, sent.hid)
    assert (after.status, after.resolved_at, after.declined_at) == (before.status, before.resolved_at, before.declined_at)
    answered = int(bool({"accept", "decline"} & set(path)))
    assert daily_totals(app) == (1, answered, answered)  # a refused transition counts nothing


def test_accept_then_resolve_directly_and_outcome_is_required(app, world, sent):
    assert post(sent.hoken, f"{M}/handovers/{sent.hid}/accept").status_code == 302
    response = post(sent.hoken, f"{M}/handovers/{sent.hid}/resolve", {"outcome": " "})
    assert response.status_code == 400
    assert "対応の結果を書いてください" in response.get_data(as_text=True)
    assert load(app, Handover, sent.hid).status == "accepted"
    assert post(sent.hoken, f"{M}/handovers/{sent.hid}/resolve", {"outcome": "済"}).status_code == 302
    assert load(app, Handover, sent.hid).status == "resolved"


def test_decline_needs_a_reason(app, world, sent):
    response = post(sent.hoken, f"{M}/handovers/{sent.hid}/decline", {"reason": ""})
    assert response.status_code == 400
    assert "辞退の理由を書いてください" in response.get_data(as_text=True)
    assert load(app, Handover, sent.hid).status == "sent"


def test_withdraw_by_the_sender_only(app, world, sent):
    response = post(sent.hoken, f"{M}/handovers/{sent.hid}/withdraw")
    assert response.status_code == 403
    assert load(app, Handover, sent.hid).status == "sent"
    # ... and the sender cannot accept its own handover
    assert post(sent.desk, f"{M}/handovers/{sent.hid}/accept").status_code == 403
    assert post(sent.desk, f"{M}/handovers/{sent.hid}/withdraw").status_code == 302
    h = load(app, Handover, sent.hid)
    assert h.status == "withdrawn" and h.withdrawn_at is not None and h.first_response_at is None
    # Withdrawn: the desk may send again (the bounce count keeps both).
    assert sent_id(send(sent.desk, sent.cid, str(world.shien)))
    assert load(app, Consultation, sent.cid).hop_count == 2


def test_one_active_handover_per_consultation(app, world, sent):
    response = send(sent.desk, sent.cid, str(world.shien))
    assert response.status_code == 409
    assert "既に" in response.get_data(as_text=True)
    assert count(app, Handover) == 1
    assert load(app, Consultation, sent.cid).hop_count == 1


def test_close_without_handover(app, world):
    with arranged(app):
        cid = f.consultation(world.desk).id
    desk = logged_in(app, world.desk)
    assert post(desk, f"{M}/handovers/consultations/{cid}/close", {"outcome": ""}).status_code == 400
    assert post(desk, f"{M}/handovers/consultations/{cid}/close", {"outcome": "窓口で情報提供"}).status_code == 302
    c = load(app, Consultation, cid)
    assert c.status == "closed" and c.closed_at is not None
    response = send(desk, cid, str(world.hoken))
    assert response.status_code == 409


def test_concurrent_accepts_exactly_one_wins(app, world, sent):
    with app.app_context():
        users = {u.email: u.id for u in db.session.scalars(select(User))}
    barrier = threading.Barrier(2)
    results: list[str] = []

    def accept(email):
        with app.test_request_context():
            set_scope(db.session, Scope(municipality_id=world.niiza_id))
            g.municipality = db.session.get(Municipality, world.niiza_id)
            user = db.session.get(User, users[email])
            h = db.session.get(Handover, sent.hid)
            barrier.wait()
            try:
                transitions.accept(h, user, Party(world.hoken))
                db.session.commit()
                results.append("won")
            except HandoverError as e:
                db.session.rollback()
                results.append(e.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=accept, args=(e,)) for e in (world.hoken_user, world.hoken_user2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r == "won" for r in results) == [False, True], results
    assert "さんが受け付けました" in next(r for r in results if r != "won")
    assert load(app, Handover, sent.hid).status == "accepted"
    assert daily_totals(app) == (1, 1, 1)  # answered once, whoever lost


def test_daily_counts_follow_sends_and_first_responses(app, world):
    desk = logged_in(app, world.desk)
    hoken, shien = logged_in(app, world.hoken_user), logged_in(app, world.shien_user)
    first = record(desk)
    h1 = sent_id(send(desk, first, str(world.hoken)))
    assert post(hoken, f"{M}/handovers/{h1}/decline", {"reason": "対象外"}).status_code == 302
    h2 = sent_id(send(desk, first, str(world.shien)))
    assert post(shien, f"{M}/handovers/{h2}/accept").status_code == 302
    assert post(shien, f"{M}/handovers/{h2}/resolve", {"outcome": "済"}).status_code == 302
    second = record(desk)
    h3 = sent_id(send(desk, second, str(world.hoken)))
    assert post(desk, f"{M}/handovers/{h3}/withdraw").status_code == 302  # sent, never answered
    h4 = sent_id(send(desk, second, str(world.shien)))
    with arranged(app):  # its first response will come after the due time
        db.session.get(Handover, h4).response_due_at = utcnow() - timedelta(minutes=1)
    assert post(shien, f"{M}/handovers/{h4}/accept").status_code == 302
    third = record(desk)
    sent_id(send(desk, third, str(world.hoken)))  # still waiting

    assert daily_totals(app) == (5, 3, 2)
    kept = daily_rows(app)
    assert {r[0] for r in kept} == {world.niiza_id}
    with arranged(app):
        daily.rebuild()
    assert daily_rows(app) == kept


# ---------------------------------------------------------------------------
# Privacy


def test_only_the_parties_and_the_desk_can_open(app, world, sent):
    urls = [f"{M}/handovers/{sent.hid}", f"{M}/handovers/{sent.hid}/slip",
            f"{M}/handovers/consultations/{sent.cid}"]
    other = logged_in(app, world.other_user)
    for url in urls:
        assert other.get(url).status_code == 404, url
    assert post(other, f"{M}/handovers/{sent.hid}/accept").status_code == 404
    assert SUMMARY not in other.get(f"{M}/handovers").get_data(as_text=True)
    # The recipient opens the handover, not the coordinator's consultation page.
    assert sent.hoken.get(urls[0]).status_code == 200
    assert sent.hoken.get(urls[2]).status_code == 404
    # A member user whose organisation is gone, another municipality's desk, the prefecture.
    assert logged_in(app, world.orphan_user).get(urls[0]).status_code == 404
    kawagoe = logged_in(app, world.desk_kawagoe)
    assert kawagoe.get(f"/m/{f.KAWAGOE}/handovers/{sent.hid}").status_code == 404
    assert logged_in(app, world.prefecture).get(urls[0]).status_code == 403
    assert logged_in(app, world.admin).get(urls[0]).status_code == 403
    # Nobody refused left a trace of the content, and no refused opening was logged as a view.
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        viewers = set(db.session.scalars(select(HandoverAccess.user_label)))
    assert not any(world.other_user in v or world.desk_kawagoe in v for v in viewers)


def test_access_log_records_each_opening_and_exports_csv(app, world, sent):
    sent.hoken.get(f"{M}/handovers/{sent.hid}")
    sent.hoken.get(f"{M}/handovers/{sent.hid}/slip")
    response = sent.desk.get(f"{M}/handovers/access-log.csv")
    assert response.status_code == 200
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(ACCESS_LOG_HEADER)
    assert world.hoken_user in text and "説明用紙の印刷" in text and "閲覧" in text
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        actions = list(db.session.scalars(select(HandoverAccess.action).order_by(HandoverAccess.id)))
    assert actions[-3:] == ["view", "print", "export"]
    # Member users cannot read the log.
    assert sent.hoken.get(f"{M}/handovers/access-log").status_code == 403


def test_slip_says_who_calls_and_by_when(app, world, sent):
    html = sent.desk.get(f"{M}/handovers/{sent.hid}/slip").get_data(as_text=True)
    assert "新座市保健センター" in html
    assert "山田 花子" in html and "048-477-2222" in html
    assert "令和" in html and "までに" in html
    assert SUMMARY not in html and "R8-0012" not in html


# ---------------------------------------------------------------------------
# Deadlines, overdue and escalation


def _make_overdue(app, hid, hours=1):
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        h = db.session.get(Handover, hid)
        h.response_due_at = utcnow() - timedelta(hours=hours)
        db.session.commit()


def test_overdue_is_highlighted_and_escalated_once(app, world, sent, runner):
    _make_overdue(app, sent.hid)
    html = sent.hoken.get(f"{M}/handovers").get_data(as_text=True)
    assert "ho-row--late" in html and "期限超過" in html
    desk_inbox = sent.desk.get(f"{M}/handovers?box=overdue").get_data(as_text=True)
    assert f"引継ぎ #{sent.hid}" in desk_inbox
    assert 'data-testid="count-overdue-all"' in desk_inbox

    result = runner.invoke(args=["handovers", "escalate"])
    assert result.exit_code == 0, result.output
    assert "1 件" in result.output
    mails = [m for m in outbox(app) if m.kind == "handover_overdue"]
    assert {m.to_address for m in mails} == {world.desk, world.desk2}
    assert f"/m/{f.NIIZA}/handovers?box=overdue" in mails[0].body_text
    assert load(app, Handover, sent.hid).escalated_at is not None
    # Idempotent.
    result = runner.invoke(args=["handovers", "escalate"])
    assert "0 件" in result.output
    assert len([m for m in outbox(app) if m.kind == "handover_overdue"]) == 2
    # An answered handover is never escalated.
    assert post(sent.hoken, f"{M}/handovers/{sent.hid}/accept").status_code == 302
    assert load(app, Handover, sent.hid).answered_late


# ---------------------------------------------------------------------------
# Retention purge


def test_purge_erases_text_of_long_closed_consultations_and_keeps_figures(app, world, runner):
    # --no-vacuum: the rewrite runs as the tables' owner (tests/test_retention.py); this test is the text and figures.
    with arranged(app):
        old, recent, open_ = (f.consultation(world.desk) for _ in range(3))
        h = f.handover(old, world.hoken)
        f.respond(h, "accept", world.hoken_user)
        f.respond(h, "resolve", world.hoken_user, "面談した")
        f.close(recent, "情報提供")
        old.closed_at = utcnow() - timedelta(days=5 * 366)
        old, recent, open_, hid = old.id, recent.id, open_.id, h.id
    desk = logged_in(app, world.desk)
    with app.app_context():
        set_scope(db.session, Scope(municipality_id=world.niiza_id))
        before = metrics.municipality_summary()

    result = runner.invoke(args=["handovers", "purge", "--no-vacuum"])
    assert result.exit_code == 0, result.output
    assert "1 件" in result.output
    c = load(app, Consultation, old)
    assert c.summary is None and c.case_reference is None and c.contact_preference is None
    assert c.purged_at is not None and c.hop_count == 1 and c.category == "development"
    assert load(app, Handover, hid).outcome is None
    for keep in (recent, open_):
        assert load(app, Consultation, keep).summary == SUMMARY
    with app.app_context():
        set_scope(db.session, Scope(municipality_id=world.niiza_id))
        assert metrics.municipality_summary() == before
    assert "消去しました" in desk.get(f"{M}/handovers/consultations/{old}").get_data(as_text=True)
    assert "0 件" in runner.invoke(args=["handovers", "purge", "--no-vacuum"]).output
    assert "0 件" in runner.invoke(args=["handovers", "purge", "--years", "10", "--no-vacuum"]).output


# ---------------------------------------------------------------------------
# Metrics


def test_metrics(app, world):
    t0 = datetime(2026, 11, 24, 1, 0)  # Tuesday 10:00 JST
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        desk_user = db.session.scalar(select(User).where(User.email == world.desk))

        def consultation(hops):
            c = Consultation(municipality_id=world.niiza_id, category="anxiety", urgency="normal", age_band="age0",
                             summary="x", consent="given", status="open", hop_count=hops, created_by_id=desk_user.id)
            db.session.add(c)
            db.session.flush()
            return c

        # Response after 1, 2, 3, 4 and 10 hours; one unanswered and overdue; one withdrawn (ignored).
        for n, (hours, status) in enumerate([(1, "resolved"), (2, "accepted"), (3, "declined"), (4, "resolved"),
                                              (10, "resolved"), (None, "sent"), (None, "withdrawn")]):
            c = consultation(hops=[1, 1, 2, 2, 5, 1, 1][n])
            db.session.add(Handover(
                municipality_id=world.niiza_id, consultation_id=c.id,
                recipient_organization_id=world.hoken if n % 2 == 0 else None,
                status=status, sent_at=t0, response_due_at=t0 + timedelta(hours=5),
                first_response_at=t0 + timedelta(hours=hours) if hours else None,
                response_seconds=hours * 3600 if hours else None,
            ))
        db.session.commit()

    with app.app_context():
        set_scope(db.session, Scope(municipality_id=world.niiza_id))
        s = metrics.municipality_summary(now=t0 + timedelta(days=2))
        assert s.handovers == 6 and s.responded == 5
        assert s.median_hours == pytest.approx(3.0)
        assert s.p90_hours == pytest.approx(7.6)  # between 4 and 10 h
        assert (s.on_time, s.due_or_answered) == (4, 6)
        assert s.resolved == 3 and s.resolved_share == pytest.approx(0.5)
        assert s.overdue_open == 1 and s.declined == 1
        assert s.bounce == {"1": 4, "2": 2, "3": 0, "4+": 1}
        by_org = {r.organization_id: r.stats for r in metrics.by_organization(now=t0 + timedelta(days=2))}
        assert set(by_org) == {None, world.hoken}
        assert by_org[world.hoken].handovers == 3
        assert by_org[world.hoken].median_hours == pytest.approx(3.0)  # 1, 3 and 10 hours: the grouped percentiles

    desk = logged_in(app, world.desk)
    html = desk.get(f"{M}/handovers/metrics").get_data(as_text=True)
    assert "たらい回し指数" in html and "新座市保健センター" in html
    assert logged_in(app, world.hoken_user).get(f"{M}/handovers/metrics").status_code == 403


# ---------------------------------------------------------------------------
# Inbox performance: a constant number of queries


def _bulk(app, world, n):
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        now = utcnow()
        for i in range(n):
            c = Consultation(municipality_id=world.niiza_id, category="anxiety", urgency="normal", age_band="age0",
                             summary="x", consent="given", status="open", hop_count=1)
            db.session.add(c)
            db.session.flush()
            db.session.add(Handover(
                municipality_id=world.niiza_id, consultation_id=c.id,
                sender_organization_id=[None, world.shien][i % 2], recipient_organization_id=[world.hoken, None][i % 2],
                status="sent", sent_at=now - timedelta(minutes=i), response_due_at=now + timedelta(hours=1 - i % 3),
            ))
        db.session.commit()


@pytest.mark.parametrize("email_attr,box", [("desk", "incoming"), ("desk", "outgoing"), ("desk", "overdue"),
                                            ("hoken_user", "incoming"), ("shien_user", "outgoing"),
                                            ("desk", "consultations")])
def test_inbox_query_count_is_constant(app, world, email_attr, box):
    client = logged_in(app, getattr(world, email_attr))
    url = f"{M}/handovers?box={box}"
    _bulk(app, world, 3)
    client.get(url)
    with count_queries(app) as few:
        assert client.get(url).status_code == 200
    _bulk(app, world, 40)
    with count_queries(app) as many:
        assert client.get(url).status_code == 200
    assert len(few) == len(many), (few, many)
    assert len(many) <= 8


def test_home_shows_what_needs_action(app, world, sent):
    html = sent.hoken.get(f"{M}/").get_data(as_text=True)
    assert 'data-testid="handover-home"' in html
    assert 'data-testid="handover-needs-action">1<' in html


def test_an_organisation_with_handovers_cannot_be_deleted_and_nothing_changes(app, world):
    with arranged(app):
        h = f.handover(f.consultation(world.desk), world.hoken).id
    desk = logged_in(app, world.desk)
    path = f"{M}/members/{world.hoken}/delete"
    page = desk.get(path).get_data(as_text=True)
    assert "削除できません" in page and "引継ぎ・相談の記録が 1 件" in page

    response = post(desk, path)
    assert response.status_code == 409
    assert "記録と統計を残すため、削除できません" in response.get_data(as_text=True)
    assert count(app, Handover, Handover.id == h) == 1
    assert load(app, Handover, h).recipient_organization_id == world.hoken

    # An organisation without any handover is still deleted as before.
    assert post(desk, f"{M}/members/{world.other}/delete").status_code == 302


# ---------------------------------------------------------------------------
# Every display of a consultation's content is logged, refusals too (issue 11)


def _logged(app, cid, email) -> int:
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        user_id = db.session.scalar(select(User.id).where(User.email == email))
        return db.session.scalar(select(func.count(HandoverAccess.id)).where(
            HandoverAccess.consultation_id == cid, HandoverAccess.user_id == user_id,
            HandoverAccess.action == "view"))


REFUSALS = {
    # name: (who, steps before as (who, url suffix, data), url suffix, data, status)
    "consent=zzz": ("desk", [], "consultation/consent", {"consent": "zzz"}, 400),
    "close without an outcome": ("desk", [], "consultation/close", {"outcome": ""}, 400),
    "send while a handover is active": ("desk", [], "consultation/send", {"recipient": "shien"}, 409),
    "accept by the wrong party": ("desk", [], "handover/accept", {}, 403),
    "decline without a reason": ("hoken", [], "handover/decline", {"reason": ""}, 400),
    "resolve before accept": ("hoken", [], "handover/resolve", {"outcome": "済"}, 409),
    "withdraw twice": ("desk", [("desk", "handover/withdraw", {})], "handover/withdraw", {}, 409),
}


@pytest.mark.parametrize("refusal", list(REFUSALS))
def test_refused_post_showing_the_consultation_is_logged(app, world, sent, refusal):
    who, before, suffix, data, status = REFUSALS[refusal]
    clients = {"desk": (sent.desk, world.desk), "hoken": (sent.hoken, world.hoken_user)}

    def url(s):
        kind, action = s.split("/")
        base = f"{M}/handovers/consultations/{sent.cid}" if kind == "consultation" else f"{M}/handovers/{sent.hid}"
        return f"{base}/{action}"

    for step_who, step, step_data in before:
        assert post(clients[step_who][0], url(step), step_data).status_code == 302
    if data.get("recipient") == "shien":
        data = {"recipient": str(world.shien)}
    client, email = clients[who]
    logged_before = _logged(app, sent.cid, email)
    response = post(client, url(suffix), data)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    # The refusal shows the consultation again (content, 受付番号, 連絡方法) ...
    assert SUMMARY in html and "平日午後に電話" in html
    # ... and that display is in the access log although the request rolled back.
    assert _logged(app, sent.cid, email) == logged_before + 1


def test_a_refusal_still_rolls_back_everything_but_the_log(app, world, sent):
    before = load(app, Consultation, sent.cid)
    response = post(sent.desk, f"{M}/handovers/consultations/{sent.cid}/consent", {"consent": "zzz"})
    assert response.status_code == 400
    after = load(app, Consultation, sent.cid)
    assert (after.consent, after.consent_reason) == (before.consent, before.consent_reason)
    assert count(app, Handover) == 1
