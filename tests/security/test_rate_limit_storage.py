"""Production refuses to start with per-process rate-limit counters unless told so explicitly: with memory storage
each gunicorn worker counts on its own, so N workers let N times the allowed wrong logins through."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import create_app
from app.config import ConfigError

STORAGE_VARIABLES = ("REDIS_URL", "RATELIMIT_STORAGE_URI", "RATELIMIT_ALLOW_PER_PROCESS_MEMORY", "RATELIMIT_ENABLED")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in STORAGE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    return monkeypatch


def _start(tmp_path: Path, **overrides: object):  # type: ignore[no-untyped-def]
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'start.sqlite3'}", **overrides})


def test_production_without_shared_storage_refuses_to_start(clean_env, tmp_path):
    with pytest.raises(ConfigError) as refused:
        _start(tmp_path)
    message = str(refused.value)
    assert "REDIS_URL" in message and "RATELIMIT_ALLOW_PER_PROCESS_MEMORY=1" in message
    assert "per process" in message


def test_memory_storage_named_explicitly_is_still_refused_without_the_per_process_setting(clean_env, tmp_path):
    clean_env.setenv("RATELIMIT_STORAGE_URI", "memory://")
    with pytest.raises(ConfigError):
        _start(tmp_path)


def test_production_starts_with_redis(clean_env, tmp_path):
    clean_env.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    assert _start(tmp_path).config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/15"


def test_production_starts_with_a_storage_uri(clean_env, tmp_path):
    clean_env.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/14")
    assert _start(tmp_path).config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/14"


def test_production_starts_with_memory_storage_chosen_as_per_process(clean_env, tmp_path):
    clean_env.setenv("RATELIMIT_ALLOW_PER_PROCESS_MEMORY", "1")
    app = _start(tmp_path)
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert app.config["RATELIMIT_ALLOW_PER_PROCESS_MEMORY"] is True


def test_development_keeps_memory_storage_without_any_setting(clean_env, tmp_path):
    clean_env.setenv("APP_ENV", "development")
    assert _start(tmp_path).config["RATELIMIT_STORAGE_URI"] == "memory://"
