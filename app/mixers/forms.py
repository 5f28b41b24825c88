"""Mixer forms. Nothing here sets a role, an organization or a registration status."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..freetext import AppForm
from .models import FollowupAnswer, FollowupStage

DT_FORMAT = "%Y-%m-%dT%H:%M"


def _dt(label: object, required: bool = True) -> DateTimeLocalField:
    validators = [DataRequired(_l("请填写时间。"))] if required else [Optional()]
    return DateTimeLocalField(label, format=DT_FORMAT, validators=validators)


class SettingsForm(AppForm):
    pick_closes_at = _dt(_l("心动卡截止时间"))
    max_picks = IntegerField(
        _l("每人最多可选人数"),
        validators=[InputRequired(_l("请填写人数。")), NumberRange(1, 50, _l("每人可选人数需在 1 到 50 之间。"))],
        render_kw={"inputmode": "numeric"},
    )
    other_gender_only = BooleanField(_l("只能选择异性"), default=True)


class MixerForm(SettingsForm):
    title = StringField(_l("活动名称"), validators=[DataRequired(_l("请填写活动名称。")), Length(max=120)])
    description = TextAreaField(_l("活动介绍"), validators=[Optional(), Length(max=5000)])
    city = SelectField(_l("城市"), choices=[], validators=[DataRequired(_l("请选择城市。"))])
    venue = StringField(_l("地点"), validators=[Optional(), Length(max=200)])
    starts_at = _dt(_l("开始时间"))
    ends_at = _dt(_l("结束时间"))
    signup_opens_at = _dt(_l("报名开始"))
    signup_closes_at = _dt(_l("报名截止"))
    quota_female = IntegerField(
        _l("女嘉宾名额"),
        validators=[InputRequired(_l("请填写名额。")), NumberRange(0, 5000, _l("名额需在 0 到 5000 之间。"))],
    )
    quota_male = IntegerField(
        _l("男嘉宾名额"),
        validators=[InputRequired(_l("请填写名额。")), NumberRange(0, 5000, _l("名额需在 0 到 5000 之间。"))],
    )
    min_age = IntegerField(_l("最小年龄"), default=22, validators=[Optional(), NumberRange(16, 120)])
    max_age = IntegerField(_l("最大年龄"), default=40, validators=[Optional(), NumberRange(16, 120)])
    subtree_only = BooleanField(_l("仅限本组织及下属单位职工"))
    industry_ids = SelectMultipleField(_l("仅限以下产业链（不选则不限）"), choices=[], coerce=int, validate_choice=True)


class CardProfileForm(AppForm):
    nickname = StringField(
        _l("联谊昵称（其他嘉宾只看到昵称和胸牌号）"),
        validators=[DataRequired(_l("请填写昵称。")), Length(max=12, message=_l("昵称不超过 12 个字。"))],
    )
    share_contact = BooleanField(_l("互选成功时，与对方交换联系方式（双方都同意才会显示）"))
    contact = StringField(_l("联系方式（如微信号；不填则使用手机号）"), validators=[Optional(), Length(max=60)])


class PicksForm(AppForm):
    badge = SelectMultipleField(_l("心动对象"), coerce=int, validate_choice=False)


class CheckinForm(AppForm):
    registration_id = HiddenField()
    ticket_code = StringField(_l("电子票码"), validators=[Optional(), Length(max=64)])


class PaperPairForm(AppForm):
    badge_a = IntegerField(
        _l("胸牌号甲"),
        validators=[InputRequired(_l("请填写胸牌号。")), NumberRange(1, 100000)],
        render_kw={"inputmode": "numeric"},
    )
    badge_b = IntegerField(
        _l("胸牌号乙"),
        validators=[InputRequired(_l("请填写胸牌号。")), NumberRange(1, 100000)],
        render_kw={"inputmode": "numeric"},
    )


ANSWER_LABELS = {
    FollowupAnswer.IN_TOUCH.value: _l("还在联系"),
    FollowupAnswer.DATING.value: _l("正在交往（牵手成功）"),
    FollowupAnswer.ENDED.value: _l("已不再联系"),
}
STAGE_LABELS = {
    FollowupStage.DAYS_3.value: _l("3 天回访"),
    FollowupStage.WEEKS_3.value: _l("3 周回访"),
    FollowupStage.MONTHS_3.value: _l("3 个月回访"),
}


class FollowupForm(AppForm):
    stage = HiddenField(validators=[DataRequired()])
    answer = RadioField(
        _l("你们现在的情况"),
        choices=[SelectChoice(value, label) for value, label in ANSWER_LABELS.items()],
        validators=[DataRequired(_l("请选择一个回答。"))],
    )
