"""Organizer console forms. Status, roles and counters are never fields (no mass assignment): status changes are
actions with their own buttons, and the organization select offers only the actor's subtree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from ..accounts.models import Gender
from ..errors import InvalidInput
from ..events.models import Allocation, Event, Slot, WaitlistPolicy
from ..events.services import (
    DEFAULT_REMINDER_HOURS,
    MAX_SLOTS,
    EventData,
    SlotData,
    default_event_times,
    effective_reminder_hours,
    parse_reminder_hours,
)
from ..freetext import AppForm, AppSubform
from ..orgs.models import City, Organization

DT_FORMAT = "%Y-%m-%dT%H:%M"
# The pages show an event's slots (a new event: one empty block) and add a block on demand ("＋ 添加场次"), up to
# MAX_SLOTS. The list takes one row more than that, so that a form posting more slots than an event may have
# reaches the rule (and its message) instead of being cut short silently by the list.
SLOT_ROWS = MAX_SLOTS + 1

WAITLIST_LABELS = {
    WaitlistPolicy.OFFER: _l("候补：有空位时通知确认"),
    WaitlistPolicy.AUTO: _l("候补：有空位时自动递补"),
    WaitlistPolicy.NONE: _l("不设候补"),
}
ALLOCATION_LABELS = {
    Allocation.FIRST_COME: _l("先到先得"),
    Allocation.APPROVAL: _l("报名后审核"),
    Allocation.LOTTERY: _l("截止后抽签"),
}


def _dt(label: Any, required: bool = True) -> DateTimeLocalField:
    validators = [DataRequired(_l("请填写时间。"))] if required else [Optional()]
    return DateTimeLocalField(label, format=DT_FORMAT, validators=validators)


def _count(label: Any, maximum: int = 100_000) -> IntegerField:
    return IntegerField(
        label, validators=[Optional(), NumberRange(min=0, max=maximum, message=_l("请输入 0 到 %(max)d 之间的整数。"))]
    )


class SlotForm(AppSubform):
    """One bookable slot. A row left completely empty is ignored (so the form can offer spare rows)."""

    slot_id = HiddenField()
    label = StringField(_l("场次名称"), validators=[Optional(), Length(max=120)])
    starts_at = DateTimeLocalField(_l("场次开始"), format=DT_FORMAT, validators=[Optional()])
    ends_at = DateTimeLocalField(_l("场次结束"), format=DT_FORMAT, validators=[Optional()])
    capacity = _count(_l("名额"))
    quota_female = _count(_l("女性名额（可空）"))
    quota_male = _count(_l("男性名额（可空）"))
    waitlist_policy = SelectField(
        _l("候补规则"), choices=[SelectChoice(p.value, label) for p, label in WAITLIST_LABELS.items()], default="offer"
    )
    allocation = SelectField(
        _l("分配方式"),
        choices=[SelectChoice(a.value, label) for a, label in ALLOCATION_LABELS.items()],
        default="first_come",
    )
    offer_hours = IntegerField(
        _l("候补确认时限（小时）"),
        default=24,
        validators=[Optional(), NumberRange(min=1, max=336, message=_l("请输入 1 到 336 之间的整数。"))],
    )
    max_waitlist = _count(_l("候补人数上限（可空）"))

    def is_blank(self) -> bool:
        return not self.slot_id.data and self.starts_at.data is None and self.capacity.data is None

    def to_data(self) -> SlotData | None:
        """The slot's data, or None when a required value is missing (the caller reports it)."""
        if self.starts_at.data is None or self.ends_at.data is None or self.capacity.data is None:
            return None
        return SlotData(
            label=(self.label.data or "").strip(),
            starts_at=self.starts_at.data,
            ends_at=self.ends_at.data,
            capacity=self.capacity.data,
            quota_female=self.quota_female.data,
            quota_male=self.quota_male.data,
            waitlist_policy=WaitlistPolicy(self.waitlist_policy.data),
            allocation=Allocation(self.allocation.data),
            offer_hours=self.offer_hours.data or 24,
            max_waitlist=self.max_waitlist.data,
        )

    def fill_from(self, slot: Slot) -> None:
        self.slot_id.data = str(slot.id)
        self.label.data = slot.label
        self.starts_at.data = slot.starts_at
        self.ends_at.data = slot.ends_at
        self.capacity.data = slot.capacity
        self.quota_female.data = slot.quota_female
        self.quota_male.data = slot.quota_male
        self.waitlist_policy.data = slot.waitlist_policy.value
        self.allocation.data = slot.allocation.value
        self.offer_hours.data = slot.offer_hours
        self.max_waitlist.data = slot.max_waitlist


