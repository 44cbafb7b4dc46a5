"""登録制度: the public application, its e-mails and flood limits, the desk's review."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.accounts.models import Role, User
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.mail.worker import deliver_due
from portal.timeutil import today_jst, utcnow
from tenants.core.audit import AuditEntry
from tenants.members.models import Contact, MemberOrganization
from tenants.registration.models import Registration
from tenants.registration.services import address_key
from tenants.scoping import EVERYTHING, set_scope
from tests import factories as f
from tests.conftest import arranged, count_queries, csrf_token, login, outbox

JOIN = "/m/112305/join"
QUEUE = "/m/112305/registrations"
FLOOD = "短時間に多くの申請があったため、受け付けを一時停止しています。時間をおいてお試しください。"

VALID = {
    "org_name": "NPO法人 子育てひだまり",
    "org_name_kana": "コソダテヒダマリ",
    "category": "npo",
    "consultation_tags": ["育児不安", "仲間づくり"],
    "info_offered": "子育てサロンの日程\n講座のお知らせ",
    "postal_code": "３５２８６２３",
    "address": "新座市野火止一丁目1番1号",
    "phone": "048-477-1112",
    "email": "info@hidamari.example.jp",
    "website": "https://hidamari.example.jp/",
    "public_consent": "y",
    "contact_name": "架空 美咲",
    "contact_name_kana": "かくう みさき",
    "contact_title": "事務局長",
    "contact_phone": "048-999-0002",
    "contact_email": "Misaki@Hidamari.example.jp",
    "terms_accepted": "y",
}


@pytest.fixture
def niiza(app):
    with arranged(app):
        m = f.municipality(f.NIIZA)
        other = f.municipality(f.KAWAGOE)
        f.network(m, "新座市子育てネットワーク推進委員会")
        f.network(other)
        org = f.organization(m, "新座市保健センター", "hoken_center")
        other_org = f.organization(other, "川越市保健センター", "hoken_center")
        desk = f.user(Role.DESK, m)
        return {
            "desk": desk.email,
            "second_desk": f.user(Role.DESK, m).email,
            "other_desk": f.user(Role.DESK, other).email,
            "member": f.user(Role.MEMBER, m, organization_=org).email,
            "prefecture": f.user(Role.PREFECTURE).email,
            "org_id": org.id,
            "other_org_id": other_org.id,
        }


# --- helpers ----------------------------------------------------------------------


def apply(client, path: str = JOIN, remote: str | None = None, **overrides):
    data = {**VALID, **overrides}
    data = {k: v for k, v in data.items() if v is not None}
    environ = {"REMOTE_ADDR": remote} if remote else {}
    token = csrf_token(client)
    return client.post(path, data={**data, "csrf_token": token}, environ_base=environ)


def post(client, path: str, data: dict | None = None):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client)})


def registrations(app) -> list[Registration]:
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        rows = db.session.scalars(select(Registration).order_by(Registration.id)).all()
        db.session.expunge_all()
        return rows


def counts(app) -> tuple[int, ...]:
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Registration, MemberOrganization, Contact, User, OutboxMessage, AuditEntry)
        )


def only_registration_id(app) -> int:
    [r] = registrations(app)
    return r.id


# --- the public form --------------------------------------------------------------


def test_join_page_is_public_shows_the_network_and_no_staff_menu(client, niiza):
    response = client.get(JOIN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "新座市" in html and "新座市子育てネットワーク推進委員会への参加申請" in html
    assert "参加にあたっての約束" in html and "電子メールで送りません" in html
    assert 'name="terms_accepted"' in html
    assert "local-nav" not in html  # a public page: no municipality menu
    # Logged in, the page still has no staff menu.
    login(client, niiza["desk"])
    assert "local-nav" not in client.get(JOIN).get_data(as_text=True)


def test_join_page_of_an_unknown_municipality_is_404(client, niiza):
    assert client.get("/m/999991/join").status_code == 404
    assert client.get("/m/999991/join/thanks").status_code == 404


def test_application_is_stored_normalised_and_both_mails_are_queued(app, client, niiza):
    response = apply(client)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/m/112305/join/thanks")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "申請を受け付けました" in html and "総合支援窓口" in html and "メール" in html

    [r] = registrations(app)
    assert r.status == "submitted"
    assert r.org_name == "NPO法人 子育てひだまり" and r.org_name_kana == "こそだてひだまり"
    assert r.postal_code == "352-8623" and r.contact_email == "misaki@hidamari.example.jp"
    assert r.consultation_tags == ["育児不安", "仲間づくり"] and r.public_consent is True
    assert r.info_offered == "子育てサロンの日程\n講座のお知らせ"
    assert r.applicant_address == "127.0.0.1" and r.terms_accepted_at is not None

    [received] = outbox(app, "application_received")
    assert received.to_address == "misaki@hidamari.example.jp"
    assert received.subject == "新座市 子育て支援ネットワークへの登録申請を受け付けました"
    assert "NPO法人 子育てひだまり" in received.body_text
    for private in ("048-999-0002", "架空 美咲", "野火止", "事務局長", "048-477-1112", "サロン"):
        assert private not in received.body_text, private

    to_review = outbox(app, "application_to_review")
    assert sorted(m.to_address for m in to_review) == sorted([niiza["desk"], niiza["second_desk"]])
    for m in to_review:
        assert "http://127.0.0.1:5000/m/112305/registrations" in m.body_text
        for private in ("ひだまり", "misaki", "架空", "048-"):
            assert private not in m.body_text and private not in m.subject
    assert niiza["other_desk"] not in [m.to_address for m in outbox(app)]


def test_confirmation_arrives_over_real_smtp_with_a_japanese_subject(app, client, niiza, smtp):
    assert apply(client, org_name="<script>alert(1)</script> ひろば").status_code == 302
    with app.app_context():
        result = deliver_due()
    assert result.sent == 3  # the applicant and two desk users
    mails = [smtp.handler.parsed(i) for i in range(len(smtp.received))]
    [confirmation] = [m for m in mails if m["To"] == "misaki@hidamari.example.jp"]
    assert confirmation["Subject"] == "新座市 子育て支援ネットワークへの登録申請を受け付けました"
    assert confirmation.get_content_type() == "text/plain"
    body = confirmation.get_body().get_content()
    assert "<script>alert(1)</script> ひろば" in body  # plain text: the name as typed, not HTML
    assert "&lt;" not in body and "048-999-0002" not in body


def test_missing_csrf_token_is_400_and_stores_nothing(app, client, niiza):
    before = counts(app)
    response = client.post(JOIN, data=VALID)
    assert response.status_code == 400
    assert "送信を受け付けられませんでした" in response.get_data(as_text=True)
    assert counts(app) == before


@pytest.mark.parametrize(
    "overrides,field_message",
    [
        ({"org_name": "あ" * 121}, "120文字以内で入力してください"),
        ({"org_name": "  "}, "入力してください"),
        ({"org_name_kana": "か" * 201}, "200文字以内で入力してください"),
        ({"address": "町" * 201}, "200文字以内で入力してください"),
        ({"contact_name": "名" * 101}, "100文字以内で入力してください"),
        ({"contact_title": "係" * 121}, "120文字以内で入力してください"),
        ({"info_offered": "情" * 1001}, "1000文字以内で入力してください"),
        ({"contact_name": ""}, "入力してください"),
        ({"contact_email": ""}, "メールアドレスを入力してください"),
        ({"contact_email": "not-an-email"}, "メールアドレス「not-an-email」の形式が正しくありません"),
        ({"contact_phone": "123"}, "電話番号「123」は正しい番号ではありません"),
        ({"phone": "0000"}, "電話番号「0000」"),
        ({"postal_code": "35286"}, "郵便番号「35286」は7桁の数字で入力してください"),
        ({"website": "javascript:alert(1)"}, "http:// または https:// で始まるURL"),
        ({"org_name_kana": "漢字"}, "ひらがなかカタカナで入力してください"),
        ({"contact_name_kana": "<b>"}, "ひらがなかカタカナで入力してください"),
        ({"category": ""}, "区分を選んでください"),
        ({"category": "unknown"}, "区分「unknown」は登録されていません"),
        ({"consultation_tags": ["宇宙旅行"]}, "対応できる相談「宇宙旅行」は一覧にありません"),
        ({"terms_accepted": None}, "参加にあたっての約束を確認し、同意してください"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_stored(app, client, niiza, overrides, field_message):
    before = counts(app)
    response = apply(client, **overrides)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_message in html
    assert "入力内容に誤りがあります" in html
    assert counts(app) == before


def test_bad_input_keeps_what_was_typed_escaped(client, niiza):
    response = apply(client, org_name='"><script>alert(1)</script>', contact_phone="123")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_script_in_the_name_is_stored_as_text_and_escaped_on_every_page(app, client, niiza):
    name = "<script>alert(1)</script>"
    assert apply(client, org_name=name, info_offered="<img src=x onerror=alert(2)>").status_code == 302
    [r] = registrations(app)
    assert r.org_name == name
    [mail] = outbox(app, "application_received")
    assert f"申請した団体: {name}\n" in mail.body_text
    login(client, niiza["desk"])
    for path in (QUEUE, f"{QUEUE}/{r.id}"):
        html = client.get(path).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
        assert "<script>alert(1)" not in html and "<img src=x" not in html, path
    # Approved, the name stays text in the member list and the audit trail too.
    assert post(client, f"{QUEUE}/{r.id}/approve").status_code == 302
    for path in ("/m/112305/members", "/m/112305/audit"):
        html = client.get(path).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html, path


def test_line_breaks_typed_into_one_line_fields_do_not_reach_the_mail(app, client, niiza):
    assert apply(client, org_name="ひだまり\r\nBcc: victim@example.jp").status_code == 302
    [r] = registrations(app)
    assert "\n" not in r.org_name and "\r" not in r.org_name
    [mail] = outbox(app, "application_received")
    assert "申請した団体: ひだまり Bcc: victim@example.jp\n" in mail.body_text


# --- flood limits -----------------------------------------------------------------


def test_sixth_application_from_one_address_is_429_and_stores_nothing(app, client, niiza):
    for i in range(5):
        response = apply(client, remote="198.51.100.7", org_name=f"団体{i}", contact_email=f"a{i}@example.jp")
        assert response.status_code == 302, i
    before = counts(app)
    response = apply(client, remote="198.51.100.7", org_name="六番目の団体", contact_email="a6@example.jp")
    assert response.status_code == 429
    assert FLOOD in response.get_data(as_text=True)
    assert counts(app) == before
    # Another address is not held up.
    assert apply(client, remote="198.51.100.8", org_name="別の団体", contact_email="b@example.jp").status_code == 302


def test_the_address_limit_counts_only_the_last_24_hours(app, client, niiza):
    with arranged(app) as session:
        m = f.municipality(f.NIIZA)
        for _ in range(5):
            f.registration(m, applicant_address="198.51.100.9", submitted_at=utcnow() - timedelta(hours=25))
    assert apply(client, remote="198.51.100.9").status_code == 302
    with arranged(app) as session:
        session.execute(update(Registration).values(submitted_at=utcnow() - timedelta(hours=23)))
    assert apply(client, remote="198.51.100.9", org_name="もう一件", contact_email="x@example.jp").status_code == 429


def test_one_recipient_cannot_be_flooded_from_many_addresses(app, client, niiza):
    for i in range(5):
        assert apply(client, remote=f"203.0.113.{i + 1}", org_name=f"団体{i}").status_code == 302
    response = apply(client, remote="203.0.113.99", org_name="団体6")
    assert response.status_code == 429
    assert len(registrations(app)) == 5


def test_municipality_wide_hourly_cap(app, client, niiza):
    app.config["REGISTRATION_MAX_PER_HOUR"] = 3
    for i in range(3):
        assert apply(client, remote=f"192.0.2.{i + 10}", org_name=f"団体{i}",
                     contact_email=f"c{i}@example.jp").status_code == 302
    response = apply(client, remote="192.0.2.50", org_name="団体X", contact_email="cx@example.jp")
    assert response.status_code == 429 and FLOOD in response.get_data(as_text=True)
    # Another municipality has its own cap.
    assert apply(client, path="/m/112011/join", remote="192.0.2.51", contact_email="k@example.jp").status_code == 302


def test_one_sender_is_limited_across_every_municipality(app, client, niiza):
    # Issue 11: 7 applications to each of 3 municipalities from one address gave 15.
    with arranged(app):
        f.network(f.municipality(f.SAITAMA))
    accepted = 0
    for code in (f.NIIZA, f.KAWAGOE, f.SAITAMA):
        for i in range(7):
            response = apply(client, path=f"/m/{code}/join", remote="198.51.100.70",
                             org_name=f"団体{code}-{i}", contact_email=f"s{code}-{i}@example.jp")
            assert response.status_code in (302, 429), response.status_code
            accepted += response.status_code == 302
    assert accepted == 5
    assert len(registrations(app)) == 5
    assert len(outbox(app, "application_received")) == 5


def test_one_recipient_is_limited_across_every_municipality(app, client, niiza):
    with arranged(app):
        f.network(f.municipality(f.SAITAMA))
    statuses = [
        apply(client, path=f"/m/{code}/join", remote=f"203.0.113.{10 * n + i}", org_name=f"団体{code}-{i}").status_code
        for n, code in enumerate((f.NIIZA, f.KAWAGOE, f.SAITAMA))
        for i in range(3)
    ]
    assert statuses.count(302) == 5 and statuses.count(429) == 4
    assert len(outbox(app, "application_received")) == 5


def test_ipv6_senders_are_counted_per_64_network():
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key("192.0.2.1") == "192.0.2.1"


# --- the desk's review ------------------------------------------------------------


def test_desk_approves_organisation_contact_member_user_and_invitation(app, client, niiza):
    assert apply(client).status_code == 302
    reg_id = only_registration_id(app)
    login(client, niiza["desk"])
    home = client.get("/m/112305/").get_data(as_text=True)
    assert "登録申請" in home and QUEUE in home  # the menu entry
    html = client.get(QUEUE).get_data(as_text=True)
    assert "NPO法人 子育てひだまり" in html and f"{QUEUE}/{reg_id}" in html
    assert re.search(r'data-testid="count-submitted">1<', html)
    assert "http://127.0.0.1:5000/m/112305/join" in html
    html = client.get(f"{QUEUE}/{reg_id}").get_data(as_text=True)
    for shown in ("架空 美咲", "048-999-0002", "misaki@hidamari.example.jp", "子育てサロンの日程", "352-8623"):
        assert shown in html, shown
    assert "重複の可能性" not in html

    response = post(client, f"{QUEUE}/{reg_id}/approve")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "承認し、構成員に登録しました" in html and "承認済み" in html

    with app.app_context():
        set_scope(db.session, EVERYTHING)
        org = db.session.scalar(select(MemberOrganization).where(MemberOrganization.name == "NPO法人 子育てひだまり"))
        assert org.status == "active" and org.joined_on == today_jst() and org.category == "npo"
        assert org.consultation_tags == ["育児不安", "仲間づくり"] and org.public_consent is True
        assert org.phone == "048-477-1112" and org.postal_code == "352-8623"
        [contact] = org.contacts
        assert contact.name == "架空 美咲" and contact.is_primary and contact.last_confirmed_on == today_jst()
        assert contact.email == "misaki@hidamari.example.jp" and contact.phone == "048-999-0002"
        user = db.session.scalar(select(User).where(User.email == "misaki@hidamari.example.jp"))
        assert user.role == "member" and user.member_organization_id == org.id
        assert user.municipality.code == "112305" and user.password_hash is None
        assert user.display_name == "架空 美咲"
        r = db.session.get(Registration, reg_id)
        assert r.status == "approved" and r.organization_id == org.id and r.reviewed_at is not None
        assert r.reviewed_by.email == niiza["desk"]

    [invitation] = outbox(app, "invitation")
    assert invitation.to_address == "misaki@hidamari.example.jp"
    setup = re.search(r"http://127\.0\.0\.1:5000(/account/setup/\S+)", invitation.body_text)
    assert setup, invitation.body_text
    assert "NPO法人 子育てひだまり" in invitation.body_text

    html = client.get("/m/112305/audit?entity=registration").get_data(as_text=True)
    assert "登録申請" in html and "承認" in html and "NPO法人 子育てひだまり" in html
    assert "misaki@hidamari.example.jp" in html
    html = client.get("/m/112305/audit?entity=organization").get_data(as_text=True)
    assert "NPO法人 子育てひだまり" in html

    # Deciding twice is refused and changes nothing.
    before = counts(app)
    for action in ("approve", "decline"):
        response = post(client, f"{QUEUE}/{reg_id}/{action}", {"reason": "重複"})
        assert response.status_code == 409, action
        assert "既に「承認済み」になっています" in response.get_data(as_text=True)
    assert counts(app) == before

    # The invitation works: the contact sets a password and is a member of the new organisation.
    anonymous = app.test_client()
    assert anonymous.get(setup.group(1)).status_code == 200


def test_decline_emails_the_reason_as_plain_text(app, client, niiza):
    assert apply(client).status_code == 302
    reg_id = only_registration_id(app)
    login(client, niiza["desk"])
    before = counts(app)
    reason = "対象地域外のため（<b>市外</b>の団体です）。\n詳しくは窓口へ。"
    response = post(client, f"{QUEUE}/{reg_id}/decline", {"reason": reason})
    assert response.status_code == 302
    html = client.get(f"{QUEUE}/{reg_id}").get_data(as_text=True)
    assert "お断り" in html and "&lt;b&gt;市外&lt;/b&gt;" in html and "<b>市外</b>" not in html

    [mail] = outbox(app, "application_declined")
    assert mail.to_address == "misaki@hidamari.example.jp"
    assert mail.subject == "新座市 子育て支援ネットワークへの登録申請について"
    assert "対象地域外のため（<b>市外</b>の団体です）。\n詳しくは窓口へ。" in mail.body_text
    assert "NPO法人 子育てひだまり" in mail.body_text and "048-999-0002" not in mail.body_text

    r = registrations(app)[0]
    assert r.status == "declined" and r.decline_reason.startswith("対象地域外")
    orgs, contacts, users = counts(app)[1:4]
    assert (orgs, contacts, users) == before[1:4]  # nothing created
    html = client.get("/m/112305/audit?entity=registration").get_data(as_text=True)
    assert "お断り" in html and "対象地域外" in html
    assert post(client, f"{QUEUE}/{reg_id}/approve").status_code == 409
    assert registrations(app)[0].status == "declined"


@pytest.mark.parametrize("reason,message", [
    ("", "お断りする理由を入力してください"),
    ("   \n ", "お断りする理由を入力してください"),
    ("理" * 1001, "1000文字以内で入力してください"),
])
def test_decline_needs_a_reason_of_bounded_length(app, client, niiza, reason, message):
    with arranged(app):
        reg_id = f.registration(f.municipality(f.NIIZA)).id
    login(client, niiza["desk"])
    before = counts(app)
    response = post(client, f"{QUEUE}/{reg_id}/decline", {"reason": reason})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert counts(app) == before
    assert registrations(app)[0].status == "submitted"


def test_an_existing_organisation_is_flagged_and_blocks_approval(app, client, niiza):
    assert apply(client, org_name="新座市　保健センター").status_code == 302  # folds to the existing name
    reg_id = only_registration_id(app)
    login(client, niiza["desk"])
    assert "重複の可能性" in client.get(QUEUE).get_data(as_text=True)
    html = client.get(f"{QUEUE}/{reg_id}").get_data(as_text=True)
    assert "同じ名称の構成員「" in html and f'/m/112305/members/{niiza["org_id"]}"' in html
    assert f"{QUEUE}/{reg_id}/approve" not in html  # no approve button
    before = counts(app)
    response = post(client, f"{QUEUE}/{reg_id}/approve")
    assert response.status_code == 409
    assert "「新座市保健センター」は既に構成員として登録されているため、承認できません" in response.get_data(as_text=True)
    assert counts(app) == before
    assert registrations(app)[0].status == "submitted"
    # The desk declines it instead.
    assert post(client, f"{QUEUE}/{reg_id}/decline", {"reason": "既に登録済みです。"}).status_code == 302


def test_a_pending_twin_is_flagged_and_only_one_can_be_approved(app, client, niiza):
    assert apply(client, org_name="子育てひだまり", contact_email="a@example.jp").status_code == 302
    assert apply(client, org_name="子育て　ヒダマリ", contact_email="b@example.jp").status_code == 302
    first, second = (r.id for r in registrations(app))
    login(client, niiza["desk"])
    html = client.get(f"{QUEUE}/{first}").get_data(as_text=True)
    assert "同じ名称の審査待ちの申請がほかにもあります" in html and f"{QUEUE}/{second}" in html
    assert f"{QUEUE}/{first}/approve" in html  # a twin warns but does not block
    assert post(client, f"{QUEUE}/{first}/approve").status_code == 302
    html = client.get(f"{QUEUE}/{second}").get_data(as_text=True)
    assert "同じ名称の構成員「" in html and "審査待ちの申請がほかにも" not in html
    response = post(client, f"{QUEUE}/{second}/approve")
    assert response.status_code == 409
    assert "既に構成員として登録されているため" in response.get_data(as_text=True)


def test_an_existing_user_email_is_flagged_and_blocks_approval(app, client, niiza):
    with arranged(app):
        f.user(Role.DESK, f.municipality(f.KAWAGOE), email="misaki@hidamari.example.jp")
    assert apply(client).status_code == 302
    reg_id = only_registration_id(app)
    login(client, niiza["desk"])
    html = client.get(f"{QUEUE}/{reg_id}").get_data(as_text=True)
    assert "misaki@hidamari.example.jp の利用者が既にいます" in html
    before = counts(app)
    response = post(client, f"{QUEUE}/{reg_id}/approve")
    assert response.status_code == 409
    assert "利用者が既にいるため、承認できません" in response.get_data(as_text=True)
    assert counts(app) == before


def test_queue_filters_by_status_and_uses_a_constant_number_of_queries(app, client, niiza):
    with arranged(app):
        m = f.municipality(f.NIIZA)
        f.registration(m, "見本団体A")
        f.registration(m, "見本団体B", status="declined", decline_reason="重複")
    login(client, niiza["desk"])
    html = client.get(QUEUE).get_data(as_text=True)
    assert "見本団体A" in html and "見本団体B" not in html
    html = client.get(f"{QUEUE}?status=declined").get_data(as_text=True)
    assert "見本団体B" in html and "見本団体A" not in html
    assert "見本団体B" in client.get(f"{QUEUE}?status=all").get_data(as_text=True)
    with count_queries(app) as few:
        client.get(QUEUE)
    with arranged(app):
        m = f.municipality(f.NIIZA)
        for i in range(20):
            f.registration(m, f"追加団体{i}")
        f.registration(m, "新座市保健センター")
    with count_queries(app) as many:
        html = client.get(QUEUE).get_data(as_text=True)
    assert "追加団体19" in html and "重複の可能性" in html
    assert len(many) == len(few), (few, many)


# --- who may see and decide -------------------------------------------------------


def test_another_municipalitys_applications_are_404(app, client, niiza):
    with arranged(app):
        reg_id = f.registration(f.municipality(f.NIIZA), "新座の申請団体").id
    login(client, niiza["other_desk"])
    for path in (QUEUE, f"{QUEUE}/{reg_id}", f"/m/112011/registrations/{reg_id}"):
        assert client.get(path).status_code == 404, path
    assert "新座の申請団体" not in client.get("/m/112011/registrations").get_data(as_text=True)
    token = csrf_token(client)
    before = counts(app)
    for path in (f"{QUEUE}/{reg_id}/approve", f"{QUEUE}/{reg_id}/decline",
                 f"/m/112011/registrations/{reg_id}/approve", f"/m/112011/registrations/{reg_id}/decline"):
        response = client.post(path, data={"csrf_token": token, "reason": "他市から"})
        assert response.status_code == 404, path
    assert counts(app) == before
    assert registrations(app)[0].status == "submitted"


@pytest.mark.parametrize("role", ["member", "prefecture"])
def test_members_and_prefecture_officials_get_403(app, client, niiza, role):
    with arranged(app):
        reg_id = f.registration(f.municipality(f.NIIZA), "見本の申請団体").id
    login(client, niiza[role])
    for path in (QUEUE, f"{QUEUE}/{reg_id}"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "見本の申請団体" not in response.get_data(as_text=True)
    token = csrf_token(client)
    for path in (f"{QUEUE}/{reg_id}/approve", f"{QUEUE}/{reg_id}/decline"):
        assert client.post(path, data={"csrf_token": token, "reason": "x"}).status_code == 403, path
    assert registrations(app)[0].status == "submitted"


def test_the_menu_entry_is_for_the_desk_only(client, niiza):
    login(client, niiza["member"])
    assert QUEUE not in client.get("/m/112305/").get_data(as_text=True)
