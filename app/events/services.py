"""Creating and finding events and slots. Capacity itself is the booking engine's (``booking.services``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, exists, func, or_, select

from .. import clock
from ..accounts.models import Gender, User
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..orgs.models import City, Organization
from ..orgs.scope import require_manages
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
    and capacities, at most MAX_SLOTS slots."""
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
        reminder_hours=data.reminder_hours,
        published=data.published,
        created_by_id=actor.id,
    )
    for slot in data.slots:
        event.slots.append(
            Slot(
                label=slot.label,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                capacity=slot.capacity,
                quota_female=slot.quota_female,
                quota_male=slot.quota_male,
                waitlist_policy=slot.waitlist_policy,
                allocation=slot.allocation,
                offer_hours=slot.offer_hours,
                max_waitlist=slot.max_waitlist,
                signup_opens_at=slot.signup_opens_at,
                signup_closes_at=slot.signup_closes_at,
            )
        )
    db.session.add(event)
    db.session.flush()
    return event


def managed_event(actor: User, event_id: int, kind: str | None = None) -> Event:
    """An event (of ``kind``, when given) of an organization the actor manages; any other id answers NotFound,
    so ids outside the caller's subtree cannot be probed."""
    event = db.session.get(Event, event_id)
    if event is None or (kind is not None and event.kind != kind):
        raise NotFound()
    require_manages(actor, event.organization)
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
