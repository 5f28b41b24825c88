"""Screening sub-domain: visits and their slot grid — planning a truck's day at a park (the event, its
visit settings and the time slots), adding and resizing slots, the visit's two-cancer settings, finding the
visits an organizer manages, and the organizer's filling grid and roster.

Seats are always changed through the booking engine (``app.booking.services``); functions flush but never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import clock
from ..accounts.models import User
from ..accounts.scope import require_manages, scope_condition
from ..booking import services as booking
from ..booking.models import HOLDING, Registration, Status
from ..errors import DomainError, InvalidInput, NotFound
from ..events.models import Event, Slot, WaitlistPolicy
from ..events.services import EventData, SlotData, create_event, date_problem
from ..extensions import db
from ..orgs.models import City, Organization
from .eligibility import two_cancer_counts, visit_date
from .models import (
    DEFAULT_MAX_AGE,
    DEFAULT_MIN_AGE,
    DEFAULT_REPEAT_YEARS,
    KIND,
    ScreeningBooking,
    ScreeningVisit,
)

MAX_SLOTS_PER_GRID = 200
MIN_INTERVAL = 5
MAX_INTERVAL = 240
MAX_PER_SLOT = 500


# --- planning -----------------------------------------------------------------------------------------------


def generate_slot_times(day: date, start: time, end: time, interval_minutes: int) -> list[tuple[datetime, datetime]]:
    """The time slots of a grid: from ``start``, one every ``interval_minutes``, each as long as the interval,
    the last one ending at or before ``end`` (08:30–16:30 every 15 minutes gives 32 slots, the last at 16:15).
    Refuses an empty or oversized grid and intervals outside 5–240 minutes with InvalidInput."""
    errors: dict[str, list[str]] = {}
    if not MIN_INTERVAL <= interval_minutes <= MAX_INTERVAL:
        errors["interval"] = [_("间隔需在 %(a)d 到 %(b)d 分钟之间。", a=MIN_INTERVAL, b=MAX_INTERVAL)]
    if end <= start:
        errors["end"] = [_("结束时间必须晚于开始时间。")]
    if errors:
        raise InvalidInput(_("请检查填写的内容。"), fields=errors)
    first = datetime.combine(day, start)
    last_end = datetime.combine(day, end)
    step = timedelta(minutes=interval_minutes)
    times: list[tuple[datetime, datetime]] = []
    moment = first
    while moment + step <= last_end:
        times.append((moment, moment + step))
        moment += step
    if not times:
        raise InvalidInput(_("请检查填写的内容。"), fields={"end": [_("开始与结束之间放不下一个时段。")]})
    if len(times) > MAX_SLOTS_PER_GRID:
        raise InvalidInput(
            _("请检查填写的内容。"), fields={"interval": [_("一天最多 %(n)d 个时段。", n=MAX_SLOTS_PER_GRID)]}
        )
    return times


@dataclass
class VisitData:
    title: str
    organization: Organization
    city: City
    site_name: str
    day: date
    start: time
    end: time
    interval_minutes: int
    per_slot: int
    venue: str = ""
    description: str = ""
    offers_two_cancer: bool = True
    two_cancer_min_age: int = DEFAULT_MIN_AGE
    two_cancer_max_age: int = DEFAULT_MAX_AGE
    repeat_interval_years: int = DEFAULT_REPEAT_YEARS
    two_cancer_per_slot: int | None = None
    frontline_only: bool = False
    signup_opens_at: datetime | None = None  # default: now
    published: bool = True


def _validate_visit(data: VisitData) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not data.site_name.strip() or len(data.site_name) > 120:
        add("site_name", _("请填写园区或站点名称（不超过 120 个字符）。"))
    if not 1 <= data.per_slot <= MAX_PER_SLOT:
        add("per_slot", _("每个时段人数需在 1 到 %(n)d 之间。", n=MAX_PER_SLOT))
    if not 0 <= data.two_cancer_min_age <= data.two_cancer_max_age <= 120:
        add("two_cancer_max_age", _("“两癌”筛查年龄范围无效。"))
    if not 0 <= data.repeat_interval_years <= 20:
        add("repeat_interval_years", _("间隔年限需在 0 到 20 年之间。"))
    if data.two_cancer_per_slot is not None and not 0 <= data.two_cancer_per_slot <= data.per_slot:
        add("two_cancer_per_slot", _("每时段“两癌”名额需在 0 到每时段人数之间。"))
    if data.day < clock.today():
        add("day", _("体检日期不能早于今天。"))
    problem = _day_out_of_range(data.day)
    if problem:
        add("day", problem)
    return errors


def _day_out_of_range(day: date) -> str | None:
    """The whole day must lie inside the dates events may take, so the grid's times do too (and the sums that
    make them cannot overflow the calendar)."""
    return date_problem(datetime.combine(day, time.min)) or date_problem(datetime.combine(day, time(23, 59)))


def plan_visit(actor: User, data: VisitData) -> Event:
    """An organizer plans a truck's day at a park in one step: the event (kind "screening"), its visit
    settings and the slot grid. Each slot takes bookings until it starts; the visit stays open until its
    last slot starts. Invalid input raises InvalidInput naming every field; nothing is written. Outside
    the organizer's subtree: NotFound."""
    require_manages(actor, data.organization)
    errors = _validate_visit(data)
    times = []
    try:
        if _day_out_of_range(data.day) is None:
            times = generate_slot_times(data.day, data.start, data.end, data.interval_minutes)
    except InvalidInput as error:
        errors.update(error.fields)
    if errors:
        raise InvalidInput(_("请检查填写的内容。"), fields=errors)
    opens = data.signup_opens_at or clock.now()
    times = [(starts, ends) for starts, ends in times if starts > opens]
    if not times:
        raise InvalidInput(_("请检查填写的内容。"), fields={"start": [_("所有时段都已开始，无法预约。")]})
    first_start, last_start = times[0][0], times[-1][0]
    event = create_event(
        actor,
        EventData(
            kind=KIND,
            title=data.title.strip() or _("健康大篷车进%(site)s", site=data.site_name.strip()),
            city=data.city,
            organization=data.organization,
            starts_at=first_start,
            ends_at=times[-1][1],
            signup_opens_at=opens,
            signup_closes_at=last_start,
            description=data.description,
            venue=data.venue.strip() or data.site_name.strip(),
            frontline_only=data.frontline_only,
            published=data.published,
            slots=[
                SlotData(
                    starts_at=starts,
                    ends_at=ends,
                    capacity=data.per_slot,
                    waitlist_policy=WaitlistPolicy.NONE,
                    label=f"{starts:%H:%M}–{ends:%H:%M}",
                    signup_closes_at=starts,
                )
                for starts, ends in times
            ],
        ),
    )
    db.session.add(
        ScreeningVisit(
            event_id=event.id,
            site_name=data.site_name.strip(),
            offers_two_cancer=data.offers_two_cancer,
            two_cancer_min_age=data.two_cancer_min_age,
            two_cancer_max_age=data.two_cancer_max_age,
            repeat_interval_years=data.repeat_interval_years,
            two_cancer_per_slot=data.two_cancer_per_slot if data.offers_two_cancer else None,
        )
    )
    db.session.flush()
    return event


