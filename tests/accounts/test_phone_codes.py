"""SMS verification codes (issue 22): five tries, single use, five minutes, the 60-second pause, the daily caps
per number and per address (also across two worker processes), and the flows that use them: sign-in, reset,
activation, number change. Codes are read from the development SMS backend, as a developer would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app import clock
from app.accounts import verification
from app.accounts.importer import import_members
from app.accounts.models import LoginSession, User
from app.accounts.phone_models import SmsSendCounter, VerificationCode
from app.extensions import db

from .. import factories
from ..redis_db import redis_test_url
from ..sms_codes import codes_sent_to, last_code, send_code

MOMENT = datetime(2026, 6, 15, 10, 0)
ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = redis_test_url()
WRONG = "Wrong"


@pytest.fixture(autouse=True)
def frozen():
    clock.set_now(MOMENT)
    yield
    clock.set_now(None)


def _login_by_code(client, phone, code):
    return client.post("/account/login/code", data={"phone": phone, "code": code})


def _signed_in(client) -> bool:
    return client.get("/account/profile").status_code == 200


def _other(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_code_signs_in_once_and_only_once(client, employee):
    page = send_code(client, "/account/login/code", {"phone": employee.phone}).get_data(as_text=True)
    assert f"验证码已发送至 {employee.phone[:3]}****{employee.phone[-4:]}" in page
    code = last_code(employee.phone)
    assert _login_by_code(client, employee.phone, code).status_code == 302
    assert _signed_in(client)
    second = _login_by_code(client.application.test_client(), employee.phone, code)  # replayed elsewhere
    assert second.status_code == 200 and "验证码无效或已过期" in second.get_data(as_text=True)
    assert db.session.get(User, employee.id).phone_verified_at == MOMENT


def test_a_guessed_code_is_refused_after_five_tries_even_the_right_one(client, employee):
    send_code(client, "/account/login/code", {"phone": employee.phone})
    code = last_code(employee.phone)
    messages = [_login_by_code(client, employee.phone, _other(code)).get_data(as_text=True) for _ in range(5)]
    assert "还可以再试 4 次" in messages[0] and "还可以再试 1 次" in messages[3]
    assert "错误次数过多" in messages[4]
    response = _login_by_code(client, employee.phone, code)
    assert response.status_code == 200 and not _signed_in(client)
    assert db.session.scalar(select(VerificationCode.attempts)) == 5


def test_parallel_guesses_count_as_tries_too(app, employee):
    """The tries are counted by a conditional UPDATE: guesses from many clients cannot exceed five."""
    with app.test_request_context():
        issued = verification.reserve_code(verification.Purpose.LOGIN, employee.phone, address="10.0.0.1")
    db.session.commit()
    outcomes = []
    for _ in range(8):
        try:
            verification.check_code(verification.Purpose.LOGIN, employee.phone, _other(issued.code))
        except verification.WrongCode as error:
            outcomes.append(error.attempts_left)
        db.session.commit()
    assert outcomes == [4, 3, 2, 1, 0, 0, 0, 0]
    with pytest.raises(verification.WrongCode):
        verification.check_code(verification.Purpose.LOGIN, employee.phone, issued.code)


def test_an_expired_code_is_refused(client, employee):
    send_code(client, "/account/login/code", {"phone": employee.phone})
    code = last_code(employee.phone)
    clock.set_now(MOMENT + timedelta(minutes=5))
    response = _login_by_code(client, employee.phone, code)
    assert "验证码无效或已过期" in response.get_data(as_text=True) and not _signed_in(client)


def test_a_code_for_one_purpose_does_not_open_another(client, employee):
    send_code(client, "/account/reset/code", {"phone": employee.phone})
    response = _login_by_code(client, employee.phone, last_code(employee.phone))
    assert "验证码无效或已过期" in response.get_data(as_text=True) and not _signed_in(client)


def test_a_new_code_waits_60_seconds_and_replaces_the_old_one(client, employee):
    send_code(client, "/account/login/code", {"phone": employee.phone})
    first = last_code(employee.phone)
    clock.set_now(MOMENT + timedelta(seconds=45))
    page = send_code(client, "/account/login/code", {"phone": employee.phone}).get_data(as_text=True)
    assert "请 15 秒后再重新获取" in page and codes_sent_to(employee.phone) >= 1
    clock.set_now(MOMENT + timedelta(seconds=60))
    assert "验证码已发送至" in send_code(client, "/account/login/code", {"phone": employee.phone}).get_data(
        as_text=True
    )
    second = last_code(employee.phone)
    if first != second:  # the older code is no longer valid once a newer one was sent
        assert "验证码" in _login_by_code(client, employee.phone, first).get_data(as_text=True)
        assert not _signed_in(client)
    assert _login_by_code(client, employee.phone, second).status_code == 302


def test_daily_cap_per_number(client, employee):
    for minute in range(10):
        clock.set_now(MOMENT + timedelta(minutes=minute))
        page = send_code(client, "/account/login/code", {"phone": employee.phone}).get_data(as_text=True)
        assert "验证码已发送至" in page, minute
    clock.set_now(MOMENT + timedelta(minutes=10))
    page = send_code(client, "/account/login/code", {"phone": employee.phone}).get_data(as_text=True)
    assert "今天获取验证码的次数已达上限" in page
    clock.set_now(datetime(2026, 6, 16, 0, 0, 1))  # the next day
    page = send_code(client, "/account/login/code", {"phone": employee.phone}).get_data(as_text=True)
    assert "验证码已发送至" in page


def test_daily_cap_per_address(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_CODE_DAILY_PER_ADDRESS", 3)
    pages = [
        send_code(client, "/account/register", {"phone": f"1391234000{i}"}).get_data(as_text=True) for i in range(4)
    ]
    assert all("验证码已发送至" in page for page in pages[:3])
    assert "今天获取验证码的次数已达上限" in pages[3] and codes_sent_to("13912340003") == 0
    other = app.test_client()
    other_page = other.post(
        "/account/register", data={"phone": "13912340003", "action": "send"}, environ_base={"REMOTE_ADDR": "10.1.1.1"}
    ).get_data(as_text=True)
    assert "验证码已发送至" in other_page


def test_unknown_numbers_get_the_same_answer_and_no_sms(client, employee):
    unknown = "13912377777"
    page = send_code(client, "/account/login/code", {"phone": unknown}).get_data(as_text=True)
    assert "验证码已发送至 139****7777" in page and codes_sent_to(unknown) == 0
    assert db.session.scalar(select(VerificationCode.id)) is None
    # An account that has a password is not "activated" again: reset is the way.
    page = send_code(client, "/account/activate", {"phone": employee.phone}).get_data(as_text=True)
    assert "验证码已发送至" in page and codes_sent_to(employee.phone) == 0


def test_reset_by_code_with_no_email_ends_every_session(app, employee):
    assert employee.email is None
    phone_client = app.test_client()
    factories.login(phone_client, employee)
    client = app.test_client()
    send_code(client, "/account/reset/code", {"phone": employee.phone})
    data = {"phone": employee.phone, "code": last_code(employee.phone)}
    weak = client.post("/account/reset/code", data={**data, "password": "password", "password_confirm": "password"})
    assert "这个密码太常见" in weak.get_data(as_text=True)
    response = client.post(
        "/account/reset/code", data={**data, "password": "lushan-cloud-88", "password_confirm": "lushan-cloud-88"}
    )
    assert response.status_code == 302
    assert not _signed_in(phone_client)
    assert db.session.scalar(select(LoginSession.id).where(LoginSession.revoked_at.is_(None))) is None
    factories.login(app.test_client(), employee, password="lushan-cloud-88")


def test_an_imported_member_activates_with_a_code_and_no_password_is_handed_around(client):
    phone = "13912355555"
    report = import_members(
        "phone,name,gender,birth_date,city,employer,enterprise_type,industry,frontline,member_no,email,password\n"
        f"{phone},孙丽,female,1991-04-05,南昌,南昌电子厂,非公企业,电子信息,是,,,\n"
    )
    db.session.commit()
    assert report.needs_password == [phone]
    send_code(client, "/account/activate", {"phone": phone})
    response = client.post(
        "/account/activate",
        data={
            "phone": phone,
            "code": last_code(phone),
            "password": "jinggang-hill-9",
            "password_confirm": "jinggang-hill-9",
            "accept_documents": "y",
            "terms_version": "2026-12",
            "privacy_version": "2026-12",
        },
    )
    assert response.status_code == 302 and _signed_in(client)
    user = db.session.scalar(select(User).where(User.phone == phone))
    assert user.password_hash and user.phone_verified_at == MOMENT


def test_change_number_verifies_the_new_number(employee_client, employee, organizer):
    taken = send_code(employee_client, "/account/phone", {"new_phone": organizer.phone}).get_data(as_text=True)
    assert "该手机号已注册。" in taken and codes_sent_to(organizer.phone) == 0
    new = "13912366666"
    send_code(employee_client, "/account/phone", {"new_phone": new})
    wrong = employee_client.post("/account/phone", data={"new_phone": new, "code": _other(last_code(new))})
    assert "验证码不正确" in wrong.get_data(as_text=True)
    response = employee_client.post("/account/phone", data={"new_phone": new, "code": last_code(new)})
    assert response.status_code == 302 and _signed_in(employee_client)
    assert db.session.get(User, employee.id).phone == new


def test_a_code_on_a_page_that_failed_validation_is_not_spent(client):
    data = {"phone": "13912344444"}
    send_code(client, "/account/register", data)
    code = last_code("13912344444")
    response = client.post("/account/register", data={**data, "code": code, "name": ""})
    assert response.status_code == 200
    assert db.session.scalar(select(VerificationCode.attempts)) == 0


def test_old_codes_and_counters_are_deleted_by_retention(client, employee):
    from app.privacy.retention import apply_retention

    send_code(client, "/account/login/code", {"phone": employee.phone})
    apply_retention(MOMENT + timedelta(hours=1))
    db.session.commit()
    assert db.session.scalar(select(VerificationCode.id)) is not None  # kept a day after it expired
    apply_retention(MOMENT + timedelta(days=2))
    db.session.commit()
    assert db.session.scalar(select(VerificationCode.id)) is None
    assert db.session.scalar(select(SmsSendCounter.key)) is None


_WORKER = textwrap.dedent(
    """
    import json, sys, time
    from app import create_app
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key", "WTF_CSRF_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": sys.argv[1], "SMS_CODE_DAILY_PER_ADDRESS": 5})
    worker, start, count = sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    client = app.test_client()
    time.sleep(max(0.0, start - time.time()))
    sent = []
    for i in range(count):
        # distinct numbers from one address (the address cap), then one number both workers share (the pause)
        phone = f"13{worker}{i:08d}" if i < count - 1 else "13912399990"
        response = client.post("/account/register", data={"phone": phone, "action": "send"},
                               environ_base={"REMOTE_ADDR": "10.9.9.9" if i < count - 1 else f"10.8.8.{worker}"})
        sent.append("验证码已发送至" in response.get_data(as_text=True))
    print(json.dumps({"storage": app.config["RATELIMIT_STORAGE_URI"], "sent": sent}))
    """
)


def test_caps_hold_across_two_worker_processes(database_url):
    """Two app processes (Flask-Limiter on Redis, the caps in the shared database) press "获取验证码" at the same
    moment: five codes from one address in all, and one code for a number both ask for at once."""
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    connection.flushdb()
    clock.set_now(None)  # the workers run on the real clock
    db.session.commit()
    env = {**os.environ, "REDIS_URL": REDIS_URL, "PYTHONPATH": str(ROOT)}
    start = time.time() + 4
    try:
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", _WORKER, database_url, worker, str(start), "5"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for worker in ("1", "2")
        ]
        results = []
        for process in workers:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err[-2000:]
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        connection.flushdb()
    assert results[0]["storage"] == REDIS_URL
    from_one_address = [flag for result in results for flag in result["sent"][:-1]]
    assert sum(from_one_address) == 5 and len(from_one_address) == 8
    assert sum(result["sent"][-1] for result in results) == 1, "one code for the shared number, not two"


def test_a_password_lockout_does_not_block_the_code_route(client, employee):
    for _ in range(10):
        client.post("/account/login", data={"phone": employee.phone, "password": "wrong-password"})
    locked = client.post("/account/login", data={"phone": employee.phone, "password": factories.PASSWORD})
    assert locked.status_code == 429
    assert "验证码已发送至" in send_code(client, "/account/login/code", {"phone": employee.phone}).get_data(
        as_text=True
    )
    assert _login_by_code(client, employee.phone, last_code(employee.phone)).status_code == 302
    assert _signed_in(client)
