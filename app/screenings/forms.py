"""Screening forms: planning a visit with its grid, resizing a slot, check-in, outcomes, moving a booking.

Organizations, statuses and roles are never free fields: the organization is chosen from those the organizer
manages, outcomes and reasons from fixed lists.
"""

from __future__ import annotations

from datetime import time

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..freetext import AppForm
from .models import DEFAULT_MAX_AGE, DEFAULT_MIN_AGE, DEFAULT_REPEAT_YEARS


class VisitForm(AppForm):
    organization_id = SelectField(_l("主办组织"), coerce=int, validators=[InputRequired(_l("请选择主办组织。"))])
    city_id = SelectField(_l("所在城市"), coerce=int, validators=[InputRequired(_l("请选择城市。"))])
    site_name = StringField(
        _l("园区或站点"),
        validators=[DataRequired(_l("请填写园区或站点名称。")), Length(max=120)],
        render_kw={"placeholder": _l("例如：南昌高新区航空城")},
    )
    venue = StringField(_l("停车地点（选填）"), validators=[Optional(), Length(max=200)])
    title = StringField(_l("标题（选填，默认“健康大篷车进＋园区”）"), validators=[Optional(), Length(max=120)])
    day = DateField(_l("体检日期"), validators=[InputRequired(_l("请选择日期。"))])
    start = TimeField(_l("开始时间"), default=time(8, 30), validators=[InputRequired(_l("请填写开始时间。"))])
    end = TimeField(_l("结束时间"), default=time(16, 30), validators=[InputRequired(_l("请填写结束时间。"))])
    interval = IntegerField(
        _l("每个时段（分钟）"),
        default=15,
        validators=[
            InputRequired(_l("请填写间隔。")),
            NumberRange(5, 240, _l("间隔需在 5 到 240 分钟之间。")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    per_slot = IntegerField(
        _l("每个时段人数"),
        default=6,
        validators=[InputRequired(_l("请填写人数。")), NumberRange(1, 500, _l("人数需在 1 到 500 之间。"))],
        render_kw={"inputmode": "numeric"},
    )
    offers_two_cancer = BooleanField(_l("提供“两癌”筛查（女职工）"), default=True)
    two_cancer_min_age = IntegerField(
        _l("“两癌”筛查最小年龄"), default=DEFAULT_MIN_AGE, validators=[InputRequired(), NumberRange(0, 120)]
    )
    two_cancer_max_age = IntegerField(
        _l("“两癌”筛查最大年龄"), default=DEFAULT_MAX_AGE, validators=[InputRequired(), NumberRange(0, 120)]
    )
    repeat_interval_years = IntegerField(
        _l("同一项目间隔年限"), default=DEFAULT_REPEAT_YEARS, validators=[InputRequired(), NumberRange(0, 20)]
    )
    two_cancer_per_slot = IntegerField(
        _l("每时段“两癌”名额（选填，空为不单独限额）"), validators=[Optional(), NumberRange(0, 500)]
    )
    frontline_only = BooleanField(_l("仅限一线职工"), default=False)
    description = TextAreaField(_l("说明（选填）"), validators=[Optional(), Length(max=2000)])


class TwoCancerSettingsForm(AppForm):
    offers_two_cancer = BooleanField(_l("提供“两癌”筛查（女职工）"))
    two_cancer_min_age = IntegerField(_l("最小年龄"), validators=[InputRequired(), NumberRange(0, 120)])
    two_cancer_max_age = IntegerField(_l("最大年龄"), validators=[InputRequired(), NumberRange(0, 120)])
    repeat_interval_years = IntegerField(_l("同一项目间隔年限"), validators=[InputRequired(), NumberRange(0, 20)])
    two_cancer_per_slot = IntegerField(
        _l("每时段“两癌”名额（空为不单独限额）"), validators=[Optional(), NumberRange(0, 500)]
    )


class AddSlotsForm(AppForm):
    start = TimeField(_l("开始时间"), validators=[InputRequired(_l("请填写开始时间。"))])
    end = TimeField(_l("结束时间"), validators=[InputRequired(_l("请填写结束时间。"))])
    interval = IntegerField(_l("每个时段（分钟）"), default=15, validators=[InputRequired(), NumberRange(5, 240)])
    per_slot = IntegerField(_l("每个时段人数"), default=6, validators=[InputRequired(), NumberRange(1, 500)])


class ResizeForm(AppForm):
    capacity = IntegerField(
        _l("人数"),
        validators=[InputRequired(_l("请填写人数。")), NumberRange(0, 500, _l("人数需在 0 到 500 之间。"))],
    )
    closed = BooleanField(_l("关闭此时段"))


class CheckInForm(AppForm):
    code = StringField(
        _l("电子票号或手机号"),
        validators=[DataRequired(_l("请扫描电子票二维码或输入手机号。")), Length(max=64)],
        render_kw={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"},
    )


class OutcomeForm(AppForm):
    outcome = SelectField(
        _l("到场情况"),
        choices=[
            SelectChoice("attended", _l("已到场并完成体检")),
            SelectChoice("no_show", _l("未到场")),
            SelectChoice("not_screened", _l("到场但未体检")),
        ],
        validators=[InputRequired(_l("请选择到场情况。"))],
    )
    reason = SelectField(_l("未体检原因"), validators=[Optional()])


class MoveForm(AppForm):
    to_slot_id = IntegerField(_l("改到时段"), validators=[InputRequired(_l("请选择时段。"))])
