from portal import create_app
from tests.conftest import TEST_CONFIG


def test_healthz_reports_a_reachable_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/x.db"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_healthz_is_503_when_postgresql_is_down():
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2"})
    assert app.test_client().get("/healthz").status_code == 503


def test_healthz_answers_503_within_its_deadline_against_a_black_hole_and_login_still_answers(caplog):
    # A database that accepts TCP and never replies (issue 10 item 2): ten
    # checks at once, each answered within 5 s, and the login page unaffected.
    import threading
    import time

    from tests.blackhole import BlackHole
    from tests.live import WebClient, live_server

    with BlackHole() as hole:
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": hole.url})
        with live_server(app) as base:
            answers: list[tuple[int, float]] = []

            def check() -> None:
                started = time.monotonic()
                status, _ = WebClient(base, timeout=30).request("/healthz")
                answers.append((status, time.monotonic() - started))

            threads = [threading.Thread(target=check) for _ in range(10)]
            for t in threads:
                t.start()
            status, html = WebClient(base, timeout=30).request("/login")
            for t in threads:
                t.join(timeout=30)
        assert status == 200 and "ログイン" in html
        assert len(answers) == 10
        assert all(code == 503 for code, _ in answers)
        assert max(seconds for _, seconds in answers) < 5
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("healthz: 503")]
    assert len(lines) == 10
    assert f"127.0.0.1:{hole.port}" in lines[0] and "timeout" in lines[0].lower()


def test_healthz_logs_why_it_answered_503(tmp_path, caplog):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/x.db"})
    assert app.test_client().get("/healthz").status_code == 503
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("healthz: 503")]
    assert "unable to open database file" in line


def test_mail_worker_gives_up_on_a_black_hole_database():
    # `mail send --once` must end (connect timeout), not hang with the database.
    import os
    import subprocess
    import sys

    from tests.blackhole import BlackHole

    with BlackHole() as hole:
        env = {**os.environ, "KOSODATE_ENV": "test", "SECRET_KEY": "x", "DATABASE_URL": hole.url,
               "DATABASE_CONNECT_TIMEOUT": "2", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": "9"}
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "mail", "send", "--once"],
                              env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "timeout" in done.stderr.lower()