class EventForm(AppForm):
    kind = SelectField(_l("活动类型"), validators=[DataRequired(_l("请选择活动类型。"))])
    title = StringField(
        _l("活动标题"),
        validators=[DataRequired(_l("请填写标题。")), Length(max=120, message=_l("标题不超过 120 个字。"))],
    )
    description = TextAreaField(_l("活动介绍"), validators=[Optional(), Length(max=5000)])
    organization = SelectField(_l("主办工会"), coerce=int, validators=[DataRequired(_l("请选择主办工会。"))])
    city = SelectField(_l("所在城市"), coerce=int, validators=[DataRequired(_l("请选择城市。"))])
    venue = StringField(_l("活动地点"), validators=[Optional(), Length(max=200)])
    # The event's own start and end, and the sign-up deadline, default from its slots (default_event_times).
    starts_at = _dt(_l("活动开始时间（可空）"), required=False)
    ends_at = _dt(_l("活动结束时间（可空）"), required=False)
    signup_opens_at = _dt(_l("报名开始时间"))
    signup_closes_at = _dt(_l("报名截止时间（可空）"), required=False)
    cancel_deadline = _dt(_l("取消截止时间（可空）"), required=False)
    reminder_hours = StringField(
        _l("提前提醒（小时）"),
        validators=[Length(max=100, message=_l("不超过 100 个字。"))],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    min_age = IntegerField(
        _l("最小年龄（可空）"),
        validators=[Optional(), NumberRange(min=16, max=80, message=_l("年龄需在 16 到 80 之间。"))],
    )
    max_age = IntegerField(
        _l("最大年龄（可空）"),
        validators=[Optional(), NumberRange(min=16, max=80, message=_l("年龄需在 16 到 80 之间。"))],
    )
    gender = SelectField(
        _l("性别限制"),
        choices=[
            SelectChoice("", _l("不限")),
            SelectChoice(Gender.FEMALE.value, _l("仅限女职工")),
            SelectChoice(Gender.MALE.value, _l("仅限男职工")),
        ],
    )
    frontline_only = BooleanField(_l("仅限一线职工"))
    subtree_only = BooleanField(_l("仅限主办工会所属单位的职工"))
    allow_multiple_slots = BooleanField(_l("允许同一人报名多个场次"))
    published = BooleanField(_l("保存后立即发布"))
    slots = FieldList(FormField(SlotForm), min_entries=1, max_entries=SLOT_ROWS)

    def setup(
        self,
        kinds: list[tuple[str, Any]],
        organizations: list[Organization],
        cities: list[City],
        spare_slots: int = 0,
    ) -> None:
        self.kind.choices = [SelectChoice(value, str(label)) for value, label in kinds]
        self.organization.choices = [SelectChoice(org.id, org.name) for org in organizations]
        self.city.choices = [SelectChoice(city.id, city.name) for city in cities]
        for _spare in range(spare_slots):
            self.add_spare_row()

    def validate_reminder_hours(self, field: StringField) -> None:
        try:
            parse_reminder_hours(field.data)
        except InvalidInput as error:
            raise ValidationError(error.message) from None

    def add_spare_row(self) -> None:
        """An empty row for one more slot, while the event may still have one."""
        if len(self.slots.entries) < MAX_SLOTS:
            self.slots.append_entry()

    def can_add_slot(self) -> bool:
        return len(self.slots.entries) < MAX_SLOTS

    def slot_limit(self) -> int:
        return MAX_SLOTS

    def blank_slot(self) -> SlotForm:
        """An empty slot block named ``slots-__index__-…``: the page's "＋ 添加场次" script copies it."""
        return SlotForm(formdata=None, prefix=f"{self.slots.name}-__index__-")

    def prefill_new(self, now: datetime) -> None:
        """A new event's defaults: sign-up opens now (to the minute); reminders at the usual offsets."""
        self.signup_opens_at.data = now.replace(second=0, microsecond=0)
        self.reminder_hours.data = ", ".join(str(h) for h in DEFAULT_REMINDER_HOURS)

    def fill_from(self, event: Event) -> None:
        self.kind.data = event.kind
        self.title.data = event.title
        self.description.data = event.description
        self.organization.data = event.organization_id
        self.city.data = event.city_id
        self.venue.data = event.venue
        # Times that equal what the slots give are left blank, so that they keep following the slots.
        derived = default_event_times(None, None, None, [(s.starts_at, s.ends_at) for s in event.slots])
        self.starts_at.data = None if event.starts_at == derived[0] else event.starts_at
        self.ends_at.data = None if event.ends_at == derived[1] else event.ends_at
        self.signup_opens_at.data = event.signup_opens_at
        self.signup_closes_at.data = None if event.signup_closes_at == event.starts_at else event.signup_closes_at
        self.cancel_deadline.data = event.cancel_deadline
        self.reminder_hours.data = ", ".join(str(h) for h in effective_reminder_hours(event))
        self.min_age.data = event.min_age
        self.max_age.data = event.max_age
        self.gender.data = event.gender.value if event.gender else ""
        self.frontline_only.data = event.frontline_only
        self.subtree_only.data = event.subtree_only
        self.allow_multiple_slots.data = event.allow_multiple_slots
        self.published.data = event.published
        while len(self.slots.entries):
            self.slots.pop_entry()
        for slot in event.slots:
            entry = self.slots.append_entry()
            entry.form.fill_from(slot)

    def slot_rows(
        self, removed: set[str] | frozenset[str] = frozenset()
    ) -> tuple[list[int | None], list[SlotData], dict[str, list[str]]]:
        """The non-blank slot rows not ticked for removal, as (ids, data, errors keyed like validate_event's)."""
        ids: list[int | None] = []
        data: list[SlotData] = []
        errors: dict[str, list[str]] = {}
        for entry in self.slots.entries:
            form: SlotForm = entry.form
            if form.is_blank() or (form.slot_id.data and form.slot_id.data in removed):
                continue
            slot_data = form.to_data()
            if slot_data is None:
                errors.setdefault(f"slots[{len(data)}]", []).append(str(_l("请填写场次的开始、结束时间和名额。")))
                continue
            try:
                ids.append(int(form.slot_id.data) if form.slot_id.data else None)
            except ValueError:
                ids.append(None)
            data.append(slot_data)
        return ids, data, errors

    def to_data(self, organization: Organization, city: City, slots: list[SlotData]) -> EventData:
        """The event's data; its own times default from the slots (``default_event_times``). Raises InvalidInput
        naming the time fields when neither they nor any slot give a time."""
        starts_at, ends_at, closes_at = default_event_times(
            self.starts_at.data,
            self.ends_at.data,
            self.signup_closes_at.data,
            [(slot.starts_at, slot.ends_at) for slot in slots],
        )
        if starts_at is None or ends_at is None or closes_at is None or self.signup_opens_at.data is None:
            message = _l("请填写活动时间，或至少填写一个场次。")
            missing = {"starts_at": starts_at, "ends_at": ends_at, "signup_closes_at": closes_at}
            raise InvalidInput(
                str(message), fields={name: [str(message)] for name, value in missing.items() if value is None}
            )
        return EventData(
            kind=self.kind.data or "",
            title=self.title.data or "",
            description=self.description.data or "",
            organization=organization,
            city=city,
            venue=(self.venue.data or "").strip(),
            starts_at=starts_at,
            ends_at=ends_at,
            signup_opens_at=self.signup_opens_at.data,
            signup_closes_at=closes_at,
            cancel_deadline=self.cancel_deadline.data,
            reminder_hours=parse_reminder_hours(self.reminder_hours.data),
            allow_multiple_slots=bool(self.allow_multiple_slots.data),
            min_age=self.min_age.data,
            max_age=self.max_age.data,
            gender=Gender(self.gender.data) if self.gender.data else None,
            frontline_only=bool(self.frontline_only.data),
            subtree_only=bool(self.subtree_only.data),
            published=bool(self.published.data),
            slots=slots,
        )


class CheckinPhotoForm(AppForm):
    photo = FileField(_l("拍照识别电子票"))


class ReasonForm(AppForm):
    reason = StringField(
        _l("原因"), validators=[DataRequired(_l("请填写原因。")), Length(max=200, message=_l("原因不超过 200 个字。"))]
    )


class DuplicateForm(AppForm):
    shift_days = IntegerField(
        _l("新活动的时间顺延（天）"),
        default=7,
        validators=[
            DataRequired(_l("请填写天数。")),
            NumberRange(min=1, max=3650, message=_l("请输入 1 到 3650 之间的整数。")),
        ],
    )


class AddPersonForm(AppForm):
    slot = SelectField(_l("场次"), coerce=int)
    phone = TelField(
        _l("职工手机号"),
        validators=[
            DataRequired(_l("请输入手机号。")),
            Regexp(r"^\s*(\+86)?1[3-9]\d{9}\s*$", message=_l("请输入 11 位中国大陆手机号。")),
        ],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 14},
    )


