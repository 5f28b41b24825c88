"""Rate limits on login, registration, password reset, the token endpoint, and account deletion; shared across
workers through Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.accounts.models import User
from app.extensions import db

from .. import factories
from ..redis_db import redis_test_url
from ..sms_codes import documents_accepted, last_code, send_code

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = redis_test_url()


def test_login_limited_per_address(client):
    statuses = [
        client.post("/account/login", data={"phone": f"1390000{i:04d}", "password": "wrong-password"}).status_code
        for i in range(11)
    ]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429


def test_login_limited_per_account_across_addresses(app, employee):
    statuses = []
    for i in range(11):
        response = app.test_client().post(
            "/account/login",
            data={"phone": employee.phone, "password": "wrong-password"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{i + 1}"},
        )
        statuses.append(response.status_code)
    assert statuses[10] == 429
    # The right password from a new address is refused too while the account is under attack.
    response = app.test_client().post(
        "/account/login",
        data={"phone": employee.phone, "password": factories.PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.1.1"},
    )
    assert response.status_code == 429


def test_successful_logins_are_not_counted(app, employee):
    for _ in range(12):
        factories.login(app.test_client(), employee)


def test_password_reset_limited(client, employee):
    statuses = [client.post("/account/reset", data={"phone": employee.phone}).status_code for _ in range(6)]
    assert statuses[:5] == [302] * 5 and statuses[5] == 429


def test_token_endpoint_limited(client, employee):
    statuses = [
        client.post("/api/v1/tokens", json={"phone": employee.phone, "password": "wrong-password"}).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429
    assert client.post("/api/v1/tokens", json={}).get_json()["error"] == "rate_limited"


REGISTRATION = {
    "password": "ganjiang-river-7",
    "password_confirm": "ganjiang-river-7",
    "name": "注册测试",
    "gender": "male",
    "birth_date": "1990-05-06",
    "city": "nanchang",
    "employer": "南昌测试厂",
    "enterprise_type": "non_public",
    "industry": "",
}


def test_registration_limited(app):
    """The 21st registration within the hour is refused, already when it asks for its code."""
    statuses = []
    for i in range(21):
        client = app.test_client()
        data = {**REGISTRATION, "phone": f"1377000{i:04d}"}
        sent = send_code(client, "/account/register", data)
        if sent.status_code != 200:
            statuses.append(sent.status_code)
            continue
        response = client.post(
            "/account/register", data={**data, "code": last_code(data["phone"]), **documents_accepted()}
        )
        statuses.append(response.status_code)
    assert statuses[:20] == [302] * 20 and statuses[20] == 429
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 20


def test_failed_registrations_limited_too(client, employee):
    """Probing which phones are registered ("该手机号已注册") is limited per address."""
    statuses = [
        client.post("/account/register", data={**REGISTRATION, "phone": employee.phone}).status_code for _ in range(61)
    ]
    assert 429 in statuses and statuses[0] == 200


_WORKER = textwrap.dedent(
    """
    import json, sys
    from app import create_app
    from app.extensions import db
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "WTF_CSRF_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": sys.argv[1], "LOGIN_RATE_LIMIT": "6 per 5 minutes"})
    with app.app_context():
        db.create_all()
    client = app.test_client()
    statuses = [client.post("/account/login", data={"phone": "13900000001", "password": "wrong-password"}).status_code
                for _ in range(int(sys.argv[2]))]
    print(json.dumps({"storage": app.config["RATELIMIT_STORAGE_URI"], "statuses": statuses}))
    """
)


def _redis_or_skip():
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return connection


def test_limit_is_shared_by_two_app_processes_through_redis(tmp_path):
    connection = _redis_or_skip()
    connection.flushdb()
    env = {**os.environ, "REDIS_URL": REDIS_URL, "PYTHONPATH": str(ROOT)}
    database = f"sqlite:///{tmp_path / 'workers.sqlite3'}"
    try:
        results = []
        for attempts in (4, 4):  # two workers, 4 failed logins each, limit 6 per address
            out = subprocess.run(
                [sys.executable, "-c", _WORKER, database, str(attempts)],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        connection.flushdb()
    assert results[0]["storage"] == REDIS_URL
    assert results[0]["statuses"] == [200, 200, 200, 200]
    assert results[1]["statuses"] == [200, 200, 429, 429], "the second worker sees the first worker's attempts"


def test_token_endpoint_limited_per_account_across_addresses(app, employee):
    statuses = [
        app.test_client()
        .post(
            "/api/v1/tokens",
            json={"phone": employee.phone, "password": "wrong-password"},
            environ_base={"REMOTE_ADDR": f"10.0.2.{i + 1}"},
        )
        .status_code
        for i in range(11)
    ]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429
