"""SMS behind the channel interface: a logging backend by default, an HTTP gateway by configuration.

``SMS_BACKEND=log`` (default, development) writes a line per message with a masked number. Outside production it
also keeps the last messages in memory for the development-only page ``/dev/sms`` (a verification code appears
there and in the console; in production the log backend masks codes).

``SMS_BACKEND=gateway`` POSTs one JSON request per message to ``SMS_GATEWAY_URL``, in the manner of the Chinese
SMS providers' template APIs::

    {"to": "13800000000", "sign_name": "职工之家", "template_id": "SMS_0001", "params": {"code": "123456"},
     "text": "【职工之家】…", "id": "<outbox-1@host>"}

with the headers ``X-Sms-Key-Id`` (``SMS_GATEWAY_KEY_ID``), ``X-Sms-Timestamp``, ``X-Sms-Nonce`` and
``X-Sms-Signature``: hex HMAC-SHA256 of ``timestamp + "\\n" + nonce + "\\n" + body`` keyed with
``SMS_GATEWAY_SECRET``. The template is ``SMS_TEMPLATE_CODE`` for verification codes and ``SMS_TEMPLATE_NOTICE``
(param ``text``) for notifications; ``SMS_SIGN_NAME`` is the registered signature (签名).

The answer: 2xx with no body or ``{"code": "OK"}`` is delivered; any other ``code`` in a 2xx or 4xx answer is a
refusal (``Refused``: ``invalid_number``, ``quota`` or ``refused``), never retried here; a 5xx answer is retried
up to ``SMS_GATEWAY_RETRIES`` times, then raised as ``DeliveryError``; a timeout or a refused connection is a
``DeliveryError`` without retry (a timed-out request may have been sent). Numbers, texts and codes are never
logged by this backend.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from collections import deque
from typing import Any

from . import DeliveryError, Envelope, Refused

log = logging.getLogger("zhijia.sms")
MAX_LENGTH = 140
VERIFICATION_CODE = "verification_code"
OK_CODES = frozenset({"OK", "ok", "0", "SUCCESS", "Ok"})
# Provider answer codes (ours, then Aliyun's and Tencent Cloud's spellings) and what they mean for people.
INVALID_NUMBER_CODES = frozenset(
    {
        "INVALID_NUMBER",
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "InvalidParameterValue.IncorrectPhoneNumber",
        "FailedOperation.PhoneNumberInBlacklist",
        "isv.BLACK_KEY_CONTROL_LIMIT",
    }
)
QUOTA_CODES = frozenset(
    {
        "QUOTA_EXCEEDED",
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.DAY_LIMIT_CONTROL",
        "isv.AMOUNT_NOT_ENOUGH",
        "LimitExceeded.PhoneNumberDailyLimit",
        "LimitExceeded.PhoneNumberThirtySecondLimit",
        "FailedOperation.InsufficientBalanceInSmsPackage",
    }
)
# The last messages of the log backend, for the development page (never filled in production).
recent: deque[dict[str, str]] = deque(maxlen=50)


def sms_text(envelope: Envelope) -> str:
    """Short text: the subject (which names the event and time, or carries the code)."""
    rendered = envelope.rendered
    text = rendered.subject if rendered.subject.startswith("【") else f"【职工之家】{rendered.subject}"
    return text[:MAX_LENGTH]


def mask(phone: str | None) -> str:
    if not phone or len(phone) < 7:
        return "***"
    return phone[:3] + "****" + phone[-4:]


class LogSmsChannel:
    """Development backend: logs each message (number masked). ``show_codes`` (every environment but
    production) keeps verification codes readable in the log line and on ``/dev/sms``; without it they are
    masked."""

    name = "sms"

    def __init__(self, show_codes: bool = True) -> None:
        self.show_codes = show_codes
        self.sent: list[tuple[str, str]] = []  # kept for tests and the demo: (masked number, text)

    def open(self) -> None:
        pass

    def encode(self, envelope: Envelope) -> str:
        """The line's text (a code masked unless ``show_codes``)."""
        if not envelope.phone:
            raise DeliveryError("no phone number")
        text = sms_text(envelope)
        if envelope.kind == VERIFICATION_CODE and not self.show_codes:
            text = text.replace(envelope.params.get("code", "") or "\0", "******")
        return text

    def send(self, envelope: Envelope) -> None:
        self.transmit(envelope, self.encode(envelope))

    def transmit(self, envelope: Envelope, text: str) -> None:
        assert envelope.phone  # encode refused a message without a number
        self.sent.append((mask(envelope.phone), text))
        if self.show_codes:
            recent.appendleft({"to": envelope.phone, "kind": envelope.kind, "text": text})
        log.info("sms outbox=%s to=%s: %s", envelope.outbox_id, mask(envelope.phone), text)

    def close(self) -> None:
        pass


