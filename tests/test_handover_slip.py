"""The family's slip and whom it names (issue 12, items 1 and 2): wording per consent
state, the desk's confirmation before printing, the municipality in the desk's name,
and the freshest contact — on both databases."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.timeutil import today_jst
from tenants.handovers.contacts import NONE_FRESH_NOTE, choose_contact
from tenants.handovers.models import Handover, HandoverAccess
from tenants.handovers.slip import WORDING
from tenants.members.freshness import Freshness
from tenants.members.models import Contact
from tenants.scoping import EVERYTHING, Scope, set_scope
from tests import factories as f
from tests.conftest import arranged, logged_in
from tests.support.handovers import M, handover_world, load, post, send, sent_id


@pytest.fixture
def world(app):
    """The handover tests' municipality: desk, 保健センター, 子育て支援センター and their users."""
    return handover_world(app)


LONG_AGO = date(2020, 4, 1)


def slip_article(html: str) -> str:
    """The printed part of the page only (what the family reads)."""
    m = re.search(r'<article class="ho-slip".*?</article>', html, re.DOTALL)
    assert m, "no slip on the page"
    return m.group(0)


def prints(app) -> int:
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        return len(db.session.scalars(select(HandoverAccess).where(HandoverAccess.action == "print")).all())


def handover_for(app, world, **consultation):
    """The desk, logged in, and a consultation of its own sent to the health centre (ids)."""
    with arranged(app):
        c = f.consultation(world.desk, **consultation)
        cid, hid = c.id, f.handover(c, world.hoken).id
    return logged_in(app, world.desk), cid, hid


# ---------------------------------------------------------------------------
# Consent states


def test_given_consent_slip_says_so_and_names_the_desk_with_its_municipality(app, world):
    desk, _, hid = handover_for(app, world)
    response = desk.get(f"{M}/handovers/{hid}/slip")
    assert response.status_code == 200
    slip = slip_article(response.get_data(as_text=True))
    assert WORDING["given"].note in slip
    assert "おつなぎした窓口: 新座市 総合支援窓口" in slip
    assert "「新座市 総合支援窓口から紹介された」" in slip
    assert prints(app) == 1


def test_not_required_consent_warns_the_desk_before_the_slip_and_never_claims_consent(app, world):
    desk, _, hid = handover_for(app, world, consent="not_required", consent_reason="身体に複数のあざ。安全確認が急がれる。")
    first = desk.get(f"{M}/handovers/{hid}/slip")
    html = first.get_data(as_text=True)
    assert first.status_code == 200
    assert 'data-testid="slip"' not in html  # the interstitial, not the slip
    assert "受け取ってよい人とは限りません" in html and "確認して印刷" in html
    assert "身体に複数のあざ" in html  # the reason, for the desk
    assert prints(app) == 0

    unticked = desk.get(f"{M}/handovers/{hid}/slip?checked=1")
    assert unticked.status_code == 400
    assert 'data-testid="error-summary"' in unticked.get_data(as_text=True)
    assert 'data-testid="slip"' not in unticked.get_data(as_text=True)
    assert prints(app) == 0

    confirmed = desk.get(f"{M}/handovers/{hid}/slip?checked=1&consent_ok=1")
    assert confirmed.status_code == 200
    slip = slip_article(confirmed.get_data(as_text=True))
    assert "同意" not in slip
    assert "あざ" not in slip
    assert WORDING["not_required"].note in slip and WORDING["not_required"].title in slip
    assert prints(app) == 1


def test_the_handover_page_says_the_slip_asks_for_a_check_when_consent_is_not_given(app, world):
    desk, _, hid = handover_for(app, world, consent="not_required", consent_reason="安全確認が必要")
    assert 'data-testid="slip-caution"' in desk.get(f"{M}/handovers/{hid}").get_data(as_text=True)
    desk2, _, hid2 = handover_for(app, world)
    assert 'data-testid="slip-caution"' not in desk2.get(f"{M}/handovers/{hid2}").get_data(as_text=True)


def test_consent_withdrawn_after_sending_gives_a_slip_without_a_consent_claim(app, world):
    desk, cid, hid = handover_for(app, world)
    response = post(desk, f"{M}/handovers/consultations/{cid}/consent", {"consent": "not_given", "consent_reason": ""})
    assert response.status_code == 302
    assert desk.get(f"{M}/handovers/{hid}/slip").status_code == 200
    assert 'data-testid="slip"' not in desk.get(f"{M}/handovers/{hid}/slip").get_data(as_text=True)
    slip = slip_article(desk.get(f"{M}/handovers/{hid}/slip?checked=1&consent_ok=1").get_data(as_text=True))
    assert "同意" not in slip


def test_every_consent_state_has_wording_and_only_given_claims_consent():
    assert set(WORDING) == {"given", "not_given", "not_required"}
    for state, w in WORDING.items():
        claims = "同意" in (w.title + w.lead + w.note)
        assert claims == (state == "given"), state
        assert bool(w.desk_warning) == (state != "given") == bool(w.confirm_label)


def test_a_desk_record_named_without_the_municipality_gets_it(app, world):
    from tenants.network.models import Desk

    with arranged(app):
        db.session.add(Desk(municipality_id=world.niiza_id, name="こども家庭センター", phone="048-477-0000"))
    desk, _, hid = handover_for(app, world)
    slip = slip_article(desk.get(f"{M}/handovers/{hid}/slip").get_data(as_text=True))
    assert "おつなぎした窓口: 新座市 こども家庭センター（電話 048-477-0000）" in slip


# ---------------------------------------------------------------------------
# Whom the slip and the send panel name


def _contact(name, *, primary=False, confirmed=None, id_=1):
    return Contact(id=id_, name=name, is_primary=primary, last_confirmed_on=confirmed)


