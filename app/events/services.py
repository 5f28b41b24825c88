"""Creating and finding events and slots. Capacity itself is the booking engine's (``booking.services``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, exists, func, or_, select

from .. import audit, clock
from ..accounts.models import Gender, User
from ..accounts.scope import require_manages
from ..errors import DomainError, InvalidInput, NotFound
from ..extensions import db
from ..orgs.models import City, Organization
from ..signals import event_times_changed
from .kinds import policy_for, registered_kinds
from .models import Allocation, Event, Slot, WaitlistPolicy


@dataclass
class SlotData:
    starts_at: datetime
    ends_at: datetime
    capacity: int
    quota_female: int | None = None
    quota_male: int | None = None
    waitlist_policy: WaitlistPolicy = WaitlistPolicy.OFFER
    allocation: Allocation = Allocation.FIRST_COME
    offer_hours: int = 24
    max_waitlist: int | None = None
    label: str = ""
    signup_opens_at: datetime | None = None
    signup_closes_at: datetime | None = None


@dataclass
class EventData:
    kind: str
    title: str
    city: City
    organization: Organization
    starts_at: datetime
    ends_at: datetime
    signup_opens_at: datetime
    signup_closes_at: datetime
    description: str = ""
    venue: str = ""
    cancel_deadline: datetime | None = None
    allow_multiple_slots: bool = False
    min_age: int | None = None
    max_age: int | None = None
    gender: Gender | None = None
    frontline_only: bool = False
    subtree_only: bool = False
    industry_ids: list[int] | None = None
    reminder_hours: list[int] | None = None
    published: bool = True
    slots: list[SlotData] = field(default_factory=list)


MAX_SLOTS = 500  # slots of one event (the screening grid makes up to 200; the API and the form take up to this)

# When reminders go out, in whole hours before a slot starts: these unless the event says otherwise.
DEFAULT_REMINDER_HOURS = (24, 2)
MAX_REMINDER_OFFSETS = 5
MAX_REMINDER_HOURS = 720  # 30 days


def reminder_hours_problem(hours: list[int] | None) -> str | None:
    """The rule for an event's reminder offsets: None (the defaults, ``DEFAULT_REMINDER_HOURS``), or a list of
    at most ``MAX_REMINDER_OFFSETS`` distinct whole hours, each from 1 to ``MAX_REMINDER_HOURS``; an empty list
    means no reminders. Returns the message for a list that breaks it, else None."""
    if hours is None:
        return None
    if any(isinstance(h, bool) or not isinstance(h, int) or not 1 <= h <= MAX_REMINDER_HOURS for h in hours):
        return _("每个提醒时间需是 1 到 %(max)d 之间的整数（小时）。", max=MAX_REMINDER_HOURS)
    if len(set(hours)) > MAX_REMINDER_OFFSETS:
        return _("最多设置 %(n)d 个不同的提醒时间。", n=MAX_REMINDER_OFFSETS)
    return None


def clean_reminder_hours(hours: list[int] | None) -> list[int] | None:
    """Offsets that pass ``reminder_hours_problem``, as stored: distinct, earliest reminder (most hours) first."""
    return None if hours is None else sorted(set(hours), reverse=True)


def effective_reminder_hours(event: Event) -> list[int]:
    """The hours before a slot's start at which the event's reminders go out (its own, or the defaults)."""
    hours = event.reminder_hours if event.reminder_hours is not None else list(DEFAULT_REMINDER_HOURS)
    return sorted({int(h) for h in hours if int(h) > 0}, reverse=True)


def parse_reminder_hours(text: str | None) -> list[int]:
    """Reminder offsets as an organizer types them — "24, 2" (commas of either width, 、 or spaces between) —
    checked by ``reminder_hours_problem``; blank means no reminders. Raises InvalidInput on ``reminder_hours``."""
    words = [word for word in re.split(r"[\s,，、;；]+", (text or "").strip()) if word]
    if len(words) > 50 or not all(word.isascii() and word.isdigit() and len(word) <= 6 for word in words):
        message = _("请填写整数小时数，用逗号分隔，例如“24, 2”。")
        raise InvalidInput(message, fields={"reminder_hours": [message]})
    hours = [int(word) for word in words]
    problem = reminder_hours_problem(hours)
    if problem:
        raise InvalidInput(problem, fields={"reminder_hours": [problem]})
    return clean_reminder_hours(hours) or []


def default_event_times(
    starts_at: datetime | None,
    ends_at: datetime | None,
    signup_closes_at: datetime | None,
    slots: list[tuple[datetime, datetime]],
) -> tuple[datetime | None, datetime | None, datetime | None]:
    """An event's own times, where not given, follow its slots (given as (start, end) pairs): it starts at its
    earliest slot's start and ends at its latest slot's end, and sign-up closes when it starts. A time that is
    given stays as given; with neither, it stays None."""
    if starts_at is None and slots:
        starts_at = min(start for start, _end in slots)
    if ends_at is None and slots:
        ends_at = max(end for _start, end in slots)
    if signup_closes_at is None:
        signup_closes_at = starts_at
    return starts_at, ends_at, signup_closes_at


def date_range() -> tuple[datetime, datetime]:
    """The dates an event, a slot or a window may take: from 1 January of EVENT_EARLIEST_YEAR to
    EVENT_MAX_YEARS_AHEAD years after now (settings). Beyond, a date is a typing mistake — and one near the end
    of the calendar breaks every date sum made from it (reminders, pick windows, monthly statistics)."""
    config = current_app.config
    now = clock.now()
    earliest = datetime(max(int(config.get("EVENT_EARLIEST_YEAR", 2000)), 1), 1, 1)
    year = min(now.year + int(config.get("EVENT_MAX_YEARS_AHEAD", 5)), 9998)
    day = 28 if (now.month, now.day) == (2, 29) else now.day
    return earliest, now.replace(year=year, day=day, hour=23, minute=59, second=59)


def date_problem(moment: datetime | None) -> str | None:
    """The message for a date outside ``date_range()``, or None when it is inside (or absent)."""
    if moment is None:
        return None
    earliest, latest = date_range()
    if earliest <= moment <= latest:
        return None
    return _("日期需在 %(first)s 至 %(last)s 之间。", first=earliest.date().isoformat(), last=latest.date().isoformat())


def validate_event(data: EventData) -> dict[str, list[str]]:
    """Field errors for an event: a known kind, a title, times in order and inside ``date_range()``, sane ages
    and capacities, at most MAX_SLOTS slots, reminder offsets within ``reminder_hours_problem``'s rule."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        if message not in errors.get(name, []):
            errors.setdefault(name, []).append(message)

    for name in ("starts_at", "ends_at", "signup_opens_at", "signup_closes_at", "cancel_deadline"):
        problem = date_problem(getattr(data, name))
        if problem:
            add(name, problem)
    if len(data.slots) > MAX_SLOTS:
        add("slots", _("一个活动最多 %(n)d 个场次。", n=MAX_SLOTS))

    if data.kind not in registered_kinds():
        add("kind", _("未知的活动类型。"))
    if not data.title.strip() or len(data.title) > 120:
        add("title", _("标题不能为空，且不超过 120 个字符。"))
    if data.ends_at <= data.starts_at:
        add("ends_at", _("结束时间必须晚于开始时间。"))
    if data.signup_closes_at <= data.signup_opens_at:
        add("signup_closes_at", _("报名截止时间必须晚于报名开始时间。"))
    if data.signup_opens_at > data.starts_at:
        add("signup_opens_at", _("报名开始时间不能晚于活动开始时间。"))
    if data.min_age is not None and data.max_age is not None and data.min_age > data.max_age:
        add("max_age", _("最大年龄不能小于最小年龄。"))
    if not data.slots:
        add("slots", _("至少需要一个可预约的场次。"))
    for index, slot in enumerate(data.slots):
        key = f"slots[{index}]"
        for moment in (slot.starts_at, slot.ends_at, slot.signup_opens_at, slot.signup_closes_at):
            problem = date_problem(moment)
            if problem:
                add(key, problem)
        if slot.capacity < 0 or slot.capacity > 100_000:
            add(key, _("名额需在 0 到 100000 之间。"))
        if slot.ends_at <= slot.starts_at:
            add(key, _("场次结束时间必须晚于开始时间。"))
        for quota in (slot.quota_female, slot.quota_male):
            if quota is not None and (quota < 0 or quota > slot.capacity):
                add(key, _("性别名额需在 0 到总名额之间。"))
        if slot.offer_hours < 1 or slot.offer_hours > 24 * 14:
            add(key, _("候补确认时限需在 1 小时到 14 天之间。"))
    reminder_problem = reminder_hours_problem(data.reminder_hours)
    if reminder_problem:
        add("reminder_hours", reminder_problem)
    return errors