def add_slots(actor: User, event: Event, start: time, end: time, interval_minutes: int, per_slot: int) -> list[Slot]:
    """Add a block of slots to an existing visit on its date (e.g. an afternoon session). New slots may not
    overlap existing ones; the visit's end time grows to cover them."""
    require_manages(actor, event.organization)
    visit = get_visit(event.id)
    if not 1 <= per_slot <= MAX_PER_SLOT:
        raise InvalidInput(
            _("请检查填写的内容。"),
            fields={"per_slot": [_("每个时段人数需在 1 到 %(n)d 之间。", n=MAX_PER_SLOT)]},
        )
    times = generate_slot_times(visit_date(visit.event), start, end, interval_minutes)
    for starts, ends in times:
        for slot in event.slots:
            if starts < slot.ends_at and slot.starts_at < ends:
                raise InvalidInput(
                    _("请检查填写的内容。"),
                    fields={"start": [_("新时段与已有时段 %(label)s 重叠。", label=slot.label)]},
                )
    created = []
    for starts, ends in times:
        slot = Slot(
            starts_at=starts,
            ends_at=ends,
            capacity=per_slot,
            waitlist_policy=WaitlistPolicy.NONE,
            label=f"{starts:%H:%M}–{ends:%H:%M}",
            signup_closes_at=starts,
        )
        event.slots.append(slot)
        created.append(slot)
    event.starts_at = min(event.starts_at, times[0][0])
    event.ends_at = max(event.ends_at, times[-1][1])
    event.signup_closes_at = max(event.signup_closes_at, times[-1][0])
    db.session.flush()
    return created


