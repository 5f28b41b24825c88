"""Privacy forms: agreeing needs its own unticked box; withdrawing is one button; deletion asks the password."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, Length

from ..freetext import AppForm


class GrantForm(AppForm):
    agree = BooleanField(
        _l("我已阅读上述说明，同意处理相关敏感个人信息"), validators=[DataRequired(_l("请先勾选同意。"))]
    )


class WithdrawForm(AppForm):
    """Only the CSRF token: withdrawing is a single tap."""


class DeleteAccountForm(AppForm):
    password = PasswordField(
        _l("请输入登录密码以确认是本人操作"),
        validators=[DataRequired(_l("请输入密码。")), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )
    understood = BooleanField(
        _l("我了解注销后账号无法恢复，个人信息将被删除"), validators=[DataRequired(_l("请勾选确认。"))]
    )
