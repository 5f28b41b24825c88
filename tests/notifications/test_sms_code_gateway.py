"""Verification codes through the HTTP SMS gateway backend, against a fake gateway the test starts on
127.0.0.1 (http.server in a daemon thread, stopped at the end): the request is signed and carries the signature
and template; 5xx answers are retried, refusals are not; every failure is a clear message on the page, never a
500; and outside the development backend no code is written to the logs or to the database in clear."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections import deque
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, text

from app import clock, create_app
from app.accounts.phone_models import VerificationCode
from app.extensions import db
from tests.conftest import TEST_CONFIG

SECRET = "gateway-secret"
MOMENT = datetime(2026, 6, 15, 10, 0)


class FakeGateway:
    """A local SMS gateway: records each request, answers from a queue of (status, body), checks signatures."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: deque[tuple[int, dict | None]] = deque()
        self.bad_signatures = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signed = f"{self.headers['X-Sms-Timestamp']}\n{self.headers['X-Sms-Nonce']}\n".encode() + body
                expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, self.headers.get("X-Sms-Signature", "")):
                    gateway.bad_signatures += 1
                gateway.requests.append({"key_id": self.headers.get("X-Sms-Key-Id"), **json.loads(body)})
                status, answer = gateway.answers.popleft() if gateway.answers else (200, {"code": "OK"})
                payload = json.dumps(answer).encode() if answer is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-sms-gateway", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/v1/sms"

    def codes(self) -> list[str]:
        return [request["params"].get("code") for request in self.requests]


