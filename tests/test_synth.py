"""tools/synth.py: the synthetic-data generator behind bench/bench_dashboard.py, and its CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dashboard import services
from portal.accounts.models import Role
from portal.extensions import db
from portal.timeutil import today_jst, utcnow
from tenants.activities.models import NetworkActivity
from tenants.handovers.models import ACTIVE_STATUSES, Consultation, Handover
from tenants.members.models import Contact, MemberOrganization
from tenants.models import Municipality
from tenants.network.models import Network
from tenants.rollout.models import NetworkStatusDeclaration, TownCertification
from tests import factories as f
from tests.conftest import arranged, login
from tools import synth

TINY = synth.scaled("prefecture", municipalities=3, organizations=5, contacts=10, handovers=20)


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count(model.id)).where(*where))


def test_a_tiny_prefecture_has_the_expected_counts(app):
    with arranged(app):
        counts = synth.generate(TINY, seed=7)
    with arranged(app):
        assert _count(Municipality, Municipality.prefecture_code == "11") == 63  # the whole prefecture is loaded
        assert counts.municipalities == 3
        assert (counts.organizations, counts.contacts, counts.handovers) == (15, 30, 60)
        assert _count(MemberOrganization) == 15 and _count(Contact) == 30 and _count(Handover) == 60
        assert _count(Consultation) == counts.consultations <= 60
        assert _count(TownCertification) == 3
        assert _count(Network) == counts.networks <= 3
        assert _count(NetworkStatusDeclaration) == counts.declarations
        assert _count(NetworkActivity) == counts.activities
        # Only the first three municipalities, each with its share.
        filled = db.session.scalars(select(MemberOrganization.municipality_id).distinct()).all()
        first = db.session.scalars(select(Municipality.id).where(Municipality.prefecture_code == "11")
                                   .order_by(Municipality.code).limit(3)).all()
        assert sorted(filled) == sorted(first)
        # Realistic handovers: the last two years, sent before due, at most one active per consultation.
        now = utcnow()
        assert _count(Handover, Handover.sent_at < now - timedelta(days=2 * 365 + 1)) == 0
        assert _count(Handover, Handover.sent_at > now) == 0
        assert _count(Handover, Handover.response_due_at <= Handover.sent_at) == 0
        assert _count(Handover, Handover.first_response_at.is_not(None),
                      Handover.response_seconds.is_(None)) == 0
        active = db.session.execute(
            select(Handover.consultation_id, func.count()).where(Handover.status.in_(ACTIVE_STATUSES))
            .group_by(Handover.consultation_id).having(func.count() > 1)).all()
        assert active == []
        hops = db.session.scalar(select(func.sum(Consultation.hop_count)))
        assert hops == 60
        # Fictional: every address at example.jp, every organisation named 見本.
        assert _count(Contact, ~Contact.email.like("%.example.jp")) == 0
        assert _count(MemberOrganization, ~MemberOrganization.name.like("見本%")) == 0
        # Ids were assigned by the generator; the app's next insert must not collide with them.
        org = f.organization(db.session.get(Municipality, first[0]), "見本あとから追加の会", "npo")
        assert org.id > max(db.session.scalars(select(MemberOrganization.id).where(MemberOrganization.id != org.id)))


def test_the_dashboard_renders_the_generated_data(app, client):
    with arranged(app):
        synth.generate(TINY, seed=7)
        email = f.user(Role.PREFECTURE).email
    login(client, email)
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "市町村一覧（63）" in html
    for path in ("/dashboard/export.csv", "/dashboard/m/111007"):
        assert client.get(path).status_code == 200
    assert "@111007.example.jp" not in html  # aggregates only
    with arranged(app):
        rows = {r.code: r for r in services.municipality_rows("11", today_jst())}
        filled = [r for r in rows.values() if r.active_members]
        assert len(filled) == 3
        year_ago = utcnow() - timedelta(days=365)
        assert sum(r.handovers_12m or 0 for r in rows.values()) == _count(Handover, Handover.sent_at >= year_ago)
        assert sum(r.contacts for r in filled) == _count(
            Contact, Contact.organization_id.in_(select(MemberOrganization.id).where(MemberOrganization.status == "active")))


def test_the_same_seed_makes_the_same_data(app):
    with arranged(app):
        a = synth.generate(TINY, seed=11)
        names = db.session.scalars(select(MemberOrganization.name).order_by(MemberOrganization.id)).all()
    assert a.organizations == 15 and len(names) == 15
    # A second run is refused (the database is no longer empty) rather than mixing data.
    with app.app_context(), pytest.raises(synth.RefusedError):
        synth.check_allowed("test")


def test_the_command_fills_an_empty_database(app, runner, monkeypatch):
    monkeypatch.setitem(synth.SCALES, "prefecture", TINY)
    result = runner.invoke(args=["synth", "--scale", "prefecture", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "合成データ（架空）を作成しました" in result.output
    with arranged(app):
        assert _count(Handover) == 60


def test_the_command_refuses_production(app, runner, monkeypatch):
    monkeypatch.setitem(synth.SCALES, "prefecture", TINY)
    app.config["KOSODATE_ENV"] = "production"
    result = runner.invoke(args=["synth", "--scale", "prefecture"])
    assert result.exit_code != 0
    assert "開発・テストモード" in result.output
    with arranged(app):
        assert _count(MemberOrganization) == 0 and _count(Handover) == 0


def test_the_command_refuses_a_database_with_data(app, runner, monkeypatch):
    monkeypatch.setitem(synth.SCALES, "prefecture", TINY)
    with arranged(app):
        f.network(f.municipality(f.NIIZA), "本物のネットワーク")
    result = runner.invoke(args=["synth", "--scale", "prefecture"])
    assert result.exit_code != 0
    assert "既にデータがあります" in result.output
    with arranged(app):
        assert _count(MemberOrganization) == 0 and _count(Network) == 1
