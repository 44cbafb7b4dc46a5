import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.accounts.models import User
from portal.extensions import db
from tenants.handovers.models import Consultation, Handover, HandoverDay
from tenants.members.models import MemberOrganization
from tenants.models import Municipality
from tenants.network.models import Network
from tenants.scoping import EVERYTHING, set_scope


def test_users_create_with_password(runner, app):
    runner.invoke(args=["municipalities", "load"])
    result = runner.invoke(
        args=["users", "create", "--email", "Desk@Example.jp", "--role", "desk", "--municipality", "112305",
              "--password", "a-long-enough-password"]
    )
    assert result.exit_code == 0, result.output
    assert "作成しました: desk@example.jp" in result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "desk@example.jp"))
        assert user.role == "desk" and user.municipality.code == "112305"
        assert user.password_hash.startswith("$argon2id$")


def test_users_create_prompts_for_the_password(runner, app):
    result = runner.invoke(
        args=["users", "create", "--email", "pref@example.jp", "--role", "prefecture"],
        input="a-long-enough-password\na-long-enough-password\n",
    )
    assert result.exit_code == 0, result.output
    assert "パスワード" in result.output


def test_users_create_explains_bad_input(runner):
    runner.invoke(args=["municipalities", "load"])
    cases = [
        (["--role", "desk", "--password", "a-long-enough-password"], "市町村の指定が必要です"),
        (["--role", "prefecture", "--municipality", "112305", "--password", "a-long-enough-password"], "市町村に属しません"),
        (["--role", "admin", "--password", "short"], "12文字以上"),
        (["--role", "desk", "--municipality", "999999", "--password", "a-long-enough-password"], "見つかりません"),
    ]
    for args, message in cases:
        result = runner.invoke(args=["users", "create", "--email", "x@example.jp", *args])
        assert result.exit_code != 0
        assert message in result.output, result.output
    runner.invoke(args=["users", "create", "--email", "x@example.jp", "--role", "admin", "--password", "a-long-enough-password"])
    result = runner.invoke(args=["users", "create", "--email", "X@example.jp", "--role", "admin", "--password", "a-long-enough-password"])
    assert "既に登録されています" in result.output


@pytest.mark.parametrize("mode", ["production", "development", "test"])
def test_fictional_data_commands_are_left_out_of_production(tmp_path, mode):
    app = create_app({"KOSODATE_ENV": mode, "SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/c.db"})
    commands = set(app.cli.commands)
    assert {"municipalities", "users", "backup", "handovers", "mail", "retention"} <= commands
    if mode == "production":
        assert not commands & {"demo", "synth"}
    else:
        assert {"demo", "synth"} <= commands


def test_demo_is_refused_outside_development(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code != 0
    assert "開発モード" in result.output


def test_demo_loads_saitama_with_two_networks_and_is_idempotent(runner, app):
    app.config["KOSODATE_ENV"] = "development"
    for _ in range(2):
        result = runner.invoke(args=["demo"])
        assert result.exit_code == 0, result.output
    assert "desk.niiza@example.jp" in result.output and "demo-password" in result.output
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        assert db.session.scalar(select(func.count(Municipality.id))) == 63
        names = set(db.session.scalars(select(Network.name)))
        assert names == {"さいたま市子育て支援ネットワーク全体会議", "新座市子育てネットワーク推進委員会"}
        assert db.session.scalar(select(func.count(User.id)).where(User.is_demo)) == 5
        # The member login acts for 新座市保健センター, which has a handover waiting for it.
        member = db.session.scalar(select(User).where(User.email == "hoken.niiza@example.jp"))
        hoken = db.session.get(MemberOrganization, member.member_organization_id)
        assert hoken.name == "新座市保健センター"
        assert db.session.scalar(select(func.count(Consultation.id))) == 3  # loaded once, not twice
        waiting = db.session.scalars(select(Handover).where(Handover.status == "sent")).all()
        assert [h.recipient_organization_id for h in waiting] == [hoken.id]
        assert sorted(db.session.scalars(select(Consultation.hop_count))) == [1, 1, 2]
        # ... counted for the dashboard as the services would count them: 4 sent, 3 answered.
        days = db.session.execute(select(func.sum(HandoverDay.sent), func.sum(HandoverDay.answered))).one()
        assert tuple(days) == (4, 3)