@dataclass
class TwoCancerSettings:
    offers_two_cancer: bool
    min_age: int
    max_age: int
    repeat_interval_years: int
    per_slot: int | None


def update_two_cancer_settings(actor: User, visit: ScreeningVisit, settings: TwoCancerSettings) -> ScreeningVisit:
    """Change a visit's two-cancer rules. New age and interval rules apply to new bookings only (a booking is
    never second-guessed). With every slot of the visit locked: the per-slot cap may not go below the two-cancer
    bookings a slot already holds, and the package cannot be withdrawn while people hold it."""
    require_manages(actor, visit.event.organization)
    errors: dict[str, list[str]] = {}
    if not 0 <= settings.min_age <= settings.max_age <= 120:
        errors["two_cancer_max_age"] = [_("“两癌”筛查年龄范围无效。")]
    if not 0 <= settings.repeat_interval_years <= 20:
        errors["repeat_interval_years"] = [_("间隔年限需在 0 到 20 年之间。")]
    if settings.per_slot is not None and not 0 <= settings.per_slot <= MAX_PER_SLOT:
        errors["two_cancer_per_slot"] = [_("每时段“两癌”名额需在 0 到 %(n)d 之间。", n=MAX_PER_SLOT)]
    if errors:
        raise InvalidInput(_("请检查填写的内容。"), fields=errors)
    slot_ids = [slot.id for slot in visit.event.slots]
    booking.lock_slots(slot_ids)
    counts = two_cancer_counts(slot_ids)
    held = max(counts.values(), default=0)
    if not settings.offers_two_cancer and held:
        raise DomainError(_("已有职工预约了“两癌”筛查，不能取消该项目。"))
    if settings.per_slot is not None and settings.per_slot < held:
        raise InvalidInput(
            _("请检查填写的内容。"),
            fields={"two_cancer_per_slot": [_("有时段已预约 %(n)d 人，名额不能少于此数。", n=held)]},
        )
    visit.offers_two_cancer = settings.offers_two_cancer
    visit.two_cancer_min_age = settings.min_age
    visit.two_cancer_max_age = settings.max_age
    visit.repeat_interval_years = settings.repeat_interval_years
    visit.two_cancer_per_slot = settings.per_slot if settings.offers_two_cancer else None
    db.session.flush()
    return visit


def resize(actor: User, slot_id: int, capacity: int, *, closed: bool | None = None) -> Slot:
    """Resize or close/reopen one slot of a visit the organizer manages. The engine refuses a capacity below
    the seats already held; a two-cancer cap larger than the new capacity simply stops mattering."""
    slot = db.session.get(Slot, slot_id)
    if slot is None or slot.event.kind != KIND:
        raise NotFound()
    require_manages(actor, slot.event.organization)
    if capacity < 0 or capacity > MAX_PER_SLOT:
        raise InvalidInput(_("每个时段人数需在 0 到 %(n)d 之间。", n=MAX_PER_SLOT))
    return booking.resize_slot(slot_id, capacity, actor=actor, closed=closed)


