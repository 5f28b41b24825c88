"""Trip forms. Status, organization and lottery results are never form fields (no mass assignment)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from ..freetext import AppForm
from .models import Dietary, Theme

DIETARY_CHOICES = [
    SelectChoice(Dietary.NONE.value, _l("无特殊要求")),
    SelectChoice(Dietary.VEGETARIAN.value, _l("素食")),
    SelectChoice(Dietary.HALAL.value, _l("清真")),
    SelectChoice(Dietary.OTHER.value, _l("其他（请在备注中说明）")),
]


class DetailsForm(AppForm):
    emergency_name = StringField(
        _l("紧急联系人姓名"),
        validators=[DataRequired(_l("请填写紧急联系人姓名。")), Length(max=60)],
        render_kw={"autocomplete": "off"},
    )
    emergency_phone = TelField(
        _l("紧急联系人电话"),
        validators=[
            DataRequired(_l("请填写紧急联系人电话。")),
            Regexp(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$", message=_l("请填写正确的手机号或固定电话。")),
        ],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    dietary = SelectField(_l("饮食需求"), choices=DIETARY_CHOICES, default=Dietary.NONE.value)
    dietary_note = TextAreaField(_l("备注（如过敏、慢性病用药等，选填）"), validators=[Optional(), Length(max=200)])


class PublicValueForm(AppForm):
    public_value = StringField(
        _l("公开随机数"),
        validators=[DataRequired(_l("请填写公开随机数。")), Length(max=64)],
        render_kw={"autocomplete": "off"},
    )
    note = StringField(_l("来源说明（如：2026年第330期福彩3D开奖号码）"), validators=[Optional(), Length(max=120)])


class TargetForm(AppForm):
    year = IntegerField(_l("年份"), validators=[DataRequired(), NumberRange(2000, 2100)])
    places = IntegerField(_l("目标名额"), validators=[DataRequired(), NumberRange(0, 1_000_000)])


class RouteForm(AppForm):
    theme = SelectField(
        _l("主题"),
        choices=[
            SelectChoice(Theme.RED.value, _l("红色")),
            SelectChoice(Theme.GREEN.value, _l("绿色")),
            SelectChoice(Theme.HERITAGE.value, _l("古色")),
        ],
    )
    title = StringField(_l("线路名称"), validators=[DataRequired(_l("请填写线路名称。")), Length(max=120)])
    city = SelectField(_l("主要城市"), choices=[])
    summary = StringField(_l("一句话介绍"), validators=[Optional(), Length(max=300)])
    cover_text = TextAreaField(_l("线路介绍"), validators=[Optional(), Length(max=4000)])
    itinerary = TextAreaField(
        _l("行程（每行一天：地点1、地点2 | 当天安排）"),
        validators=[DataRequired(_l("请填写行程。")), Length(max=6000)],
    )


class DepartureForm(AppForm):
    starts_on = DateField(_l("出发日期"), validators=[DataRequired(_l("请选择出发日期。"))])
    seats = IntegerField(_l("名额"), validators=[DataRequired(_l("请填写名额。")), NumberRange(1, 10_000)])
    signup_opens_at = DateTimeLocalField(_l("报名开始"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    signup_closes_at = DateTimeLocalField(_l("报名截止"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    allocation = SelectField(
        _l("分配方式"),
        choices=[SelectChoice("lottery", _l("截止后抽签")), SelectChoice("first_come", _l("先到先得"))],
    )
    venue = StringField(_l("集合地点"), validators=[Optional(), Length(max=200)])
    tiers = SelectField(
        _l("优先档次"),
        choices=[
            SelectChoice("default", _l("劳模工匠 → 重点产业链（集群）一线职工 → 其他")),
            SelectChoice("frontline", _l("劳模工匠 → 一线职工 → 其他")),
            SelectChoice("flat", _l("不分档")),
        ],
    )
    never_been_first = BooleanField(_l("同一档内，从未参加过疗休养的职工优先"), default=True)


TIER_PRESETS = {
    "default": ["model_worker", "key_industry_frontline", "everyone"],
    "frontline": ["model_worker", "frontline", "everyone"],
    "flat": ["everyone"],
}


class ModelWorkerForm(AppForm):
    phone = TelField(
        _l("职工手机号"),
        validators=[
            DataRequired(_l("请输入手机号。")),
            Regexp(r"^1[3-9]\d{9}$", message=_l("请输入 11 位中国大陆手机号。")),
        ],
        render_kw={"inputmode": "numeric", "maxlength": 11, "autocomplete": "off"},
    )