@pytest.fixture
def gateway(app, monkeypatch):
    fake = FakeGateway()
    fake.thread.start()
    for key, value in {
        "SMS_BACKEND": "gateway",
        "SMS_GATEWAY_URL": fake.url,
        "SMS_GATEWAY_KEY_ID": "zhijia-test",
        "SMS_GATEWAY_SECRET": SECRET,
        "SMS_SIGN_NAME": "职工之家",
        "SMS_TEMPLATE_CODE": "SMS_CODE_001",
        "SMS_TEMPLATE_NOTICE": "SMS_NOTICE_001",
        "SMS_GATEWAY_TIMEOUT": 3,
        "SMS_GATEWAY_RETRIES": 2,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    clock.set_now(MOMENT)
    yield fake
    fake.server.shutdown()
    fake.server.server_close()
    fake.thread.join(timeout=5)
    assert not fake.thread.is_alive()


def _send(client, phone):
    response = client.post("/account/login/code", data={"phone": phone, "action": "send"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_code_goes_out_signed_with_the_signature_and_template_and_signs_in(client, employee, gateway):
    assert "验证码已发送至" in _send(client, employee.phone)
    [request] = gateway.requests
    assert gateway.bad_signatures == 0 and request["key_id"] == "zhijia-test"
    assert request["to"] == employee.phone
    assert request["sign_name"] == "职工之家" and request["template_id"] == "SMS_CODE_001"
    code = request["params"]["code"]
    assert len(code) == 6 and code.isdigit() and code in request["text"]
    response = client.post("/account/login/code", data={"phone": employee.phone, "code": code})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("status", "answer", "message"),
    [
        (200, {"code": "INVALID_NUMBER", "message": "bad number"}, "短信平台无法向这个号码发送短信"),
        (200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL"}, "短信平台无法向这个号码发送短信"),
        (400, {"code": "QUOTA_EXCEEDED"}, "这个号码今天收到的短信已达运营商上限"),
        (200, {"code": "isv.BUSINESS_LIMIT_CONTROL"}, "这个号码今天收到的短信已达运营商上限"),
        (403, {"code": "SIGNATURE_MISMATCH"}, "短信平台拒绝发送"),
        (401, None, "短信平台拒绝发送"),
    ],
)
def test_a_refusal_is_a_clear_message_not_retried(client, employee, gateway, status, answer, message):
    gateway.answers.append((status, answer))
    page = _send(client, employee.phone)
    assert message in page and "验证码已发送至" not in page
    assert len(gateway.requests) == 1, "a refusal is not retried"
    # The unusable code is voided: asking again at once is allowed (no 60-second wait after a failure).
    assert db.session.scalar(select(VerificationCode.voided_at)) is not None
    assert "验证码已发送至" in _send(client, employee.phone)


def test_5xx_is_retried_then_succeeds(client, employee, gateway):
    gateway.answers.extend([(503, None), (502, {"code": "BUSY"})])
    assert "验证码已发送至" in _send(client, employee.phone)
    assert len(gateway.requests) == 3 and len(set(gateway.codes())) == 1, "the same code is retried"
    response = client.post("/account/login/code", data={"phone": employee.phone, "code": gateway.codes()[-1]})
    assert response.status_code == 302


def test_5xx_every_time_says_the_service_is_unavailable(client, employee, gateway):
    gateway.answers.extend([(500, None)] * 3)
    page = _send(client, employee.phone)
    assert "短信服务暂时不可用" in page and len(gateway.requests) == 3


def test_an_unreachable_gateway_says_the_service_is_unavailable(app, client, employee, gateway, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", "http://127.0.0.1:1/v1/sms")
    assert "短信服务暂时不可用" in _send(client, employee.phone)
    register = client.post("/account/register", data={"phone": "13912388888", "action": "send"})
    assert register.status_code == 200 and "短信服务暂时不可用" in register.get_data(as_text=True)


def _everything_in_the_database() -> str:
    rows = []
    for table in db.metadata.sorted_tables:
        rows.extend(str(tuple(row)) for row in db.session.execute(text(f'SELECT * FROM "{table.name}"')))
    db.session.commit()
    return "\n".join(rows)


def test_no_code_in_the_logs_or_the_database_in_clear(client, employee, gateway, caplog):
    with caplog.at_level(logging.DEBUG):
        _send(client, employee.phone)
        code = gateway.codes()[-1]
        gateway.answers.append((200, {"code": "INVALID_NUMBER"}))
        clock.set_now(MOMENT.replace(minute=5))
        _send(client, employee.phone)
        refused_code = gateway.codes()[-1]
        client.post("/account/login/code", data={"phone": employee.phone, "code": code})
    for secret in (code, refused_code):
        assert secret not in caplog.text
        assert secret not in _everything_in_the_database()
    assert employee.phone not in caplog.text


def test_the_log_backend_masks_codes_in_production_and_has_no_development_page(caplog):
    production = create_app(
        {
            **TEST_CONFIG,
            "APP_ENV": "production",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": "prod-secret",
            "RATELIMIT_ALLOW_PER_PROCESS_MEMORY": True,
        }
    )
    from app.notifications.channels.sms import recent, sms_channel
    from app.notifications.codes import send_code

    assert "dev_sms" not in production.blueprints
    before = list(recent)
    with production.app_context(), caplog.at_level(logging.INFO, logger="zhijia.sms"):
        assert sms_channel(production.config).show_codes is False
        send_code("13912311111", "864209", purpose=None)  # type: ignore[arg-type]
    assert "864209" not in caplog.text and "******" in caplog.text
    assert list(recent) == before


def test_the_development_page_shows_the_codes_outside_production(client, employee):
    client.post("/account/login/code", data={"phone": employee.phone, "action": "send"})
    page = client.get("/dev/sms").get_data(as_text=True)
    from tests.sms_codes import last_code

    assert last_code(employee.phone) in page


def test_notifications_through_the_gateway_use_the_notice_template(app, gateway):
    from app.notifications import delivery
    from app.notifications.channels import build_channels

    from .factories import freeze, generic, person

    freeze(MOMENT)
    user = person()
    generic(user, "gateway-notice", channels=("sms",))
    assert delivery.tick(owner="s1", channels=build_channels(app.config)).sent == 1
    [request] = gateway.requests
    assert request["template_id"] == "SMS_NOTICE_001" and request["params"]["text"]
