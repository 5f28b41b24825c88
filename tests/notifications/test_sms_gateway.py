"""The SMS gateway backend, selected by configuration, against a local HTTP endpoint: one request per message, or
with ``SMS_GATEWAY_BATCH`` many messages per request, each answered and recorded on its own."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from app import clock
from app.accounts.verification import Purpose
from app.notifications import delivery
from app.notifications.channels import DeliveryError, build_channels
from app.notifications.channels.sms import GatewaySmsChannel

from .factories import OutboxStatus, freeze, generic, later, outbox, person, statuses

SECRET = "batch-secret"


class Gateway(BaseHTTPRequestHandler):
    """A local SMS gateway taking one message (``{"to": ...}``) or a batch (``{"messages": [...]}``) per request.

    It records every request (``received``) and whether its signature covers the exact body (``signatures``);
    answers the statuses in ``statuses`` first, then ``status`` (a 5xx sends nothing); refuses the numbers in
    ``refuse`` with their code; and, like a provider with idempotency on the message id, puts a message on a phone
    once (``delivered``: id -> number and text), answering a repeat OK. An id in ``drop`` is delivered but left
    out of that batch's answer, once."""

    received: list[dict] = []
    signatures: list[bool] = []
    statuses: list[int] = []
    status = 200
    refuse: dict[str, str] = {}
    drop: set[str] = set()
    delivered: dict[str, tuple[str, str]] = {}
    phone_sends: list[str] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = json.loads(body)
        Gateway.received.append(request)
        if self.headers.get("X-Sms-Signature"):
            signed = f"{self.headers['X-Sms-Timestamp']}\n{self.headers['X-Sms-Nonce']}\n".encode() + body
            expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
            Gateway.signatures.append(hmac.compare_digest(expected, self.headers["X-Sms-Signature"]))
        status = Gateway.statuses.pop(0) if Gateway.statuses else Gateway.status
        answer = None
        if status < 500 and "messages" in request:
            results = [{"id": message["id"], "code": self._accept(message)} for message in request["messages"]]
            answer = {"results": [result for result in results if not self._dropped(result["id"])]}
        elif status < 300:
            answer = {"code": self._accept(request)}
        payload = json.dumps(answer).encode() if answer is not None else b""
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    @staticmethod
    def _accept(message: dict) -> str:
        if message["to"] in Gateway.refuse:
            return Gateway.refuse[message["to"]]
        if message["id"] not in Gateway.delivered:
            Gateway.delivered[message["id"]] = (message["to"], message["text"])
            Gateway.phone_sends.append(message["id"])
        return "OK"

    @staticmethod
    def _dropped(message_id: str) -> bool:
        if message_id in Gateway.drop:
            Gateway.drop.discard(message_id)
            return True
        return False

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    Gateway.received, Gateway.signatures, Gateway.statuses, Gateway.status = [], [], [], 200
    Gateway.refuse, Gateway.drop, Gateway.delivered, Gateway.phone_sends = {}, set(), {}, []
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sms"
    server.shutdown()
    server.server_close()


