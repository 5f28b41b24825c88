"""The channel preferences form (the inbox needs no form: its buttons post only a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField

from ..freetext import AppForm


class PreferencesForm(AppForm):
    email = BooleanField(_l("通过电子邮件接收通知"))
    sms = BooleanField(_l("通过短信接收通知"))
