import pytest

from portal import create_app
from portal.config import ConfigError


def test_secret_key_is_required_in_production(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("KOSODATE_ENV", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_production_cookies_are_secure(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    app = create_app({"KOSODATE_ENV": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_development_has_an_embedded_sqlite_default(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"KOSODATE_ENV": "development"})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/kosodate.sqlite3")
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_postgresql_urls_use_psycopg3(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@localhost/k")
    app = create_app({"KOSODATE_ENV": "development"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@localhost/k"


def test_unknown_mode_is_refused():
    with pytest.raises(ConfigError):
        create_app({"KOSODATE_ENV": "staging"})


CONFIG_LINE = (
    "設定エラー: SECRET_KEY が設定されていません（development 以外では必須です） / "
    "Configuration error: SECRET_KEY must be set outside development (KOSODATE_ENV=production)"
)


def _without_secret() -> dict:
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    return {**env, "KOSODATE_ENV": "production"}


@pytest.mark.parametrize("command", [
    ["flask", "--app", "wsgi", "db", "upgrade"],
    ["gunicorn", "--workers", "1", "--threads", "2", "--bind", "127.0.0.1:0", "wsgi:app"],
])
def test_a_configuration_error_is_one_line_without_a_traceback(command):
    # Issue 10 item 5: the refusal used to be buried in a traceback.
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-m", *command], cwd=root, env=_without_secret(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3  # gunicorn's "worker failed to boot": the master stops too
    assert CONFIG_LINE in done.stderr.splitlines()
    assert "Traceback" not in done.stderr


def test_a_number_setting_that_is_not_a_number_is_a_configuration_error(monkeypatch):
    monkeypatch.setenv("SQLITE_BUSY_TIMEOUT_MS", "lots")
    with pytest.raises(ConfigError, match="SQLITE_BUSY_TIMEOUT_MS must be a number") as refused:
        create_app({"KOSODATE_ENV": "development"})
    assert "数値を指定してください" in refused.value.line()
def test_public_base_url_follows_the_port_bin_serve_uses(monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("PORT", "5123")
    app = create_app({"KOSODATE_ENV": "development"})
    assert app.config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5123"
    monkeypatch.delenv("PORT")
    assert create_app({"KOSODATE_ENV": "development"}).config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"


def test_an_explicit_public_base_url_wins_over_the_port(monkeypatch):
    monkeypatch.setenv("PORT", "5123")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://kosodate.example.jp")
    assert create_app({"KOSODATE_ENV": "development"}).config["PUBLIC_BASE_URL"] == "https://kosodate.example.jp"


def test_bin_serve_exports_the_port_and_the_base_url_it_serves_on():
    from pathlib import Path

    script = (Path(__file__).resolve().parent.parent / "bin" / "serve").read_text()
    assert 'export PORT="${PORT:-5000}"' in script
    assert 'export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:${PORT}}"' in script
    assert script.index("export PUBLIC_BASE_URL") < script.index("flask mail send")
