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

Batches: with ``SMS_GATEWAY_BATCH`` above 1 (a gateway that takes many numbers per request, as Aliyun's
SendBatchSms or Tencent Cloud's SendSms do) delivery sends the outbox's messages up to that many per request::

    {"messages": [{"to": "13800000000", ..., "id": "<outbox-1@host>"}, {"to": ..., "id": "<outbox-2@host>"}]}

(each element the single request's body; the signature covers the whole body) and the gateway answers for each
message by its ``id``::

    {"results": [{"id": "<outbox-1@host>", "code": "OK"}, {"id": "<outbox-2@host>", "code": "INVALID_NUMBER"}]}

The rules above hold per message: an OK code is delivered, any other is that message's refusal (the others are
delivered); a 4xx answer, or a refusal code and no results, refuses every message of the request; a 5xx (after
the retries) or an unreachable gateway fails them all with ``DeliveryError``; a message without a readable result
counts as not delivered and is retried later with the same ``id``. Verification codes always go alone (``send``).
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
from collections.abc import Sequence
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
    """The HTTP gateway backend (see the module's note): ``transmit`` sends one message per request;
    ``transmit_batch`` sends up to ``batch_size`` (``SMS_GATEWAY_BATCH``) in one."""

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
        batch_size: int = 1,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.key_id = key_id
        self.secret = secret
        self.sign_name = sign_name
        self.templates = templates or {}
        self.retries = retries
        self.retry_pause = retry_pause
        self.batch_size = max(batch_size, 1)  # messages per request in ``transmit_batch``; 1: one request each

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
    def _answer(raw: bytes) -> dict[str, Any] | None:
        """The answer's JSON object; ``{}`` for an empty body, None for anything unreadable."""
        if not raw.strip():
            return {}
        try:
            answer = json.loads(raw)
        except ValueError:
            return None
        return answer if isinstance(answer, dict) else None

    @staticmethod
    def _code(answer: dict[str, Any] | None) -> str:
        """The answer's own code (a whole request's): OK when it has none, ``UNREADABLE_ANSWER`` for no object."""
        if answer is None:
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
        status, raw = self._post(body)
        code = self._code(self._answer(raw))
        if status >= 300:
            if code in OK_CODES:
                code = f"HTTP_{status}"
            log.warning("sms gateway refused a message: HTTP %s, %s", status, code[:80])
            raise Refused(refusal_reason(code), code[:80])
        if code not in OK_CODES:
            log.warning("sms gateway refused a message: %s", code[:80])
            raise Refused(refusal_reason(code), code[:80])

    def transmit_batch(self, envelopes: Sequence[Envelope], bodies: Sequence[bytes]) -> list[DeliveryError | None]:
        """POST the messages as one ``{"messages": [...]}`` request (each element the body ``encode`` made),
        retrying a 5xx answer as ``transmit`` does, and return each message's outcome from the answer's
        ``results``, matched by ``id``: None for an OK code, ``Refused`` for any other (that message alone).

        A message the answer does not account for — no result with its id, a result without a code, an answer
        without ``results`` — counts as not delivered: ``DeliveryError``, retried later with backoff. That is the
        safe side: believing a lost message was sent loses it for good, while a retry of one that did go out
        carries the same ``id``, and the gateway's idempotency on that id keeps it from reaching the phone twice.
        A 4xx answer, or a refusal code with no results, refuses every message of the request (``Refused``
        raised); a 5xx after the retries or an unreachable gateway raises ``DeliveryError``."""
        body = b'{"messages": [' + b", ".join(bodies) + b"]}"
        status, raw = self._post(body)
        answer = self._answer(raw)
        code = self._code(answer)
        if status >= 300:
            if code in OK_CODES:
                code = f"HTTP_{status}"
            log.warning("sms gateway refused a batch of %d: HTTP %s, %s", len(envelopes), status, code[:80])
            raise Refused(refusal_reason(code), code[:80])
        results = answer.get("results") if answer is not None else None
        if not isinstance(results, list):
            if answer is not None and code not in OK_CODES:
                log.warning("sms gateway refused a batch of %d: %s", len(envelopes), code[:80])
                raise Refused(refusal_reason(code), code[:80])
            raise DeliveryError("SMS gateway answered a batch without results")
        codes: dict[str, str] = {}
        for result in results:
            if isinstance(result, dict) and isinstance(result.get("id"), str):
                found = result.get("code", result.get("Code"))
                if found is not None:
                    codes[result["id"]] = str(found)
        outcomes: list[DeliveryError | None] = []
        for envelope in envelopes:
            code = codes.get(envelope.message_id, "")
            if not code:
                outcomes.append(DeliveryError("SMS gateway gave no result for this message"))
            elif code in OK_CODES:
                outcomes.append(None)
            else:
                outcomes.append(Refused(refusal_reason(code), code[:80]))
        refused = sum(isinstance(outcome, Refused) for outcome in outcomes)
        missing = sum(outcome is not None for outcome in outcomes) - refused
        if refused or missing:
            log.warning("sms gateway batch of %d: %d refused, %d without a result", len(envelopes), refused, missing)
        return outcomes

    def _post(self, body: bytes) -> tuple[int, bytes]:
        """POST ``body`` (signed afresh each try), retrying a 5xx answer; returns the status and body of a 2xx or 4xx
        answer. ``DeliveryError`` after the last 5xx, or at once when the gateway cannot be reached."""
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(  # noqa: S310 - the URL is configuration, not input
                self.url, data=body, headers=self._headers(body), method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    return int(response.status), response.read()
            except urllib.error.HTTPError as error:
                status = error.code
                raw = error.read() if error.fp is not None else b""
                error.close()
                if status < 500:
                    return status, raw
                log.warning("sms gateway answered %s (try %d of %d)", status, attempt + 1, self.retries + 1)
                if attempt == self.retries:
                    raise DeliveryError(f"SMS gateway answered {status}") from error
            except (urllib.error.URLError, OSError) as error:
                raise DeliveryError(f"SMS gateway unreachable: {type(error).__name__}"[:500]) from error
            time.sleep(self.retry_pause * (attempt + 1))
        raise DeliveryError("SMS gateway: no try made")  # retries is never negative

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
            batch_size=int(config.get("SMS_GATEWAY_BATCH", 1)),
        )
    return LogSmsChannel(show_codes=config.get("APP_ENV") != "production")
