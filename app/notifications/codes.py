"""Verification codes leave the process here: at once, through the same SMS channel as notifications (not
through the outbox — a code is useless five minutes later), and a development-only page shows what the log
backend "sent"."""

from __future__ import annotations

import uuid

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from ..accounts.verification import CODE_VALID_FOR, CodeNotSent, Purpose
from .channels import DeliveryError, Envelope, Refused
from .channels.sms import VERIFICATION_CODE, sms_channel
from .messages import Rendered


def code_text(code: str) -> str:
    """The SMS, in Chinese (a number has no language until someone signs in with it)."""
    with force_locale("zh_CN"):
        minutes = int(CODE_VALID_FOR.total_seconds() // 60)
        return _("【职工之家】您的验证码是 %(code)s，%(n)d 分钟内有效。请勿告诉他人。", code=code, n=minutes)


def send_code(phone: str, code: str, purpose: Purpose) -> None:
    """Send ``code`` to ``phone`` now through the configured SMS backend; a refusal or an outage becomes
    ``CodeNotSent`` with the reason (the view shows it; nothing is retried later)."""
    text = code_text(code)
    envelope = Envelope(
        outbox_id=None,
        kind=VERIFICATION_CODE,
        user=None,
        email=None,
        phone=phone,
        rendered=Rendered(subject=text, text=text, html="", link=None),
        message_id=f"<code-{uuid.uuid4().hex}@zhijia>",
        params={"code": code},
    )
    channel = sms_channel(current_app.config)
    channel.open()
    try:
        channel.send(envelope)
    except Refused as error:
        raise CodeNotSent(error.reason) from None
    except DeliveryError:
        raise CodeNotSent("unavailable") from None
    finally:
        channel.close()