def test_choose_contact_prefers_a_fresh_primary_then_the_most_recently_confirmed():
    today = date(2026, 12, 1)
    fresh, recent, old = today - timedelta(days=30), today - timedelta(days=200), LONG_AGO
    primary = _contact("主担当", primary=True, confirmed=fresh, id_=1)
    other = _contact("副担当", confirmed=today, id_=2)
    assert choose_contact([other, primary], today).contact is primary
    assert choose_contact([other, primary], today).note == ""

    stale_primary = _contact("主担当", primary=True, confirmed=old, id_=1)
    older = _contact("古い人", confirmed=recent, id_=3)
    choice = choose_contact([stale_primary, older, other], today)
    assert choice.contact is other and choice.is_fresh
    assert "主担当の主担当さんは12か月以上未確認" in choice.note

    nobody_fresh = choose_contact([stale_primary, _contact("未確認", id_=4)], today)
    assert nobody_fresh.contact is stale_primary
    assert nobody_fresh.freshness is Freshness.STALE and not nobody_fresh.is_fresh
    assert nobody_fresh.note == NONE_FRESH_NOTE

    assert choose_contact([], today).contact is None


def test_send_panel_names_the_fresh_contact_and_says_when_nobody_is_fresh(app, world):
    with arranged(app):
        from tenants.members.models import MemberOrganization

        set_scope(db.session, Scope(municipality_id=world.niiza_id))
        hoken = db.session.get(MemberOrganization, world.hoken)
        primary = db.session.scalar(select(Contact).where(Contact.organization_id == hoken.id))
        primary.last_confirmed_on = LONG_AGO
        f.contact(hoken, "鈴木 次郎", phone="048-477-3333")
        shien = db.session.get(MemberOrganization, world.shien)
        for c in shien.contacts:
            c.last_confirmed_on = LONG_AGO
        cid = f.consultation(world.desk).id
    desk = logged_in(app, world.desk)
    html = desk.get(f"{M}/handovers/consultations/{cid}").get_data(as_text=True)
    hoken_card = re.search(rf'data-recipient="{world.hoken}".*?</div>', html, re.DOTALL).group(0)
    assert "鈴木 次郎" in hoken_card and "山田 花子さんは12か月以上未確認" in hoken_card
    shien_card = re.search(rf'data-recipient="{world.shien}".*?</div>', html, re.DOTALL).group(0)
    assert NONE_FRESH_NOTE in shien_card and "12か月以上未確認" in shien_card
    assert "主担当が12か月以内に確認済みならその人" in html
    # Sending without choosing names the fresh person on the handover.
    hid = sent_id(send(desk, cid, str(world.hoken)))
    assert load(app, Contact, load(app, Handover, hid).recipient_contact_id).name == "鈴木 次郎"


def _age_contacts(app, world, org_id, when):
    with arranged(app):
        set_scope(db.session, Scope(municipality_id=world.niiza_id))
        for c in db.session.scalars(select(Contact).where(Contact.organization_id == org_id)):
            c.last_confirmed_on = when


def test_a_stale_contact_is_printed_only_after_the_desk_confirms(app, world):
    desk, _, hid = handover_for(app, world)
    _age_contacts(app, world, world.hoken, LONG_AGO)
    check = desk.get(f"{M}/handovers/{hid}/slip").get_data(as_text=True)
    assert 'data-testid="slip-stale-warning"' in check and "山田 花子" in check
    assert 'data-testid="slip"' not in check

    without = slip_article(desk.get(f"{M}/handovers/{hid}/slip?checked=1").get_data(as_text=True))
    assert "山田 花子" not in without and "048-477-2222" not in without
    assert "窓口の担当者" in without and "048-477-1111" in without  # the organisation's number

    confirmed = slip_article(desk.get(f"{M}/handovers/{hid}/slip?checked=1&contact_ok=1").get_data(as_text=True))
    assert "山田 花子" in confirmed and "048-477-2222" in confirmed


def test_the_slip_names_a_fresher_contact_when_the_one_on_the_handover_went_stale(app, world):
    desk, _, hid = handover_for(app, world)
    _age_contacts(app, world, world.hoken, LONG_AGO)
    with arranged(app):
        from tenants.members.models import MemberOrganization

        set_scope(db.session, Scope(municipality_id=world.niiza_id))
        f.contact(db.session.get(MemberOrganization, world.hoken), "鈴木 次郎", phone="048-477-3333",
                  confirmed=today_jst())
    html = desk.get(f"{M}/handovers/{hid}/slip").get_data(as_text=True)
    slip = slip_article(html)  # no check needed: someone fresh is on it
    assert "鈴木 次郎" in slip and "048-477-3333" in slip and "山田 花子" not in slip
    assert "引継ぎ時の担当者 山田 花子 さんは12か月以上未確認" in html


def test_suggestions_call_a_contact_primary_only_when_it_is(app, world):
    with arranged(app):
        from tenants.members.models import MemberOrganization

        niiza_org = db.session.get(MemberOrganization, world.other)
        niiza_org.consultation_tags = ["発達相談"]
        # The first contact is made primary by the service; this organisation has none marked.
        f.contact(niiza_org, "高橋 一郎", phone="048-477-7777").is_primary = False
        from tenants.members.services import refresh_search_text

        refresh_search_text(niiza_org)
        cid = f.consultation(world.desk).id
    desk = logged_in(app, world.desk)
    html = desk.get(f"{M}/handovers/consultations/{cid}").get_data(as_text=True)
    suggestions = re.search(r'data-testid="suggestions".*?</section>', html, re.DOTALL).group(0)
    assert "担当: 高橋 一郎" in suggestions and "主担当: 高橋 一郎" not in suggestions
    assert "主担当: 山田 花子" in suggestions