def refusal_reason(provider_code: str) -> str:
    if provider_code in INVALID_NUMBER_CODES:
        return "invalid_number"
    if provider_code in QUOTA_CODES:
        return "quota"
    return "refused"


class GatewaySmsChannel:
    name = "sms"

    def __init__(
        self,
        url: str,
        timeout: float = 10,
        *,
        key_id: str | None = None,
        secret: str | None = None,
        sign_name: str = "职工之家",
        templates: dict[str, str] | None = None,
        retries: int = 2,
        retry_pause: float = 0.2,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.key_id = key_id
        self.secret = secret
        self.sign_name = sign_name
        self.templates = templates or {}
        self.retries = retries
        self.retry_pause = retry_pause

    def open(self) -> None:
        pass

    def _body(self, envelope: Envelope) -> bytes:
        if envelope.kind == VERIFICATION_CODE:
            template, params = self.templates.get("code", ""), dict(envelope.params)
        else:
            template, params = self.templates.get("notice", ""), {"text": envelope.rendered.subject[:MAX_LENGTH]}
        payload = {
            "to": envelope.phone,
            "sign_name": self.sign_name,
            "template_id": template,
            "params": params,
            "text": sms_text(envelope),
            "id": envelope.message_id,
        }
        return json.dumps(payload, ensure_ascii=False).encode("utf-8")

    def _headers(self, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.secret:
            timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
            signed = f"{timestamp}\n{nonce}\n".encode() + body
            headers.update(
                {
                    "X-Sms-Key-Id": self.key_id or "",
                    "X-Sms-Timestamp": timestamp,
                    "X-Sms-Nonce": nonce,
                    "X-Sms-Signature": hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest(),
                }
            )
        return headers

    @staticmethod
    def _answer_code(raw: bytes) -> str:
        if not raw.strip():
            return "OK"
        try:
            answer = json.loads(raw)
        except ValueError:
            return "UNREADABLE_ANSWER"
        if not isinstance(answer, dict):
            return "UNREADABLE_ANSWER"
        return str(answer.get("code", answer.get("Code", "OK")))

    def encode(self, envelope: Envelope) -> bytes:
        """The request body for the gateway."""
        if not envelope.phone:
            raise DeliveryError("no phone number")
        return self._body(envelope)

    def send(self, envelope: Envelope) -> None:
        self.transmit(envelope, self.encode(envelope))

    def transmit(self, envelope: Envelope, body: bytes) -> None:
        """POST the body, retrying a 5xx answer; a refusal is ``Refused``, never retried."""
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(  # noqa: S310 - the URL is configuration, not input
                self.url, data=body, headers=self._headers(body), method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    code = self._answer_code(response.read())
            except urllib.error.HTTPError as error:
                status = error.code
                raw = error.read() if error.fp is not None else b""
                error.close()
                if status >= 500:
                    log.warning("sms gateway answered %s (try %d of %d)", status, attempt + 1, self.retries + 1)
                    if attempt < self.retries:
                        time.sleep(self.retry_pause * (attempt + 1))
                        continue
                    raise DeliveryError(f"SMS gateway answered {status}") from error
                code = self._answer_code(raw)
                if code in OK_CODES:
                    code = f"HTTP_{status}"
                log.warning("sms gateway refused a message: HTTP %s, %s", status, code[:80])
                raise Refused(refusal_reason(code), code[:80]) from error
            except (urllib.error.URLError, OSError) as error:
                raise DeliveryError(f"SMS gateway unreachable: {type(error).__name__}"[:500]) from error
            if code not in OK_CODES:
                log.warning("sms gateway refused a message: %s", code[:80])
                raise Refused(refusal_reason(code), code[:80])
            return

    def close(self) -> None:
        pass


def sms_channel(config: dict[str, Any]) -> LogSmsChannel | GatewaySmsChannel:
    if config.get("SMS_BACKEND") == "gateway" and config.get("SMS_GATEWAY_URL"):
        return GatewaySmsChannel(
            config["SMS_GATEWAY_URL"],
            float(config.get("SMS_GATEWAY_TIMEOUT", 5)),
            key_id=config.get("SMS_GATEWAY_KEY_ID"),
            secret=config.get("SMS_GATEWAY_SECRET"),
            sign_name=config.get("SMS_SIGN_NAME") or "职工之家",
            templates={
                "code": config.get("SMS_TEMPLATE_CODE") or "",
                "notice": config.get("SMS_TEMPLATE_NOTICE") or "",
            },
            retries=int(config.get("SMS_GATEWAY_RETRIES", 2)),
        )
    return LogSmsChannel(show_codes=config.get("APP_ENV") != "production")
