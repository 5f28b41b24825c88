"""Reading the verification codes the development SMS backend (``SMS_BACKEND=log``) "sent", and filling a
registration form with one — the helpers tests use to go through the code routes like a person would."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from app.accounts import legal
from app.notifications.channels import sms


def last_code(phone: str) -> str:
    """The code of the newest SMS the log backend sent to ``phone``."""
    for message in sms.recent:
        if message["to"] == phone and message["kind"] == sms.VERIFICATION_CODE:
            found = re.search(r"\d{6}", message["text"])
            assert found, message
            return found.group()
    raise AssertionError(f"no code was sent to {phone}")


def codes_sent_to(phone: str) -> int:
    return sum(1 for message in sms.recent if message["to"] == phone and message["kind"] == sms.VERIFICATION_CODE)


def documents_accepted() -> dict[str, str]:
    """The form fields that accept the current user agreement and privacy policy."""
    versions = legal.current_versions()
    return {
        "accept_documents": "y",
        "terms_version": versions[legal.USER_AGREEMENT],
        "privacy_version": versions[legal.PRIVACY_POLICY],
    }


def send_code(client: FlaskClient, url: str, data: dict[str, Any]) -> Any:
    """Press "获取验证码" on the page at ``url`` with ``data`` filled in."""
    return client.post(url, data={**data, "action": "send"})


def with_code(client: FlaskClient, data: dict[str, Any], url: str = "/account/register") -> dict[str, Any]:
    """``data`` of a registration form, plus a fresh code sent to its phone and the accepted documents."""
    response = send_code(client, url, data)
    assert response.status_code == 200, response.status_code
    return {**data, "code": last_code(str(data["phone"])), **documents_accepted()}
