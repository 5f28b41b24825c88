"""Settings read from environment variables.

Everything the app can be told comes through here; the README lists each variable. Development needs none of
them: the database is an SQLite file in ``instance/`` and a secret key is created there once and kept.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key, "").strip()
    return int(raw) if raw.isdigit() else default


def _instance_secret(instance_path: Path) -> str:
    """Create once and keep the development secret key in ``instance/secret_key``."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


MEMORY_STORAGE = "memory://"


class ConfigError(RuntimeError):
    """The environment does not describe a startable app (e.g. production without SECRET_KEY)."""


def load_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask config mapping from the environment, then apply ``overrides`` (tests, CLI)."""
    env = os.environ
    overrides = overrides or {}
    app_env = overrides.get("APP_ENV", env.get("APP_ENV", "development"))
    production = app_env == "production"

    secret = overrides.get("SECRET_KEY") or env.get("SECRET_KEY")
    if not secret:
        if production:
            raise ConfigError("SECRET_KEY must be set when APP_ENV=production")
        secret = _instance_secret(instance_path)

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'zhijia.sqlite3'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]

    replica_url = env.get("DATABASE_REPLICA_URL") or None
    if replica_url and replica_url.startswith("postgresql://"):
        replica_url = "postgresql+psycopg://" + replica_url[len("postgresql://") :]

    redis_url = env.get("REDIS_URL") or None
    storage_uri = env.get("RATELIMIT_STORAGE_URI") or redis_url or MEMORY_STORAGE
    config: dict[str, Any] = {
        "APP_ENV": app_env,
        "TESTING": False,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "SQLALCHEMY_POOL_SIZE": int(env.get("DB_POOL_SIZE", "5")),
        # A streaming replica for reads that may lag (statistics, public figures, their exports); the primary
        # answers them when the replica is down or further behind than DATABASE_REPLICA_MAX_LAG_SECONDS.
        "DATABASE_REPLICA_URL": replica_url,
        "DATABASE_REPLICA_MAX_LAG_SECONDS": _int(env, "DATABASE_REPLICA_MAX_LAG_SECONDS", 30),
        "DATABASE_REPLICA_CHECK_SECONDS": _int(env, "DATABASE_REPLICA_CHECK_SECONDS", 5),
        # GET /metrics for the Prometheus server (Authorization: Bearer <token>); admins see it when logged in.
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        # How long the API remembers an Idempotency-Key's answer.
        "IDEMPOTENCY_KEY_HOURS": _int(env, "IDEMPOTENCY_KEY_HOURS", 24),
        "DB_POOL_PRE_PING": _bool(env.get("DB_POOL_PRE_PING")),
        # How long a statement waits for a lock before the request is answered "busy, retry" (503).
        "DB_LOCK_TIMEOUT_SECONDS": float(env.get("DB_LOCK_TIMEOUT_SECONDS", "20")),
        "REDIS_URL": redis_url,
        # Number of reverse proxies in front of the app (X-Forwarded-For/-Proto are trusted from that many hops).
        "TRUSTED_PROXY_COUNT": int(env.get("TRUSTED_PROXY_COUNT", "0")),
        "RATELIMIT_STORAGE_URI": storage_uri,
        # Memory storage counts in each process on its own (N gunicorn workers allow N times the limit):
        # production accepts it only when this says so.
        "RATELIMIT_ALLOW_PER_PROCESS_MEMORY": _bool(env.get("RATELIMIT_ALLOW_PER_PROCESS_MEMORY")),
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per 5 minutes"),
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": ["zh_CN", "en"],
        "WTF_CSRF_TIME_LIMIT": None,
        # Requests larger than this answer 413 (no feature uploads more than a CSV of a few MB).
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(16 * 1024 * 1024))),
        # Cover pictures (events.covers): where their re-encoded sizes are stored, and the largest upload accepted.
        "MEDIA_FOLDER": env.get("MEDIA_FOLDER") or str(instance_path / "media"),
        "COVER_MAX_BYTES": int(env.get("COVER_MAX_BYTES", str(5 * 1024 * 1024))),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_NAME": "zhijia_session",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "SESSION_IDLE_MINUTES": int(env.get("SESSION_IDLE_MINUTES", "120")),
        "SESSION_ABSOLUTE_HOURS": int(env.get("SESSION_ABSOLUTE_HOURS", "72")),
        # API tokens die when unused this long, and this long after they were issued however much they are used.
        "API_TOKEN_IDLE_DAYS": _int(env, "API_TOKEN_IDLE_DAYS", 30),
        "API_TOKEN_ABSOLUTE_DAYS": _int(env, "API_TOKEN_ABSOLUTE_DAYS", 90),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "SERVER_BASE_URL": env.get("SERVER_BASE_URL", "http://127.0.0.1:5000"),
        "MAIL_SERVER": env.get("MAIL_SERVER", "127.0.0.1"),
        "MAIL_PORT": int(env.get("MAIL_PORT", "8025")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS")),
        "MAIL_USE_SSL": _bool(env.get("MAIL_USE_SSL")),
        "MAIL_TIMEOUT": float(env.get("MAIL_TIMEOUT", "10")),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "职工之家 <noreply@zhijia.local>"),
        "SMS_BACKEND": env.get("SMS_BACKEND", "log"),
        "SMS_GATEWAY_URL": env.get("SMS_GATEWAY_URL") or None,
        "SMS_GATEWAY_KEY_ID": env.get("SMS_GATEWAY_KEY_ID") or None,
        "SMS_GATEWAY_SECRET": env.get("SMS_GATEWAY_SECRET") or None,
        "SMS_SIGN_NAME": env.get("SMS_SIGN_NAME", "职工之家"),
        "SMS_TEMPLATE_CODE": env.get("SMS_TEMPLATE_CODE", ""),
        "SMS_TEMPLATE_NOTICE": env.get("SMS_TEMPLATE_NOTICE", ""),
        "SMS_GATEWAY_TIMEOUT": float(env.get("SMS_GATEWAY_TIMEOUT", "5")),
        "SMS_GATEWAY_RETRIES": _int(env, "SMS_GATEWAY_RETRIES", 2),
        # Messages per gateway request for notifications (1: one request each; verification codes always go alone).
        "SMS_GATEWAY_BATCH": _int(env, "SMS_GATEWAY_BATCH", 1),
        # Verification codes by SMS: at most this many a day to one number and from one client address.
        "SMS_CODE_DAILY_PER_PHONE": _int(env, "SMS_CODE_DAILY_PER_PHONE", 10),
        "SMS_CODE_DAILY_PER_ADDRESS": _int(env, "SMS_CODE_DAILY_PER_ADDRESS", 30),
        # Who answers questions about personal data (shown in the privacy policy).
        "PRIVACY_CONTACT_EMAIL": env.get("PRIVACY_CONTACT_EMAIL", "privacy@zhijia.local"),
        "PRIVACY_CONTACT_ADDRESS": env.get("PRIVACY_CONTACT_ADDRESS", "江西省南昌市 江西省总工会 网络与信息部"),
        "SCHEDULER_EMBEDDED": _bool(env.get("SCHEDULER_EMBEDDED")),
        "BOOKING_LOCKING": True,
        "STATS_SUPPRESSION_THRESHOLD": int(env.get("STATS_SUPPRESSION_THRESHOLD", "5")),
        "TRIP_YEARLY_TARGET": int(env.get("TRIP_YEARLY_TARGET", "10000")),
        # Dates of events, slots and windows: from 1 January of EVENT_EARLIEST_YEAR (past events may be recorded)
        # to EVENT_MAX_YEARS_AHEAD years after now; a date outside is a typing mistake or a hostile one.
        # Check-in at the door opens this many hours before an event starts (booking.window) and closes at its end.
        "CHECKIN_OPENS_HOURS_BEFORE": _int(env, "CHECKIN_OPENS_HOURS_BEFORE", 3),
        "EVENT_EARLIEST_YEAR": _int(env, "EVENT_EARLIEST_YEAR", 2000),
        "EVENT_MAX_YEARS_AHEAD": _int(env, "EVENT_MAX_YEARS_AHEAD", 5),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        # Outbox delivery (notifications) and the scheduler.
        "NOTIFY_LEASE_SECONDS": _int(env, "NOTIFY_LEASE_SECONDS", 300),
        "NOTIFY_MAX_ATTEMPTS": _int(env, "NOTIFY_MAX_ATTEMPTS", 5),
        "NOTIFY_BATCH": _int(env, "NOTIFY_BATCH", 100),
        "NOTIFY_SEND_GROUP": _int(env, "NOTIFY_SEND_GROUP", 20),
        "SCHEDULER_DELIVERY_SECONDS": _int(env, "SCHEDULER_DELIVERY_SECONDS", 15),
        # Retention (privacy): how long each kind of personal data is kept.
        "RETENTION_REGISTRATION_YEARS": _int(env, "RETENTION_REGISTRATION_YEARS", 3),
        "RETENTION_OUTBOX_DAYS": _int(env, "RETENTION_OUTBOX_DAYS", 90),
        "RETENTION_LOGIN_DAYS": _int(env, "RETENTION_LOGIN_DAYS", 30),
        "RETENTION_WITHDRAWN_CONSENT_YEARS": _int(env, "RETENTION_WITHDRAWN_CONSENT_YEARS", 3),
        "NOTIFY_INBOX_RETENTION_DAYS": _int(env, "NOTIFY_INBOX_RETENTION_DAYS", 365),
        "MIXER_CONTACT_RETENTION_DAYS": _int(env, "MIXER_CONTACT_RETENTION_DAYS", 180),
        "TRIP_ATTENDANCE_RETENTION_DAYS": _int(env, "TRIP_ATTENDANCE_RETENTION_DAYS", 90),
    }
    config.update(overrides)
    if production:
        check_rate_limit_storage(config)
    return config


def check_rate_limit_storage(config: Mapping[str, Any]) -> None:
    """In production rate limits must be counted in storage that every worker shares (Redis): with memory
    storage each gunicorn worker counts on its own, so two workers let twice the allowed wrong logins through.
    Memory storage is accepted only when RATELIMIT_ALLOW_PER_PROCESS_MEMORY says the per-process counting is
    meant (one worker, or limits that may be multiplied)."""
    if not config.get("RATELIMIT_ENABLED") or config.get("RATELIMIT_ALLOW_PER_PROCESS_MEMORY"):
        return
    if str(config.get("RATELIMIT_STORAGE_URI") or MEMORY_STORAGE).startswith(MEMORY_STORAGE):
        raise ConfigError(
            "APP_ENV=production needs rate-limit storage shared by every worker: set REDIS_URL (or "
            "RATELIMIT_STORAGE_URI, e.g. redis://host:6379/0). With in-memory storage each gunicorn worker counts "
            "login attempts on its own, per process, so the limits are multiplied by the number of workers. To run "
            "with per-process counting anyway, set RATELIMIT_ALLOW_PER_PROCESS_MEMORY=1."
        )
