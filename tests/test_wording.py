"""Wording and names as users read them (issue 12, item 11): Japanese mail kinds in the
outbox, 引き継いだ, a consultation not yet handed over is not 「対応中」, names stored as
typed (folded for search only), and the README's demo logins — on both databases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.extensions import db
from portal.mail import enqueue
from portal.mail.kinds import KIND_LABELS
from portal.mail.models import OutboxMessage
from tenants.members.models import Contact, MemberOrganization
from tenants.scoping import EVERYTHING, set_scope
from tests import factories as f
from tests.conftest import arranged, logged_in, login
from tests.support.handovers import M, handover_world, post, send, sent_id


@pytest.fixture
def world(app):
    """The handover tests' municipality: desk, 保健センター, 子育て支援センター and their users."""
    return handover_world(app)

ROOT = Path(__file__).resolve().parent.parent


def test_every_mail_kind_in_the_code_has_a_japanese_label():
    kinds = set()
    for path in [*ROOT.glob("portal/**/*.py"), *ROOT.glob("tenants/**/*.py"), *ROOT.glob("dashboard/**/*.py")]:
        kinds |= set(re.findall(r'kind="([a-z_]+)"', path.read_text(encoding="utf-8")))
    assert kinds >= {"application_to_review", "handover_resolved"}  # the scan finds them
    missing = kinds - set(KIND_LABELS)
    assert not missing, f"no label for mail kinds {missing} in portal/mail/kinds.py"
    assert all(not re.fullmatch(r"[\x00-\x7f]+", label) for label in KIND_LABELS.values())


def test_the_outbox_shows_kinds_in_japanese(app):
    with arranged(app):
        admin = f.user(Role.ADMIN).email
        enqueue("desk@niiza.example.jp", "新しい登録申請", "本文", kind="application_to_review")
    client = app.test_client()
    login(client, admin)
    html = client.get("/admin/outbox").get_data(as_text=True)
    assert "新しい登録申請（窓口へ）" in html
    assert "application_to_review" not in html


def test_resolved_mail_says_hikitsuida(app, world):
    with arranged(app):
        hid = f.handover(f.consultation(world.desk), world.hoken).id
    hoken = logged_in(app, world.hoken_user)
    assert post(hoken, f"{M}/handovers/{hid}/accept").status_code == 302
    assert post(hoken, f"{M}/handovers/{hid}/resolve", {"outcome": "発達相談の予約をとった。"}).status_code == 302
    with app.app_context():
        subjects = list(db.session.scalars(select(OutboxMessage.subject).where(OutboxMessage.kind == "handover_resolved")))
    assert subjects and all("引き継いだ相談が解決しました" in s for s in subjects)
    assert not any("引継ぎた" in s for s in subjects)


def test_a_consultation_not_yet_handed_over_is_not_badged_in_progress(app, world):
    with arranged(app):
        cid = f.consultation(world.desk).id
    desk = logged_in(app, world.desk)
    badge = re.compile(r'data-testid="consultation-status"><span class="status__label">([^<]+)<')
    assert badge.findall(desk.get(f"{M}/handovers/consultations/{cid}").get_data(as_text=True)) == ["引継ぎ前"]
    inbox = desk.get(f"{M}/handovers?box=consultations").get_data(as_text=True)
    assert badge.findall(inbox) == ["引継ぎ前"]
    sent_id(send(desk, cid, str(world.hoken)))
    assert badge.findall(desk.get(f"{M}/handovers/consultations/{cid}").get_data(as_text=True)) == ["引継ぎ中"]


def test_organisation_and_contact_names_are_stored_and_shown_as_typed(app, world):
    typed = "新座市子育て支援センター（分室）"
    desk = logged_in(app, world.desk)
    response = post(desk, f"{M}/members/new", {"name": typed, "category": "shien_center", "status": "active"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        org = db.session.scalar(select(MemberOrganization).where(MemberOrganization.name == typed))
        assert org is not None and org.name_key  # the search key is still folded
        org_id = org.id
    contact = post(desk, f"{M}/members/{org_id}/contacts/new", {"name": "山田　花子（ＡＢＣ）", "title": "係長（保健）"})
    assert contact.status_code == 302, contact.get_data(as_text=True)
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        c = db.session.scalar(select(Contact).where(Contact.organization_id == org_id))
        assert c.name == "山田 花子（ＡＢＣ）" and c.title == "係長（保健）"
    # Search still folds: half-width parentheses and katakana find it.
    listing = desk.get(f"{M}/members?q=(分室)").get_data(as_text=True)
    assert typed in listing
    assert typed in desk.get(f"{M}/whom?q=ｼｴﾝ").get_data(as_text=True)
    # The same name typed with half-width parentheses is the same organisation.
    duplicate = post(desk, f"{M}/members/new", {"name": "新座市子育て支援センター(分室)", "category": "shien_center"})
    assert duplicate.status_code == 400 and "既に構成員として登録されています" in duplicate.get_data(as_text=True)


def test_readme_demo_table_lists_every_demo_login():
    from tenants.demo import DEMO_PASSWORD, DEMO_USERS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("| デモ用ログイン |", 1)[1].split("\n\n", 1)[0]
    for label, email, *_ in DEMO_USERS:
        assert f"| {label} | {email} | {DEMO_PASSWORD} |" in table, email


def test_tidy_keeps_what_was_typed_but_half_width_kana_and_extra_spaces():
    from portal.japanese import fold, tidy

    assert tidy("  新座市子育て支援センター（分室）　 ") == "新座市子育て支援センター（分室）"
    assert tidy("ＮＰＯ法人　ひだまり") == "ＮＰＯ法人 ひだまり"
    assert tidy("ﾆｲｻﾞ保育園") == "ニイザ保育園"
    assert fold("新座市子育て支援センター（分室）") == fold("新座市子育て支援センター(分室)")
