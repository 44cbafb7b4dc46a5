"""Configuration from environment variables, with an embedded SQLite default.

KOSODATE_ENV selects the mode: ``production`` (the default, so a forgotten
setting fails safe), ``development`` (demo data and demo passwords allowed)
or ``test``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

MODES = ("production", "development", "test")


class ConfigError(RuntimeError):
    pass


def _flag(value: str, name: str) -> bool:
    """An on/off environment variable; anything unclear is refused rather than guessed."""
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def load_config(app_instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    env = os.environ
    overrides = dict(overrides or {})
    mode = overrides.get("KOSODATE_ENV") or env.get("KOSODATE_ENV", "production")
    if mode not in MODES:
        raise ConfigError(f"KOSODATE_ENV must be one of {MODES}, not {mode!r}")

    secret = overrides.get("SECRET_KEY") or env.get("SECRET_KEY")
    if not secret:
        if mode == "production":
            raise ConfigError("SECRET_KEY must be set outside development (KOSODATE_ENV=production)")
        secret = "development-only-secret-key-not-for-production"

    default_db = "sqlite:///" + os.path.join(app_instance_path, "kosodate.sqlite3")
    cfg: dict[str, Any] = {
        "KOSODATE_ENV": mode,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL", default_db),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Absolute base of links in e-mails (the mail worker has no request to read it from);
        # by default the address bin/serve listens on, so links follow its PORT.
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{env.get('PORT') or 5000}",
        # The deployment's prefecture (都道府県コード); 11 = 埼玉県.
        "PREFECTURE_CODE": env.get("PREFECTURE_CODE", "11"),
        "DASHBOARD_TARGET_YEAR": int(env.get("DASHBOARD_TARGET_YEAR", 2027)),  # 年度 by whose end every municipality has a network
        # Session cookie: not readable by scripts, not sent on cross-site posts.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": mode == "production",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": mode == "production",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead
        "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,
        # Roster imports (CSV/XLSX): size and row limits.
        "IMPORT_MAX_BYTES": int(env.get("IMPORT_MAX_BYTES", 5 * 1024 * 1024)),
        "IMPORT_MAX_ROWS": int(env.get("IMPORT_MAX_ROWS", 2000)),
        # Login throttling: failures allowed per window, per account and per address.
        "LOGIN_WINDOW_SECONDS": int(env.get("LOGIN_WINDOW_SECONDS", 15 * 60)),
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": int(env.get("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": int(env.get("LOGIN_MAX_FAILURES_PER_ADDRESS", 30)),
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
        "SMTP_TIMEOUT": float(env.get("SMTP_TIMEOUT", 10)),
        "MAIL_RETRY_BASE_SECONDS": int(env.get("MAIL_RETRY_BASE_SECONDS", 60)),
        "MAIL_RETRY_MAX_SECONDS": int(env.get("MAIL_RETRY_MAX_SECONDS", 6 * 60 * 60)),
        "MAIL_MAX_ATTEMPTS": int(env.get("MAIL_MAX_ATTEMPTS", 8)),
        "MAIL_LEASE_SECONDS": int(env.get("MAIL_LEASE_SECONDS", 300)),
        "MAIL_MESSAGE_ID_DOMAIN": env.get("MAIL_MESSAGE_ID_DOMAIN", "kosodate-net.local"),
        # 相談の引継ぎ: closed consultations' free text is erased after this many years (handovers purge).
        "HANDOVER_RETENTION_YEARS": int(env.get("HANDOVER_RETENTION_YEARS", 5)),
    }
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql://"):
        # Always use psycopg 3, whatever driver the URL names.
        cfg["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + cfg["SQLALCHEMY_DATABASE_URI"][len("postgresql://"):]
    cfg.update(overrides)
    return cfg