@pytest.fixture
def batching(app, gateway, monkeypatch):
    """The gateway backend with batches of 50 (claims of 100, send groups of 20), signed with ``SECRET``."""
    for key, value in {
        "SMS_BACKEND": "gateway",
        "SMS_GATEWAY_URL": gateway,
        "SMS_GATEWAY_KEY_ID": "zhijia-test",
        "SMS_GATEWAY_SECRET": SECRET,
        "SMS_GATEWAY_RETRIES": 2,
        "SMS_GATEWAY_BATCH": 50,
        "NOTIFY_BATCH": 100,
        "NOTIFY_SEND_GROUP": 20,
        "NOTIFY_MAX_ATTEMPTS": 5,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    freeze()
    return gateway


def _message_id(row_id: int) -> str:
    return f"<outbox-{row_id}@localhost>"


def _batches() -> list[list[str]]:
    """The ids of each request's messages (every request a batch)."""
    assert all(set(request) == {"messages"} for request in Gateway.received), "every request is a batch"
    return [[message["id"] for message in request["messages"]] for request in Gateway.received]


def test_gateway_backend_by_configuration_delivers_and_retries_on_errors(app, gateway):
    channels = build_channels({**app.config, "SMS_BACKEND": "gateway", "SMS_GATEWAY_URL": gateway})
    assert isinstance(channels["sms"], GatewaySmsChannel)
    freeze()
    user = person()
    generic(user, "gateway-ok", channels=("sms",))
    assert delivery.tick(owner="s1", channels=channels).sent == 1
    [sent] = Gateway.received
    assert sent["to"] == user.phone and sent["text"].startswith("【职工之家】") and sent["id"].startswith("<outbox-")

    Gateway.status = 503
    generic(user, "gateway-down", channels=("sms",))
    report = delivery.tick(owner="s1", channels=channels)
    assert report.retried == 1 and statuses(user) == {"sent": 1, "pending": 1}


def test_gateway_unreachable_is_a_delivery_error():
    from app.notifications.channels import Envelope
    from app.notifications.messages import Rendered

    envelope = Envelope(
        outbox_id=1,
        kind="generic",
        user=None,
        email=None,
        phone="13800000000",
        rendered=Rendered(subject="x", text="x", html="", link=None),
        message_id="m",
    )
    with pytest.raises(DeliveryError):
        GatewaySmsChannel("http://127.0.0.1:1/sms", timeout=2).send(envelope)
    with pytest.raises(DeliveryError):
        GatewaySmsChannel("http://127.0.0.1:1/sms", timeout=2, batch_size=50).transmit_batch([envelope], [b"{}"])


def test_120_due_sms_go_out_in_three_signed_requests_each_row_once_with_its_own_number_and_text(batching):
    people = [person() for _ in range(120)]
    for number, someone in enumerate(people):
        generic(someone, f"batch-{number:03d}", channels=("sms",))

    report = delivery.tick(owner="s1")

    assert report.sent == 120 and report.retried == report.failed == report.lost == 0
    assert [len(ids) for ids in _batches()] == [50, 50, 20]
    assert Gateway.signatures == [True, True, True], "each batch is signed over its whole body"
    messages = [message for request in Gateway.received for message in request["messages"]]
    assert set(messages[0]) == {"to", "sign_name", "template_id", "params", "text", "id"}  # the single body
    assert len(messages) == len({message["id"] for message in messages}) == 120
    by_id = {message["id"]: message for message in messages}
    subjects = {someone.id: f"batch-{number:03d}" for number, someone in enumerate(people)}
    phones = {someone.id: someone.phone for someone in people}
    rows = outbox(channel="sms")
    assert len(rows) == 120 and {row.status for row in rows} == {OutboxStatus.SENT}
    for row in rows:
        message = by_id[_message_id(row.id)]
        assert message["to"] == phones[row.user_id]
        assert message["text"].startswith("【职工之家】") and message["text"].endswith(subjects[row.user_id])
    assert len(Gateway.phone_sends) == 120
    assert delivery.tick(owner="s1").claimed == 0 and len(Gateway.received) == 3


def test_a_refused_number_leaves_the_rest_of_its_batch_sent_and_its_row_failing_until_given_up(batching):
    people = [person() for _ in range(5)]
    ids = [generic(someone, "refusal", channels=("sms",))[0] for someone in people]
    Gateway.refuse = {people[2].phone: "INVALID_NUMBER"}

    report = delivery.tick(owner="s1")

    assert report.sent == 4 and report.retried == 1
    assert _batches() == [[_message_id(row_id) for row_id in ids]]
    assert sorted(Gateway.phone_sends) == sorted(_message_id(ids[i]) for i in (0, 1, 3, 4))
    refused = outbox(people[2])[0]
    assert refused.status == OutboxStatus.PENDING and refused.last_error == "refused (invalid_number): INVALID_NUMBER"
    assert refused.due_at == clock.now() + timedelta(minutes=1)
    assert [outbox(people[i])[0].status for i in (0, 1, 3, 4)] == [OutboxStatus.SENT] * 4

    for minutes in (1, 2, 4, 8):
        later(minutes=minutes)
        delivery.tick(owner="s1")
    refused = outbox(people[2])[0]
    assert refused.status == OutboxStatus.FAILED and refused.attempts == 5 and "invalid_number" in refused.last_error
    assert _batches()[1:] == [[_message_id(ids[2])]] * 4  # only the refused row again, still as a batch
    later(hours=5)
    assert delivery.tick(owner="s1").claimed == 0 and len(Gateway.received) == 5
    assert len(Gateway.phone_sends) == 4


def test_a_5xx_to_a_batch_is_retried_then_every_row_waits_and_a_later_tick_sends_each_once(batching):
    people = [person() for _ in range(3)]
    ids = [generic(someone, "outage", channels=("sms",))[0] for someone in people]
    Gateway.statuses = [503, 502, 500]

    report = delivery.tick(owner="s1")

    batch = [_message_id(row_id) for row_id in ids]
    assert report.sent == 0 and report.retried == 3
    assert _batches() == [batch] * 3 and Gateway.signatures == [True] * 3  # the same batch, re-signed each try
    rows = outbox(channel="sms")
    assert {row.status for row in rows} == {OutboxStatus.PENDING}
    assert {row.last_error for row in rows} == {"SMS gateway answered 500"} and Gateway.phone_sends == []
    assert delivery.tick(owner="s1").claimed == 0  # backing off

    later(minutes=1)
    assert delivery.tick(owner="s1").sent == 3
    assert _batches() == [batch] * 4
    assert sorted(Gateway.phone_sends) == sorted(batch) and statuses() == {"sent": 3}


def test_a_batch_answer_without_one_message_s_result_leaves_that_row_for_retry(batching):
    people = [person() for _ in range(3)]
    ids = [generic(someone, "unanswered", channels=("sms",))[0] for someone in people]
    Gateway.drop = {_message_id(ids[1])}  # the gateway sent it but did not say so

    report = delivery.tick(owner="s1")

    assert report.sent == 2 and report.retried == 1
    unanswered = outbox(people[1])[0]
    assert unanswered.status == OutboxStatus.PENDING
    assert unanswered.last_error == "SMS gateway gave no result for this message"
    assert [outbox(people[i])[0].status for i in (0, 2)] == [OutboxStatus.SENT] * 2

    later(minutes=1)
    assert delivery.tick(owner="s1").sent == 1
    assert _batches() == [[_message_id(row_id) for row_id in ids], [_message_id(ids[1])]]
    assert statuses() == {"sent": 3}
    # Sent again with the same id: the gateway's idempotency keeps the phone from getting it twice.
    assert sorted(Gateway.phone_sends) == sorted(_message_id(row_id) for row_id in ids)


def test_email_and_batched_sms_of_one_tick_each_go_their_own_way(batching, smtp):
    people = [person() for _ in range(3)]
    for someone in people:
        generic(someone, "both", channels=("email", "sms"))

    assert delivery.tick(owner="s1").sent == 6
    assert [len(batch) for batch in _batches()] == [3]
    assert [len(smtp.to(someone.email)) for someone in people] == [1, 1, 1]


def test_verification_codes_stay_single_requests_when_notifications_are_batched(app, batching):
    from app.notifications.codes import send_code

    send_code("13912312345", "864209", Purpose.LOGIN)

    [request] = Gateway.received
    assert "messages" not in request and request["to"] == "13912312345" and request["params"] == {"code": "864209"}
    assert Gateway.signatures == [True]