# --- reading a visit ----------------------------------------------------------------------------------------


def get_visit(event_id: int) -> ScreeningVisit:
    visit = db.session.get(ScreeningVisit, event_id)
    if visit is None:
        raise NotFound()
    return visit


def visit_for(event: Event) -> ScreeningVisit | None:
    return db.session.get(ScreeningVisit, event.id) if event.kind == KIND else None


def managed_visit(actor: User, event_id: int) -> ScreeningVisit:
    """A visit the organizer manages; anything else (another organization's, not a visit) is NotFound."""
    visit = db.session.get(ScreeningVisit, event_id)
    if visit is None:
        raise NotFound()
    require_manages(actor, visit.event.organization)
    return visit


def list_visits(actor: User, *, upcoming: bool = True, limit: int = 50) -> list[ScreeningVisit]:
    """Visits of the organizations the actor manages: upcoming (soonest first) or past (latest first)."""
    today_start = datetime.combine(clock.today(), time())
    query = (
        select(ScreeningVisit)
        .join(Event, Event.id == ScreeningVisit.event_id)
        .join(Organization, Organization.id == Event.organization_id)
        .where(scope_condition(actor, Organization.path))
    )
    if upcoming:
        query = query.where(Event.ends_at >= today_start).order_by(Event.starts_at, Event.id)
    else:
        query = query.where(Event.ends_at < today_start).order_by(Event.starts_at.desc(), Event.id.desc())
    return list(db.session.scalars(query.limit(limit)).unique())


@dataclass
class GridRow:
    slot: Slot
    two_cancer: int
    attended: int
    two_cancer_cap: int | None

    @property
    def percent(self) -> int:
        return round(100 * self.slot.taken / self.slot.capacity) if self.slot.capacity else 100

    @property
    def two_cancer_full(self) -> bool:
        return self.two_cancer_cap is not None and self.two_cancer >= self.two_cancer_cap


def grid(visit: ScreeningVisit) -> list[GridRow]:
    """Each slot with its seats taken, two-cancer bookings and check-ins: the organizer's filling grid."""
    slots = list(visit.event.slots)
    ids = [slot.id for slot in slots]
    counts = two_cancer_counts(ids)
    attended = (
        dict(
            db.session.execute(
                select(Registration.slot_id, func.count())
                .where(Registration.slot_id.in_(ids), Registration.status == Status.ATTENDED)
                .group_by(Registration.slot_id)
            ).all()
        )
        if ids
        else {}
    )
    cap = visit.two_cancer_per_slot if visit.offers_two_cancer else 0
    return [GridRow(slot, counts.get(slot.id, 0), attended.get(slot.id, 0), cap) for slot in slots]


def roster(visit: ScreeningVisit, slot_id: int | None = None) -> list[tuple[Registration, ScreeningBooking | None]]:
    """Everyone booked (or who was booked and came or not) on this visit, by slot time then name; with
    ``slot_id``, only that time slot's people (a slot that is not this visit's shows the whole visit)."""
    query = (
        select(Registration, ScreeningBooking)
        .join(Slot, Slot.id == Registration.slot_id)
        .outerjoin(ScreeningBooking, ScreeningBooking.registration_id == Registration.id)
        .where(Registration.event_id == visit.event_id, Registration.status.in_(HOLDING | {Status.WAITLISTED}))
        .order_by(Slot.starts_at, Registration.id)
    )
    if slot_id in {slot.id for slot in visit.event.slots}:
        query = query.where(Registration.slot_id == slot_id)
    rows = db.session.execute(query).all()
    return [(registration, screening) for registration, screening in rows]
