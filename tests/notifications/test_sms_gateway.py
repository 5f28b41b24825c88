"""The SMS gateway backend, selected by configuration, against a local HTTP endpoint."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from app.notifications import delivery
from app.notifications.channels import DeliveryError, build_channels
from app.notifications.channels.sms import GatewaySmsChannel

from .factories import freeze, generic, person, statuses


class Gateway(BaseHTTPRequestHandler):
    received: list[dict] = []
    status = 200

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Gateway.received.append(json.loads(body))
        self.send_response(Gateway.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    Gateway.received = []
    Gateway.status = 200
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sms"
    server.shutdown()
    server.server_close()


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
