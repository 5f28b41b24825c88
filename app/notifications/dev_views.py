"""Development only: the SMS the log backend "sent" (verification codes included), newest first. Registered only
when ``APP_ENV`` is not ``production`` and ``SMS_BACKEND`` is ``log``."""

from __future__ import annotations

from flask import Blueprint, render_template

from .channels.sms import recent

dev_bp = Blueprint("dev_sms", __name__, url_prefix="/dev")


@dev_bp.get("/sms")
def sms() -> str:
    return render_template("notifications/dev_sms.html", messages=list(recent))