def create_event(actor: User, data: EventData) -> Event:
    """An organizer creates an event for an organization in their subtree (admins: any). Invalid data raises
    InvalidInput with every field's problem; nothing is written."""
    require_manages(actor, data.organization)
    errors = validate_event(data)
    if errors:
        raise InvalidInput(_("请检查填写的内容。"), fields=errors)
    event = Event(
        kind=data.kind,
        title=data.title.strip(),
        description=data.description,
        organization=data.organization,
        city=data.city,
        venue=data.venue,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        signup_opens_at=data.signup_opens_at,
        signup_closes_at=data.signup_closes_at,
        cancel_deadline=data.cancel_deadline,
        allow_multiple_slots=data.allow_multiple_slots,
        min_age=data.min_age,
        max_age=data.max_age,
        gender=data.gender,
        frontline_only=data.frontline_only,
        subtree_only=data.subtree_only,
        industry_ids=data.industry_ids,
        reminder_hours=clean_reminder_hours(data.reminder_hours),
        published=data.published,
        created_by_id=actor.id,
    )
    event.slots.extend(slot_like(slot) for slot in data.slots)
    db.session.add(event)
    db.session.flush()
    return event


def slot_like(source: SlotData | Slot, shift: timedelta = timedelta(0)) -> Slot:
    """A new slot with ``source``'s label, seats, quotas, waitlist and allocation rules, its times and sign-up
    window moved by ``shift`` (a new event's slots are not moved; a duplicated event's move with it)."""

    def moved(value: datetime | None) -> datetime | None:
        return value + shift if value is not None else None

    return Slot(
        label=source.label,
        starts_at=source.starts_at + shift,
        ends_at=source.ends_at + shift,
        capacity=source.capacity,
        quota_female=source.quota_female,
        quota_male=source.quota_male,
        waitlist_policy=source.waitlist_policy,
        allocation=source.allocation,
        offer_hours=source.offer_hours,
        max_waitlist=source.max_waitlist,
        signup_opens_at=moved(source.signup_opens_at),
        signup_closes_at=moved(source.signup_closes_at),
    )


