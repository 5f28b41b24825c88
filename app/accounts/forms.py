"""Account forms. Roles, organizations and statuses are never fields here (no mass assignment)."""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp, ValidationError

from .. import clock
from ..freetext import AppForm
from ..orgs.models import EnterpriseType
from ..orgs.services import all_cities, all_industries

PHONE_PATTERN = r"^1[3-9]\d{9}$"
ENTERPRISE_TYPE_CHOICES = {
    EnterpriseType.STATE_OWNED: _l("国有企业"),
    EnterpriseType.NON_PUBLIC: _l("非公企业"),
    EnterpriseType.PUBLIC_INSTITUTION: _l("事业单位"),
    EnterpriseType.NEW_EMPLOYMENT: _l("新就业形态劳动者（快递员、网约车司机等）"),
}


def _phone_field() -> TelField:
    return TelField(
        _l("手机号"),
        validators=[
            DataRequired(_l("请输入手机号。")),
            Regexp(PHONE_PATTERN, message=_l("请输入 11 位中国大陆手机号。")),
        ],
        render_kw={"autocomplete": "tel", "inputmode": "numeric", "maxlength": 11},
    )


def new_password_field(label: LazyString, missing: LazyString) -> PasswordField:
    """A password being set: 8 to 128 characters (the browser may offer to make one up)."""
    return PasswordField(
        label,
        validators=[DataRequired(missing), Length(min=8, max=128, message=_l("密码需为 8 到 128 个字符。"))],
        render_kw={"autocomplete": "new-password"},
    )


def password_again_field(label: LazyString, missing: LazyString, of: str = "password") -> PasswordField:
    """The password being set, typed again: it must equal the field named ``of``."""
    return PasswordField(
        label,
        validators=[DataRequired(missing), EqualTo(of, message=_l("两次输入的密码不一致。"))],
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(AppForm):
    phone = _phone_field()
    password = PasswordField(
        _l("密码"),
        validators=[DataRequired(_l("请输入密码。")), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )


class ProfileForm(AppForm):
    name = StringField(
        _l("真实姓名"),
        validators=[DataRequired(_l("请输入姓名。")), Length(max=60, message=_l("姓名不能超过 60 个字符。"))],
        render_kw={"autocomplete": "name"},
    )
    gender = SelectField(
        _l("性别"),
        choices=[SelectChoice("", _l("请选择")), SelectChoice("female", _l("女")), SelectChoice("male", _l("男"))],
        validators=[DataRequired(_l("请选择性别。"))],
    )
    birth_date = DateField(
        _l("出生日期"),
        validators=[DataRequired(_l("请输入有效的出生日期。"))],
        render_kw={"autocomplete": "bday"},
    )
    city = SelectField(_l("所在城市"), validators=[DataRequired(_l("请选择所在城市。"))])
    employer = StringField(
        _l("工作单位"),
        validators=[DataRequired(_l("请输入工作单位。")), Length(max=120, message=_l("单位名称过长。"))],
        render_kw={"autocomplete": "organization"},
    )
    enterprise_type = SelectField(_l("单位类型"), validators=[DataRequired(_l("请选择单位类型。"))])
    industry = SelectField(_l("所属产业链 / 产业集群"), validators=[Optional()])
    frontline = BooleanField(_l("我是一线职工"))
    member_no = StringField(_l("工会会员号（选填）"), validators=[Optional(), Length(max=40)])
    email = EmailField(
        _l("电子邮箱（选填，用于找回密码和接收通知）"),
        validators=[Optional(), Email(message=_l("请输入有效的电子邮箱。")), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.city.choices = [SelectChoice("", _l("请选择"))] + [SelectChoice(c.code, c.name) for c in all_cities()]
        self.enterprise_type.choices = [SelectChoice("", _l("请选择"))] + [
            SelectChoice(t.value, label) for t, label in ENTERPRISE_TYPE_CHOICES.items()
        ]
        industry_choices = [SelectChoice("", _l("其他（不属于以下产业链或集群）"))]
        for industry in all_industries():
            group = _("产业链") if industry.group == "chain" else _("产业集群")
            industry_choices.append(SelectChoice(industry.code, industry.name, optgroup=group))
        self.industry.choices = industry_choices

    def validate_birth_date(self, field: DateField) -> None:
        if field.data is None:
            return
        age = clock.age_on(field.data, clock.today())
        if age < 16 or age > 100:
            raise ValidationError(_l("请输入有效的出生日期（年龄需在 16 至 100 岁之间）。"))

    def validate_enterprise_type(self, field: SelectField) -> None:
        if field.data not in {t.value for t in EnterpriseType}:
            raise ValidationError(_l("请选择单位类型。"))


class RegisterForm(ProfileForm):
    phone = _phone_field()
    password = new_password_field(_l("设置密码（至少 8 位）"), _l("请设置密码。"))
    password_confirm = password_again_field(_l("再次输入密码"), _l("请再次输入密码。"))


class PasswordChangeForm(AppForm):
    current_password = PasswordField(
        _l("当前密码"),
        validators=[DataRequired(_l("请输入当前密码。"))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = new_password_field(_l("新密码（至少 8 位）"), _l("请输入新密码。"))
    new_password_confirm = password_again_field(_l("再次输入新密码"), _l("请再次输入新密码。"), of="new_password")


class ResetRequestForm(AppForm):
    phone = _phone_field()


class ResetPasswordForm(AppForm):
    password = new_password_field(_l("新密码（至少 8 位）"), _l("请输入新密码。"))
    password_confirm = password_again_field(_l("再次输入新密码"), _l("请再次输入新密码。"))
