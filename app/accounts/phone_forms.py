"""Forms of the phone-code pages: registration with a code, sign-in by code, reset by code, activation of an
imported account, change of number, and accepting the legal documents."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Regexp

from ..freetext import AppForm
from .forms import RegisterForm, _phone_field, new_password_field, password_again_field
from .legal import PRIVACY_POLICY, USER_AGREEMENT


def _code_field() -> StringField:
    return StringField(
        _l("短信验证码"),
        validators=[
            DataRequired(_l("请输入短信验证码。")),
            Regexp(r"^\s*\d{6}\s*$", message=_l("验证码是 6 位数字。")),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 6},
    )


def _new_password_fields() -> tuple[PasswordField, PasswordField]:
    return (
        new_password_field(_l("设置新密码（至少 8 位）"), _l("请设置密码。")),
        password_again_field(_l("再次输入新密码"), _l("请再次输入密码。")),
    )


class DocumentsMixin:
    """The person accepts the user agreement and the privacy policy in the versions shown (hidden fields)."""

    accept_documents = BooleanField(
        _l("我已阅读并同意《用户协议》和《隐私政策》"),
        validators=[DataRequired(_l("请阅读并同意《用户协议》和《隐私政策》。"))],
    )
    terms_version = HiddenField()
    privacy_version = HiddenField()

    def shown_versions(self) -> dict[str, str]:
        return {USER_AGREEMENT: self.terms_version.data or "", PRIVACY_POLICY: self.privacy_version.data or ""}

    def show_versions(self, versions: dict[str, str]) -> None:
        self.terms_version.data = versions[USER_AGREEMENT]
        self.privacy_version.data = versions[PRIVACY_POLICY]


class CodeRegisterForm(DocumentsMixin, RegisterForm):
    code = _code_field()


class CodeLoginForm(AppForm):
    phone = _phone_field()
    code = _code_field()


class CodeResetForm(AppForm):
    phone = _phone_field()
    code = _code_field()
    password, password_confirm = _new_password_fields()


class ActivateForm(DocumentsMixin, AppForm):
    phone = _phone_field()
    code = _code_field()
    password, password_confirm = _new_password_fields()


class ChangePhoneForm(AppForm):
    new_phone = StringField(
        _l("新手机号"),
        validators=[
            DataRequired(_l("请输入手机号。")),
            Regexp(r"^1[3-9]\d{9}$", message=_l("请输入 11 位中国大陆手机号。")),
        ],
        render_kw={"autocomplete": "tel", "inputmode": "numeric", "maxlength": 11, "type": "tel"},
    )
    code = _code_field()


class AcceptDocumentsForm(DocumentsMixin, AppForm):
    pass