def managed_event(actor: User, event_id: int, kind: str | None = None) -> Event:
    """An event (of ``kind``, when given) of an organization the actor manages; any other id answers NotFound,
    so ids outside the caller's subtree cannot be probed."""
    event = db.session.get(Event, event_id)
    if event is None or (kind is not None and event.kind != kind):
        raise NotFound()
    require_manages(actor, event.organization)
    return event


def set_reminder_hours(actor: User, event_id: int, hours: list[int] | None) -> Event:
    """Change when an event of the actor's subtree sends its reminders (None: the defaults; []: none), under
    ``reminder_hours_problem``'s rule. The reminders not yet sent of every confirmed registration are planned
    again at the new offsets (``event_times_changed``; those already sent stay sent, and none is planned in the
    past). A cancelled event refuses; an unchanged list changes nothing. Audited."""
    event = managed_event(actor, event_id)
    problem = reminder_hours_problem(hours)
    if problem:
        raise InvalidInput(problem, fields={"reminder_hours": [problem]})
    if event.is_cancelled:
        raise DomainError(_("已取消的活动不能再编辑。"))
    cleaned = clean_reminder_hours(hours)
    if cleaned == event.reminder_hours:
        return event
    event.reminder_hours = cleaned
    db.session.flush()
    event_times_changed.send(event)  # the notifications feature plans the pending reminders again
    audit.record(actor, "event.reminders", "event", event.id, {"hours": cleaned})
    return event


