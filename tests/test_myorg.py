"""自分の団体: a member keeps its own entry current; name/category changes wait for the desk."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role, User
from portal.extensions import db
from portal.timeutil import today_jst
from tenants.core.audit import AuditEntry
from tenants.members import services as members
from tenants.members.models import MemberOrganization, OrganizationChangeRequest
from tenants.models import Municipality
from tenants.reconfirmation import services as reconfirmation
from tests import factories as f
from tests.conftest import arranged, count_queries, csrf_token, form_fields, in_municipality, logged_in, outbox

MY_ORG = f"/m/{f.NIIZA}/my/organization"
MY_EDIT = f"/m/{f.NIIZA}/my/organization/edit"
REQUESTS = f"/m/{f.NIIZA}/change-requests"

HOKEN = "新座市保健センター"


@pytest.fixture
def world(app):
    old = today_jst() - timedelta(days=400)
    with arranged(app):
        niiza, kawagoe = f.municipality(f.NIIZA), f.municipality(f.KAWAGOE)
        f.network(niiza)
        f.network(kawagoe)
        hoken = f.organization(
            niiza, HOKEN, "hoken_center", name_kana="にいざしほけんせんたー",
            phone="048-477-1111", address="新座市野火止1-1-1", consultation_tags=["育児不安"],
        )
        hoiku = f.organization(niiza, "新座市立第一保育園", "hoikusho")
        other = f.organization(kawagoe, "川越市保健センター", "hoken_center")
        f.contact(hoken, "山田 花子", phone="048-477-2222", email="yamada@hoken.example.jp", is_primary=True)
        f.contact(hoiku, "鈴木 次郎", confirmed=old, phone="048-477-3333", email="suzuki@hoiku.example.jp")
        f.contact(other, "川越 太郎")
        inactive_desk = f.user(Role.DESK, niiza)
        inactive_desk.active = False
        w = SimpleNamespace(
            niiza_id=niiza.id, kawagoe_id=kawagoe.id,
            hoken=hoken.id, hoiku=hoiku.id, other=other.id,
            desk=f.user(Role.DESK, niiza).email,
            desk2=f.user(Role.DESK, niiza).email,
            inactive_desk=inactive_desk.email,
            desk_kawagoe=f.user(Role.DESK, kawagoe).email,
            admin=f.user(Role.ADMIN).email,
            prefecture=f.user(Role.PREFECTURE).email,
            member=f.user(Role.MEMBER, niiza, organization_=hoken).email,
            member_hoiku=f.user(Role.MEMBER, niiza, organization_=hoiku).email,
            member_without_org=f.user(Role.MEMBER, niiza).email,
            member_kawagoe=f.user(Role.MEMBER, kawagoe, organization_=other).email,
        )
    return w


def form_for(org: MemberOrganization, **changes) -> dict:
    """The edit form as the member would send it, unchanged unless told."""
    data = {
        "name": org.name, "category": org.category, "name_kana": org.name_kana,
        "postal_code": org.postal_code, "address": org.address, "phone": org.phone,
        "email": org.email, "website": org.website,
        "consultation_tags": list(org.consultation_tags or []),
    }
    if org.public_consent:
        data["public_consent"] = "y"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def member_save(app, client, my_org_id, **changes):
    with in_municipality(app):
        data = form_for(db.session.get(MemberOrganization, my_org_id), **changes)
    return client.post(MY_EDIT, data={**form_fields(client, MY_EDIT), **data})


def desk_post(client, path, data=None):
    return client.post(path, data={"csrf_token": csrf_token(client), **(data or {})})


def org_row(app, org_id, code=f.NIIZA) -> SimpleNamespace:
    with in_municipality(app, code):
        o = db.session.get(MemberOrganization, org_id)
        return SimpleNamespace(name=o.name, category=o.category, phone=o.phone, address=o.address,
                               consultation_tags=list(o.consultation_tags), name_kana=o.name_kana)


def requests_of(app, org_id, code=f.NIIZA) -> list[OrganizationChangeRequest]:
    with in_municipality(app, code):
        rows = db.session.scalars(
            select(OrganizationChangeRequest)
            .where(OrganizationChangeRequest.organization_id == org_id)
            .order_by(OrganizationChangeRequest.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def audit_entries(app, entity=None, action=None, code=f.NIIZA) -> list[AuditEntry]:
    with in_municipality(app, code):
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        if entity:
            stmt = stmt.where(AuditEntry.entity == entity)
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        rows = db.session.scalars(stmt).all()
        db.session.expunge_all()
        return list(rows)


def request_name_change(app, w, name="新座市保健センター分室", **more):
    client = logged_in(app, w.member)
    response = member_save(app, client, w.hoken, name=name, **more)
    assert response.status_code == 302
    (request,) = [r for r in requests_of(app, w.hoken) if r.status == "pending"]
    return client, request


# ---------------------------------------------------------------------------
# Who sees what


def test_member_sees_their_own_organisation_only(app, world):
    page = logged_in(app, world.member).get(MY_ORG).get_data(as_text=True)
    assert HOKEN in page
    assert "山田 花子" in page and "048-477-1111" in page
    # Nothing of the other organisation of the same municipality, nor of its contacts.
    assert "新座市立第一保育園" not in page
    assert "鈴木 次郎" not in page and "suzuki@hoiku.example.jp" not in page

    other_page = logged_in(app, world.member_hoiku).get(MY_ORG).get_data(as_text=True)
    assert "新座市立第一保育園" in other_page and "鈴木 次郎" in other_page
    assert HOKEN not in other_page and "山田 花子" not in other_page


def test_member_pages_never_take_an_organisation_from_the_url(app, world):
    rules = {r.endpoint: r for r in app.url_map.iter_rules() if r.endpoint in ("myorg.show", "myorg.edit")}
    assert set(rules) == {"myorg.show", "myorg.edit"}
    for rule in rules.values():
        assert rule.arguments == {"code"}, rule.rule
    client = logged_in(app, world.member)
    # No such route, and a query string is ignored.
    assert client.get(f"{MY_ORG}/{world.hoiku}").status_code == 404
    page = client.get(f"{MY_ORG}?org_id={world.hoiku}&organization_id={world.hoiku}").get_data(as_text=True)
    assert HOKEN in page and "新座市立第一保育園" not in page
    response = member_save(app, client, world.hoken, organization_id=str(world.hoiku), org_id=str(world.hoiku),
                           address="新座市東北2-1-1")
    assert response.status_code == 302
    assert org_row(app, world.hoken).address == "新座市東北2-1-1"
    assert org_row(app, world.hoiku).address == ""


def test_member_without_an_organisation_gets_404(app, world):
    client = logged_in(app, world.member_without_org)
    assert client.get(MY_ORG).status_code == 404
    assert client.get(MY_EDIT).status_code == 404


def test_another_municipality_is_404_for_members_and_desk(app, world):
    client = logged_in(app, world.member)
    for path in (f"/m/{f.KAWAGOE}/my/organization", f"/m/{f.KAWAGOE}/my/organization/edit"):
        assert client.get(path).status_code == 404
    response = client.post(f"/m/{f.KAWAGOE}/my/organization/edit",
                           data={"csrf_token": csrf_token(client), "name": "乗っ取り", "category": "npo"})
    assert response.status_code == 404
    assert org_row(app, world.other, f.KAWAGOE).name == "川越市保健センター"

    # Kawagoe's member asks for a change; Niiza's desk cannot decide it by its id.
    kawagoe_member = logged_in(app, world.member_kawagoe)
    with in_municipality(app, f.KAWAGOE):
        data = form_for(db.session.get(MemberOrganization, world.other), name="川越市保健センター南")
    kawagoe_edit = f"/m/{f.KAWAGOE}/my/organization/edit"
    assert kawagoe_member.post(kawagoe_edit, data={**form_fields(kawagoe_member, kawagoe_edit), **data}).status_code == 302
    (kawagoe_request,) = requests_of(app, world.other, f.KAWAGOE)

    desk = logged_in(app, world.desk)
    assert f"request-{kawagoe_request.id}" not in desk.get(REQUESTS).get_data(as_text=True)
    for action in ("approve", "reject"):
        # Through Niiza's URL: the id is unknown there.
        assert desk_post(desk, f"{REQUESTS}/{kawagoe_request.id}/{action}", {"reason": "x"}).status_code == 404
        # Through Kawagoe's URL: not Niiza's desk's municipality.
        assert desk_post(desk, f"/m/{f.KAWAGOE}/change-requests/{kawagoe_request.id}/{action}", {"reason": "x"}).status_code == 404
    assert desk.get(f"/m/{f.KAWAGOE}/change-requests").status_code == 404
    (still,) = requests_of(app, world.other, f.KAWAGOE)
    assert still.status == "pending"
    assert org_row(app, world.other, f.KAWAGOE).name == "川越市保健センター"


def test_members_and_prefecture_officials_get_403_on_the_desk_pages(app, world):
    client, request = request_name_change(app, world)
    assert client.get(REQUESTS).status_code == 403
    assert client.post(f"{REQUESTS}/{request.id}/approve", data={"csrf_token": csrf_token(client)}).status_code == 403
    assert client.post(f"{REQUESTS}/{request.id}/reject",
                       data={"csrf_token": csrf_token(client), "reason": "x"}).status_code == 403

    prefecture = logged_in(app, world.prefecture)
    token = csrf_token(prefecture)
    for path in (MY_ORG, MY_EDIT, REQUESTS):
        assert prefecture.get(path).status_code == 403
    assert prefecture.post(f"{REQUESTS}/{request.id}/approve", data={"csrf_token": token}).status_code == 403
    # The desk's page is not the member's either.
    desk = logged_in(app, world.desk)
    assert desk.get(MY_ORG).status_code == 403
    assert desk.get(MY_EDIT).status_code == 403
    assert logged_in(app, world.admin).get(REQUESTS).status_code == 200
    assert requests_of(app, world.hoken)[0].status == "pending"
    assert org_row(app, world.hoken).name == HOKEN


# ---------------------------------------------------------------------------
# Public details: applied at once, audited, the desk told


def test_editing_public_details_is_audited_and_notifies_each_desk_user(app, world):
    client = logged_in(app, world.member)
    response = member_save(
        app, client, world.hoken,
        phone="０４８－４７７－９９９９", address="新座市野火止2-2-2", consultation_tags=["育児不安", "発達相談"],
        name_kana="ニイザシホケンセンター",
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(MY_ORG)
    org = org_row(app, world.hoken)
    assert (org.phone, org.address) == ("048-477-9999", "新座市野火止2-2-2")
    assert org.consultation_tags == ["育児不安", "発達相談"]
    assert org.name_kana == "にいざしほけんせんたー"  # stored in hiragana; same value, no change recorded

    (entry,) = audit_entries(app, "organization", "update")
    assert entry.entity_id == world.hoken
    assert entry.changes["phone"] == ["048-477-1111", "048-477-9999"]
    assert entry.changes["address"] == ["新座市野火止1-1-1", "新座市野火止2-2-2"]
    assert "name_kana" not in entry.changes
    with app.app_context():
        member_id = db.session.scalar(select(User.id).where(User.email == world.member))
    assert entry.user_id == member_id
    assert requests_of(app, world.hoken) == []

    mails = outbox(app, "member_updated")
    assert sorted(m.to_address for m in mails) == sorted([world.desk, world.desk2])
    assert all(m.municipality_id == world.niiza_id for m in mails)
    for m in mails:
        assert f"{HOKEN}が登録情報を更新しました" in m.body_text
        assert f"http://127.0.0.1:5000/m/{f.NIIZA}/members/{world.hoken}" in m.body_text
        assert "電話番号" in m.body_text  # which fields, never their values
        for secret in ("048-477-9999", "048-477-2222", "yamada@hoken.example.jp", "山田", "野火止2-2-2"):
            assert secret not in m.body_text and secret not in m.subject

    page = client.get(MY_ORG).get_data(as_text=True)
    assert "048-477-1111" in page and "048-477-9999" in page  # the history shows before and after


def test_saving_without_changes_changes_nothing_and_sends_nothing(app, world):
    client = logged_in(app, world.member)
    response = member_save(app, client, world.hoken)
    assert response.status_code == 302
    assert "変更はありませんでした" in client.get(MY_ORG).get_data(as_text=True)
    assert audit_entries(app, "organization", "update") == []
    assert outbox(app) == []


def test_member_cannot_change_status_or_joined_on(app, world):
    client = logged_in(app, world.member)
    response = member_save(app, client, world.hoken, status="left", joined_on="2001-01-01", address="新座市1")
    assert response.status_code == 302
    with in_municipality(app):
        o = db.session.get(MemberOrganization, world.hoken)
        assert (o.status, o.joined_on, o.address) == ("active", None, "新座市1")
    form = client.get(MY_EDIT).get_data(as_text=True)
    assert 'name="address"' in form
    assert 'name="status"' not in form and 'name="joined_on"' not in form


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("phone", "12345", "電話番号「12345」"),
        ("postal_code", "35286", "郵便番号「35286」は7桁の数字で入力してください"),
        ("email", "not-an-address", "メールアドレス「not-an-address」の形式が正しくありません"),
        ("website", "javascript:alert(1)", "http:// または https:// で始まるURL"),
        ("category", "no-such-category", "区分「no-such-category」は登録されていません"),
        ("consultation_tags", ["育児不安", "宇宙旅行"], "対応できる相談「宇宙旅行」は一覧にありません"),
        ("name", "　", "入力してください"),
    ],
)
def test_bad_input_is_explained_in_japanese_and_nothing_changes(app, world, field, value, message):
    client = logged_in(app, world.member)
    # A good change to another field, and a held change, in the same post: neither is kept.
    changes = {"address": "新座市新しい住所1", "name": "新しい名前の保健センター", field: value}
    response = member_save(app, client, world.hoken, **changes)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert "入力内容に誤りがあります" in page
    org = org_row(app, world.hoken)
    assert (org.name, org.address, org.phone) == (HOKEN, "新座市野火止1-1-1", "048-477-1111")
    assert requests_of(app, world.hoken) == []
    assert audit_entries(app, "organization", "update") == []
    assert outbox(app) == []


# ---------------------------------------------------------------------------
# Name and category: held for the desk


def test_name_and_category_changes_wait_for_the_desk(app, world):
    client = logged_in(app, world.member)
    response = member_save(app, client, world.hoken, name="新座市保健センター分室", category="shien_center",
                           address="新座市野火止3-3-3")
    assert response.status_code == 302
    page = client.get(MY_ORG).get_data(as_text=True)
    assert "名称・区分の変更は総合支援窓口の承認後に反映されます。" in page
    assert 'data-testid="task-change_request"' in page and "承認待ち" in page

    org = org_row(app, world.hoken)
    assert (org.name, org.category) == (HOKEN, "hoken_center")  # held
    assert org.address == "新座市野火止3-3-3"  # applied
    (request,) = requests_of(app, world.hoken)
    assert request.status == "pending"
    assert request.changes == {"name": [HOKEN, "新座市保健センター分室"], "category": ["hoken_center", "shien_center"]}
    (entry,) = audit_entries(app, "change_request", "request")
    assert entry.entity_id == request.id and entry.changes == request.changes and entry.entity_label == HOKEN

    mails = outbox(app, "member_updated")
    assert sorted(m.to_address for m in mails) == sorted([world.desk, world.desk2])
    assert all(f"/m/{f.NIIZA}/change-requests#request-{request.id}" in m.body_text for m in mails)

    # The desk sees it in its queue with current -> proposed, and on the organisation's page.
    desk = logged_in(app, world.desk)
    queue = desk.get(REQUESTS).get_data(as_text=True)
    assert f'id="request-{request.id}"' in queue
    assert "新座市保健センター分室" in queue and "子育て支援センター" in queue and "保健センター" in queue
    org_page = desk.get(f"/m/{f.NIIZA}/members/{world.hoken}").get_data(as_text=True)
    assert 'data-testid="pending-change-request"' in org_page


def test_a_new_proposal_updates_the_one_pending_request(app, world):
    client, first = request_name_change(app, world, "新座市保健センター分室", category="shien_center")
    # Another name, the category left as it is now: the pending category proposal stays.
    assert member_save(app, client, world.hoken, name="新座市保健センター東分室").status_code == 302
    (request,) = requests_of(app, world.hoken)
    assert request.id == first.id
    assert request.changes == {"name": [HOKEN, "新座市保健センター東分室"], "category": ["hoken_center", "shien_center"]}
    # Saving the current values again leaves the request alone (no new audit entry).
    assert member_save(app, client, world.hoken).status_code == 302
    (same,) = requests_of(app, world.hoken)
    assert same.changes == request.changes
    assert len(audit_entries(app, "change_request", "request")) == 2
    edit_page = client.get(MY_EDIT).get_data(as_text=True)
    assert 'data-testid="pending-request"' in edit_page and "新座市保健センター東分室" in edit_page


def test_a_name_already_taken_is_refused_when_requested(app, world):
    client = logged_in(app, world.member)
    response = member_save(app, client, world.hoken, name="新座市立 第一保育園")
    assert response.status_code == 400
    assert "「新座市立第一保育園」は既に構成員として登録されています。" in response.get_data(as_text=True)
    assert requests_of(app, world.hoken) == []
    assert outbox(app) == []


def test_approval_applies_the_change_audits_it_and_tells_the_member(app, world):
    _, request = request_name_change(app, world, "新座市保健センター分室", category="shien_center")
    desk = logged_in(app, world.desk)
    response = desk_post(desk, f"{REQUESTS}/{request.id}/approve")
    assert response.status_code == 302
    assert "反映しました" in desk.get(REQUESTS).get_data(as_text=True)

    org = org_row(app, world.hoken)
    assert (org.name, org.category) == ("新座市保健センター分室", "shien_center")
    (decided,) = requests_of(app, world.hoken)
    with app.app_context():
        desk_id = db.session.scalar(select(User.id).where(User.email == world.desk))
    assert (decided.status, decided.decided_by_id) == ("approved", desk_id)
    assert decided.decided_at is not None
    (approval,) = audit_entries(app, "change_request", "approve")
    assert approval.user_id == desk_id and approval.entity_id == request.id
    assert approval.changes["name"] == [HOKEN, "新座市保健センター分室"]
    (update,) = audit_entries(app, "organization", "update")
    assert update.changes["name"] == [HOKEN, "新座市保健センター分室"]
    assert update.changes["category"] == ["hoken_center", "shien_center"]
    with in_municipality(app):
        # The search follows the new name.
        assert members.find_organization_by_name("新座市保健センター分室").id == world.hoken

    (mail,) = outbox(app, "change_request_decided")
    assert mail.to_address == world.member
    assert "承認" in mail.subject and f"/m/{f.NIIZA}/my/organization" in mail.body_text

    member_page = logged_in(app, world.member).get(MY_ORG).get_data(as_text=True)
    assert "承認済み" in member_page and 'data-testid="task-change_request"' not in member_page

    # Deciding it twice is refused, and changes nothing more.
    again = desk_post(logged_in(app, world.desk2), f"{REQUESTS}/{request.id}/approve")
    assert again.status_code == 409
    assert "既に処理されています" in again.get_data(as_text=True)
    assert len(audit_entries(app, "change_request", "approve")) == 1


def test_rejection_leaves_the_organisation_as_it_was(app, world):
    _, request = request_name_change(app, world, "新座市保健センター分室")
    desk = logged_in(app, world.desk)

    page = desk.get(REQUESTS).get_data(as_text=True)
    assert f'id="reason-{request.id}"' in page and "maxlength" not in page and "1,000文字以内" in page
    empty = desk_post(desk, f"{REQUESTS}/{request.id}/reject", {"reason": "　 "})
    assert empty.status_code == 400
    assert "却下の理由を入力してください" in empty.get_data(as_text=True)
    assert requests_of(app, world.hoken)[0].status == "pending"

    response = desk_post(desk, f"{REQUESTS}/{request.id}/reject", {"reason": "正式名称は条例の表記にしてください。"})
    assert response.status_code == 302
    assert org_row(app, world.hoken).name == HOKEN
    (decided,) = requests_of(app, world.hoken)
    assert (decided.status, decided.reason) == ("rejected", "正式名称は条例の表記にしてください。")
    (entry,) = audit_entries(app, "change_request", "reject")
    assert entry.changes["reason"] == "正式名称は条例の表記にしてください。"
    assert audit_entries(app, "organization", "update") == []

    (mail,) = outbox(app, "change_request_decided")
    assert mail.to_address == world.member
    assert "承認されませんでした" in mail.subject
    assert "条例" not in mail.body_text  # the reason is read on the page, after logging in

    member_page = logged_in(app, world.member).get(MY_ORG).get_data(as_text=True)
    assert "却下" in member_page and "正式名称は条例の表記にしてください。" in member_page


def test_a_duplicate_name_on_approval_is_refused_and_nothing_changes(app, world):
    _, request = request_name_change(app, world, "新座市こども家庭センター")
    # Meanwhile the desk registers another organisation under that name.
    with in_municipality(app):
        members.create_organization({"name": "新座市こども家庭センター", "category": "katei_jido"})
    before_audit = len(audit_entries(app))
    desk = logged_in(app, world.desk)
    response = desk_post(desk, f"{REQUESTS}/{request.id}/approve")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "「新座市こども家庭センター」は既に構成員として登録されています。" in page
    assert org_row(app, world.hoken).name == HOKEN
    (still,) = requests_of(app, world.hoken)
    assert (still.status, still.decided_at, still.decided_by_id) == ("pending", None, None)
    assert len(audit_entries(app)) == before_audit
    assert outbox(app, "change_request_decided") == []


def test_html_typed_into_fields_is_escaped_on_every_page(app, world):
    attack = "<script>alert(1)</script>"
    _, request = request_name_change(app, world, f"{attack}保健センター", address=f"{attack}新座市")
    desk = logged_in(app, world.desk)
    for path in (REQUESTS, f"/m/{f.NIIZA}/members/{world.hoken}", f"/m/{f.NIIZA}/audit"):
        page = desk.get(path).get_data(as_text=True)
        assert attack not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
    desk_post(desk, f"{REQUESTS}/{request.id}/reject", {"reason": f"{attack}理由"})
    for path in (MY_ORG, MY_EDIT):
        page = logged_in(app, world.member).get(path).get_data(as_text=True)
        assert attack not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path


# ---------------------------------------------------------------------------
# Open tasks and history


def test_the_member_page_shows_the_open_reconfirmation_task(app, world):
    client = logged_in(app, world.member)
    assert 'data-testid="task-reconfirmation"' not in client.get(MY_ORG).get_data(as_text=True)
    assert "いま対応が必要なことはありません" in client.get(f"/m/{f.NIIZA}/").get_data(as_text=True)

    with in_municipality(app):
        reconfirmation.start_round(today_jst() + timedelta(days=1), None)  # nobody confirmed since
    page = client.get(MY_ORG).get_data(as_text=True)
    assert 'data-testid="task-reconfirmation"' in page
    assert "担当者の再確認" in page and "確認済み 0 / 1人" in page
    assert f'href="/m/{f.NIIZA}/my/contacts"' in page
    home = client.get(f"/m/{f.NIIZA}/").get_data(as_text=True)
    assert "対応が必要なことが 1 件あります" in home
    assert f'href="/m/{f.NIIZA}/my/organization"' in home


def test_missing_and_stale_contacts_are_open_tasks(app, world):
    # 第一保育園's only contact was last confirmed over a year ago.
    page = logged_in(app, world.member_hoiku).get(MY_ORG).get_data(as_text=True)
    assert 'data-testid="task-stale_contacts"' in page and "確認が必要な担当者が1人います" in page
    # A new organisation has no contact at all.
    with in_municipality(app):
        org = members.create_organization({"name": "子育てサークルひよこ", "category": "circle"})
        email = f.user(Role.MEMBER, db.session.get(Municipality, world.niiza_id), organization_=org).email
    page = logged_in(app, email).get(MY_ORG).get_data(as_text=True)
    assert 'data-testid="task-no_contact"' in page
    assert f'href="/m/{f.NIIZA}/my/contacts/new"' in page


def test_the_history_shows_only_this_organisations_changes(app, world):
    with in_municipality(app):
        hoiku = db.session.get(MemberOrganization, world.hoiku)
        hoken = db.session.get(MemberOrganization, world.hoken)
        members.update_organization(hoiku, {"address": "保育園の住所"})
        # A contact of 保育園 is removed; where the database reuses its id for
        # the next contact (SQLite), its history must not follow the id.
        leaving = members.create_contact(hoiku, {"name": "退職 する人", "phone": "048-477-4444"})
        members.delete_contact(leaving)
        members.create_contact(hoken, {"name": "後任 の人"})
    page = logged_in(app, world.member).get(MY_ORG).get_data(as_text=True)
    history = page.split('data-testid="history"', 1)[1]
    assert "後任 の人" in history and "山田 花子" in history
    for other in ("保育園の住所", "退職 する人", "048-477-4444", "鈴木 次郎", "新座市立第一保育園"):
        assert other not in page, other


def test_the_desk_queue_uses_a_constant_number_of_queries(app, world):
    made = []

    def queries(n_requests):
        with in_municipality(app):
            requester = db.session.scalar(select(User.id).where(User.email == world.member))
            for _ in range(n_requests):
                made.append(i := len(made))
                org = members.create_organization({"name": f"待ち団体{i}", "category": "npo"})
                db.session.add(OrganizationChangeRequest(
                    organization_id=org.id, requested_by_id=requester, changes={"name": [org.name, f"新{i}"]},
                ))
        client = logged_in(app, world.desk)
        with count_queries(app) as statements:
            assert client.get(REQUESTS).status_code == 200
        return len(statements)

    assert queries(1) == queries(5)
    with in_municipality(app):
        assert db.session.scalar(select(func.count(OrganizationChangeRequest.id))) == 6
