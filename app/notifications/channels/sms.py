"""SMS behind the channel interface: a logging backend by default, an HTTP gateway by configuration.

``SMS_BACKEND=log`` (default) writes a line per message with a masked number; ``SMS_BACKEND=gateway`` POSTs
JSON ``{"to", "text", "id"}`` to ``SMS_GATEWAY_URL`` (an intranet SMS gateway) and treats any non-2xx answer
as a failure to retry.

"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any

from . import DeliveryError, Envelope

log = logging.getLogger("zhijia.sms")
MAX_LENGTH = 140


def sms_text(envelope: Envelope) -> str:
    """Short text: the subject (which names the event and time) and the link."""
    rendered = envelope.rendered
    text = f"【职工之家】{rendered.subject}"
    return text[:MAX_LENGTH]


def mask(phone: str | None) -> str:
    if not phone or len(phone) < 7:
        return "***"
    return phone[:3] + "****" + phone[-4:]


class LogSmsChannel:
    name = "sms"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []  # kept for tests and the demo: (masked number, text)

    def open(self) -> None:
        pass

    def send(self, envelope: Envelope) -> None:
        if not envelope.phone:
            raise DeliveryError("no phone number")
        text = sms_text(envelope)
        self.sent.append((mask(envelope.phone), text))
        log.info("sms outbox=%s to=%s: %s", envelope.outbox_id, mask(envelope.phone), text)

    def close(self) -> None:
        pass


class GatewaySmsChannel:
    name = "sms"

    def __init__(self, url: str, timeout: float = 10) -> None:
        self.url = url
        self.timeout = timeout

    def open(self) -> None:
        pass

    def send(self, envelope: Envelope) -> None:
        if not envelope.phone:
            raise DeliveryError("no phone number")
        body = json.dumps(
            {"to": envelope.phone, "text": sms_text(envelope), "id": envelope.message_id}, ensure_ascii=False
        ).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - the URL is configuration, not input
            self.url, data=body, headers={"Content-Type": "application/json; charset=utf-8"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise DeliveryError(f"SMS gateway answered {response.status}")
        except urllib.error.URLError as error:
            raise DeliveryError(f"SMS gateway: {error}"[:500]) from error
        except OSError as error:
            raise DeliveryError(f"SMS gateway: {type(error).__name__}"[:500]) from error

    def close(self) -> None:
        pass


def sms_channel(config: dict[str, Any]) -> LogSmsChannel | GatewaySmsChannel:
    if config.get("SMS_BACKEND") == "gateway" and config.get("SMS_GATEWAY_URL"):
        return GatewaySmsChannel(config["SMS_GATEWAY_URL"], float(config.get("MAIL_TIMEOUT", 10)))
    return LogSmsChannel()