def get_published_event(event_id: int) -> Event:
    """An event employees may see: published (cancelled ones stay visible with their notice)."""
    event = db.session.get(Event, event_id)
    if event is None or not event.published:
        raise NotFound()
    return event


@dataclass
class EventFilter:
    kind: str | None = None
    city: str | None = None  # city code
    on_or_after: datetime | None = None
    available_only: bool = False
    keyword: str | None = None  # matched in the title, the venue, the city and the organizer's name
    page: int = 1
    per_page: int = 20


KEYWORD_MAX_LENGTH = 40


def clean_keyword(text: str | None) -> str | None:
    """A search keyword as typed, with control characters dropped, spaces squeezed and at most
    ``KEYWORD_MAX_LENGTH`` characters; None when nothing is left."""
    if not text:
        return None
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    keyword = " ".join(printable.split())[:KEYWORD_MAX_LENGTH]
    return keyword or None


def _keyword_matches(keyword: str) -> Any:
    """Every word of ``keyword`` appears in the event's title, venue, city or organizer (``%`` and ``_`` are
    taken literally)."""
    conditions = []
    for word in keyword.lower().split():
        conditions.append(
            or_(
                func.lower(Event.title).contains(word, autoescape=True),
                func.lower(Event.venue).contains(word, autoescape=True),
                Event.city_id.in_(
                    select(City.id).where(
                        or_(
                            City.name.contains(word, autoescape=True),
                            func.lower(City.name_en).contains(word, autoescape=True),
                        )
                    )
                ),
                Event.organization_id.in_(
                    select(Organization.id).where(func.lower(Organization.name).contains(word, autoescape=True))
                ),
            )
        )
    return and_(*conditions)


def _listing_query(filters: EventFilter) -> Select[Event]:
    now = clock.now()
    query = select(Event).where(Event.published.is_(True), Event.cancelled_at.is_(None), Event.ends_at >= now)
    if filters.kind:
        query = query.where(Event.kind == filters.kind)
    if filters.city:
        query = query.join(City, City.id == Event.city_id).where(City.code == filters.city)
    if filters.on_or_after:
        query = query.where(Event.starts_at >= filters.on_or_after)
    if filters.keyword:
        query = query.where(_keyword_matches(filters.keyword))
    if filters.available_only:
        query = query.where(
            exists().where(Slot.event_id == Event.id, Slot.taken < Slot.capacity, Slot.closed.is_(False))
        )
    return query


def _listing_rank(now: datetime) -> Any:
    """0 while sign-up is open, 1 before it opens, 2 once it closed or the event started: lists show what one
    can book first, then what opens soon (the same order ``status.event_state`` ranks)."""
    return case(
        (
            (Event.signup_opens_at <= now) & (Event.signup_closes_at > now) & (Event.starts_at > now),
            0,
        ),
        (Event.signup_opens_at > now, 1),
        else_=2,
    )


def list_events(filters: EventFilter) -> tuple[list[Event], int]:
    """Published, not cancelled, not yet ended events, a page at a time, those open for sign-up first, then
    those about to open, then the rest (closed or running), each group soonest first; returns the total too."""
    query = _listing_query(filters)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(filters.page, 1)
    order = (_listing_rank(clock.now()), Event.starts_at, Event.id)
    events = db.session.scalars(query.order_by(*order).limit(filters.per_page).offset((page - 1) * filters.per_page))
    return list(events.unique()), total


def upcoming_highlights(limit: int = 6) -> list[Event]:
    """The home page's events: not ended, open ones first, then those about to open."""
    events, _total = list_events(EventFilter(per_page=limit))
    return events


def kind_label(kind: str) -> Any:
    try:
        return policy_for(kind).label
    except LookupError:
        return kind


def kind_choices() -> list[tuple[str, Any]]:
    return [(kind, policy.label) for kind, policy in registered_kinds().items()]