class MoveForm(AppForm):
    slot = SelectField(_l("移到场次"), coerce=int)


class TagForm(AppForm):
    label = StringField(
        _l("标签"), validators=[DataRequired(_l("请填写标签。")), Length(max=20, message=_l("标签不超过 20 个字。"))]
    )


class MessageForm(AppForm):
    scope = SelectField(
        _l("发送给"),
        choices=[
            SelectChoice("selected", _l("勾选的人员")),
            SelectChoice("active", _l("全部有效报名（已确认、候补、待审核）")),
        ],
        default="selected",
    )
    title = StringField(
        _l("消息标题"),
        validators=[DataRequired(_l("请填写标题。")), Length(max=60, message=_l("标题不超过 60 个字。"))],
    )
    body = TextAreaField(
        _l("消息内容"),
        validators=[DataRequired(_l("请填写内容。")), Length(max=1000, message=_l("内容不超过 1000 个字。"))],
    )
    nonce = HiddenField()


class BulkTagForm(AppForm):
    # Shares the roster's bulk form with the message fields: not marked required in the page, or the browser
    # would refuse to send a message while the tag is empty (the server still requires it for tagging).
    label = StringField(
        _l("给勾选的人员加标签"),
        validators=[DataRequired(_l("请填写标签。")), Length(max=20, message=_l("标签不超过 20 个字。"))],
        render_kw={"required": False},
    )


class CheckinForm(AppForm):
    """The no-JavaScript fallback of the check-in page: type the ticket code."""

    code = StringField(_l("票码"), validators=[DataRequired(_l("请输入票码。")), Length(max=200)])
    scan_id = HiddenField()


class CheckinOverrideForm(AppForm):
    """Check someone in outside the check-in window anyway: the organizer's reason is required (and audited)."""

    registration_id = HiddenField()
    override_reason = StringField(
        _l("签到时间之外仍要签到的原因"),
        validators=[
            DataRequired(_l("在签到时间之外签到，请填写原因。")),
            Length(max=200, message=_l("原因不超过 200 个字。")),
        ],
    )
