"""Configuration from environment variables, with an embedded SQLite default.

KOSODATE_ENV selects the mode: ``production`` (the default, so a forgotten
setting fails safe), ``development`` (demo data and demo passwords allowed)
or ``test``.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

MODES = ("production", "development", "test")


class ConfigError(RuntimeError):
    """A setting the app cannot start with; the message in English, and in Japanese for the operator."""

    def __init__(self, message: str, japanese: str = "") -> None:
        super().__init__(message)
        self.japanese = japanese

    def line(self) -> str:
        ja = self.japanese or "設定を確認してください"
        return f"設定エラー: {ja} / Configuration error: {self}"


@contextmanager
def exit_on_config_error() -> Iterator[None]:
    """Around the app's creation at start-up (wsgi.py: gunicorn, flask CLI): one line, no traceback.

    Exit status 3 is gunicorn's "worker failed to boot", so the master stops
    instead of restarting workers that can never start.
    """
    try:
        yield
    except ConfigError as e:
        print(e.line(), file=sys.stderr, flush=True)
        raise SystemExit(3) from None


def _flag(value: str, name: str) -> bool:
    """An on/off environment variable; anything unclear is refused rather than guessed."""
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}", f"{name} には true か false を指定してください（{value!r} は使えません）")


def _number(env, name: str, default: float, kind=int):
    value = env.get(name)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {value!r}", f"{name} には数値を指定してください（{value!r} は使えません）") from None


def _positive(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0
    if not (number > 0 and math.isfinite(number)):
        raise ConfigError(f"{name} must be a number of seconds above 0, not {value!r}")
    return number


def _period(value: str, name: str) -> int:
    """A retention period: a whole number of at least 1."""
    if not value.strip().isdigit() or int(value) < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1, not {value!r}")
    return int(value)


def load_config(app_instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    env = os.environ
    overrides = dict(overrides or {})
    mode = overrides.get("KOSODATE_ENV") or env.get("KOSODATE_ENV", "production")
    if mode not in MODES:
        raise ConfigError(
            f"KOSODATE_ENV must be one of {MODES}, not {mode!r}",
            f"KOSODATE_ENV は production, development, test のいずれかです（{mode!r} は使えません）",
        )

    secret = overrides.get("SECRET_KEY") or env.get("SECRET_KEY")
    if not secret:
        if mode == "production":
            raise ConfigError(
                "SECRET_KEY must be set outside development (KOSODATE_ENV=production)",
                "SECRET_KEY が設定されていません（development 以外では必須です）",
            )
        secret = "development-only-secret-key-not-for-production"

    default_db = "sqlite:///" + os.path.join(app_instance_path, "kosodate.sqlite3")
    cfg: dict[str, Any] = {
        "KOSODATE_ENV": mode,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL", default_db),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Timeouts (portal/database.py): nothing waits for the database forever.
        "DATABASE_CONNECT_TIMEOUT": _number(env, "DATABASE_CONNECT_TIMEOUT", 5),  # PostgreSQL, seconds
        "DATABASE_STATEMENT_TIMEOUT_MS": _number(env, "DATABASE_STATEMENT_TIMEOUT_MS", 20_000),  # per web request
        "DATABASE_LOCK_TIMEOUT_MS": _number(env, "DATABASE_LOCK_TIMEOUT_MS", 10_000),  # per web request
        "SQLITE_BUSY_TIMEOUT_MS": _number(env, "SQLITE_BUSY_TIMEOUT_MS", 15_000),  # waiting for SQLite's one writer
        "HEALTHZ_TIMEOUT_SECONDS": _number(env, "HEALTHZ_TIMEOUT_SECONDS", 3.0, float),
        # Absolute base of links in e-mails (the mail worker has no request to read it from);
        # by default the address bin/serve listens on, so links follow its PORT.
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{env.get('PORT') or 5000}",
        # The deployment's prefecture (都道府県コード); 11 = 埼玉県.
        "PREFECTURE_CODE": env.get("PREFECTURE_CODE", "11"),
        "DASHBOARD_TARGET_YEAR": int(env.get("DASHBOARD_TARGET_YEAR", 2027)),  # 年度 by whose end every municipality has a network
        # Session cookie: not readable by scripts, not sent on cross-site posts.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # The cookie is sent again only when the session changes (login, a message), not re-signed on
        # every response: it expires SESSION_ABSOLUTE_HOURS after login, when the server ends it anyway.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SESSION_COOKIE_SECURE": mode == "production",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": mode == "production",
        # Server-side sessions (portal/accounts/sessions.py): ended after this long without a
        # request, and this long after login whatever happens; the cookie lives no longer.
        "SESSION_IDLE_MINUTES": int(env.get("SESSION_IDLE_MINUTES", 60)),
        "SESSION_ABSOLUTE_HOURS": int(env.get("SESSION_ABSOLUTE_HOURS", 12)),
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead
        "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,
        # Strict-Transport-Security max-age for responses served over HTTPS in production (0 = no header).
        "HSTS_SECONDS": int(env.get("HSTS_SECONDS", 365 * 24 * 60 * 60)),
        # Roster imports (CSV/XLSX): size and row limits.
        "IMPORT_MAX_BYTES": int(env.get("IMPORT_MAX_BYTES", 5 * 1024 * 1024)),
        "IMPORT_MAX_ROWS": int(env.get("IMPORT_MAX_ROWS", 2000)),
        # Login throttling: failures allowed per window, per account and per address.
        "LOGIN_WINDOW_SECONDS": int(env.get("LOGIN_WINDOW_SECONDS", 15 * 60)),
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": int(env.get("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": int(env.get("LOGIN_MAX_FAILURES_PER_ADDRESS", 30)),
        # An address an account logged in from within these days stays open to it when the address is throttled.
        "LOGIN_KNOWN_ADDRESS_DAYS": int(env.get("LOGIN_KNOWN_ADDRESS_DAYS", 30)),
        # 登録制度: applications per sender address (IPv6: per /64) and per recipient in 24 h; per municipality in 1 h.
        "REGISTRATION_MAX_PER_ADDRESS": int(env.get("REGISTRATION_MAX_PER_ADDRESS", 5)),
        "REGISTRATION_MAX_PER_HOUR": int(env.get("REGISTRATION_MAX_PER_HOUR", 50)),
        # Number of proxies in front of the app whose X-Forwarded-For we trust.
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", 0)),
        # argon2id parameters (RFC 9106 second recommended option by default).
        "ARGON2_TIME_COST": int(env.get("ARGON2_TIME_COST", 3)),
        "ARGON2_MEMORY_COST": int(env.get("ARGON2_MEMORY_COST", 64 * 1024)),
        "ARGON2_PARALLELISM": int(env.get("ARGON2_PARALLELISM", 4)),
        # E-mail (portal/mail): the outbox worker delivers over SMTP. No host =
        # no delivery; messages stay in the outbox (visible at /admin/outbox).
        "SMTP_HOST": env.get("SMTP_HOST", ""),
        "SMTP_PORT": int(env.get("SMTP_PORT", 587)),
        "SMTP_STARTTLS": _flag(env.get("SMTP_STARTTLS", "true"), "SMTP_STARTTLS"),
        "SMTP_USERNAME": env.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_FROM": env.get("SMTP_FROM", "kosodate-net <no-reply@kosodate-net.local>"),
        "SMTP_TIMEOUT": float(env.get("SMTP_TIMEOUT", 10)),  # each socket read or write
        # One delivery session (connect, TLS, login, the whole batch, QUIT) as a whole.
        "SMTP_SESSION_DEADLINE": _positive(env.get("SMTP_SESSION_DEADLINE", "120"), "SMTP_SESSION_DEADLINE"),
        "MAIL_RETRY_BASE_SECONDS": int(env.get("MAIL_RETRY_BASE_SECONDS", 60)),
        "MAIL_RETRY_MAX_SECONDS": int(env.get("MAIL_RETRY_MAX_SECONDS", 6 * 60 * 60)),
        "MAIL_MAX_ATTEMPTS": int(env.get("MAIL_MAX_ATTEMPTS", 8)),
        "MAIL_LEASE_SECONDS": int(env.get("MAIL_LEASE_SECONDS", 300)),
        "MAIL_MESSAGE_ID_DOMAIN": env.get("MAIL_MESSAGE_ID_DOMAIN", "kosodate-net.local"),
        # 相談の引継ぎ: closed consultations' free text is erased after this many years (handovers purge).
        "HANDOVER_RETENTION_YEARS": int(env.get("HANDOVER_RETENTION_YEARS", 5)),
        # Retention (retention purge): the access log (閲覧記録) and sent or failed e-mail.
        "ACCESS_LOG_RETENTION_YEARS": _period(env.get("ACCESS_LOG_RETENTION_YEARS", "5"), "ACCESS_LOG_RETENTION_YEARS"),
        "OUTBOX_RETENTION_DAYS": _period(env.get("OUTBOX_RETENTION_DAYS", "90"), "OUTBOX_RETENTION_DAYS"),
        # PostgreSQL: how long VACUUM FULL waits for transactions older than the purge to end.
        "RETENTION_VACUUM_WAIT_SECONDS": _positive(env.get("RETENTION_VACUUM_WAIT_SECONDS", "300"),
                                                   "RETENTION_VACUUM_WAIT_SECONDS"),
        # Migrations: a downgrade that would drop rows refuses unless this is set (or -x force=1).
        "KOSODATE_ALLOW_DESTRUCTIVE_DOWNGRADE": _flag(
            env.get("KOSODATE_ALLOW_DESTRUCTIVE_DOWNGRADE", "false"), "KOSODATE_ALLOW_DESTRUCTIVE_DOWNGRADE"),
        # Backups (flask backup): SQLite busy timeout while copying a live database, in seconds.
        "BACKUP_BUSY_TIMEOUT_SECONDS": float(env.get("BACKUP_BUSY_TIMEOUT_SECONDS", 30)),
    }
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql://"):
        # Always use psycopg 3, whatever driver the URL names.
        cfg["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + cfg["SQLALCHEMY_DATABASE_URI"][len("postgresql://"):]
    cfg.update(overrides)
    cfg.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(hours=cfg["SESSION_ABSOLUTE_HOURS"]))
    return cfg
