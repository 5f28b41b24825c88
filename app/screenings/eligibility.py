"""Who may book the two-cancer package (两癌筛查) of a visit, and the package's own per-slot cap.

Rules are evaluated on the visit date. Nothing here writes; ``ensure_two_cancer_room`` runs with the slot locked.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from .. import clock
from ..accounts.models import Gender, User
from ..booking.errors import Full
from ..booking.models import ACTIVE, HOLDING, Registration, Status
from ..errors import DomainError, InvalidInput
from ..events.models import Event, Slot
from ..extensions import db
from .models import Outcome, Package, ScreeningBooking, ScreeningVisit


class TwoCancerFull(Full):
    """The slot has seats left, but its two-cancer places are taken."""

    code = "two_cancer_full"

    def default_message(self) -> str:
        return _("该时段的“两癌”筛查名额已满，请选择其他时段，或只预约常规体检。")


class TwoCancerNotEligible(DomainError):
    code = "not_eligible"
    http_status = 422

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(_("您不能预约“两癌”筛查：%(reasons)s", reasons="；".join(reasons)), reasons=reasons)


def visit_date(event: Event) -> date:
    return event.starts_at.date()


def two_cancer_counts(slot_ids: list[int], exclude_registration_id: int | None = None) -> dict[int, int]:
    """Two-cancer bookings holding a seat, per slot."""
    if not slot_ids:
        return {}
    query = (
        select(Registration.slot_id, func.count())
        .join(ScreeningBooking, ScreeningBooking.registration_id == Registration.id)
        .where(
            Registration.slot_id.in_(slot_ids),
            Registration.status.in_(HOLDING),
            ScreeningBooking.two_cancer.is_(True),
        )
        .group_by(Registration.slot_id)
    )
    if exclude_registration_id is not None:
        query = query.where(Registration.id != exclude_registration_id)
    return {slot_id: count for slot_id, count in db.session.execute(query).all()}


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier; 29 February falls back to 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def last_two_cancer_screening(user_id: int, visit: ScreeningVisit) -> date | None:
    """The latest date, within the repeat interval before this visit, on which the person was given two-cancer
    screening: a booking with the package, attended, not marked "not screened", on another visit whose date d
    satisfies  visit date − N years < d ≤ visit date.  Screened exactly N years before the visit date is
    therefore allowed again (the same calendar day, 29 February counting as 28 February)."""
    day = visit_date(visit.event)
    earliest_blocking = years_before(day, visit.repeat_interval_years)
    screened_on = func.max(Event.starts_at)
    latest = db.session.scalar(
        select(screened_on)
        .select_from(ScreeningBooking)
        .join(Registration, Registration.id == ScreeningBooking.registration_id)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.user_id == user_id,
            Registration.event_id != visit.event_id,
            Registration.status == Status.ATTENDED,
            ScreeningBooking.two_cancer.is_(True),
            or_(ScreeningBooking.outcome.is_(None), ScreeningBooking.outcome == Outcome.SCREENED.value),
            Event.starts_at >= datetime.combine(earliest_blocking + timedelta(days=1), time()),
            Event.starts_at < datetime.combine(day + timedelta(days=1), time()),
        )
    )
    return latest.date() if latest is not None else None


def other_pending_two_cancer(user_id: int, visit: ScreeningVisit) -> date | None:
    """The date of another visit where the person already holds an active two-cancer booking within the repeat
    interval (either side of this visit): booking two at once would give one person two places."""
    day = visit_date(visit.event)
    years = visit.repeat_interval_years
    found = db.session.scalar(
        select(func.min(Event.starts_at))
        .select_from(ScreeningBooking)
        .join(Registration, Registration.id == ScreeningBooking.registration_id)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.user_id == user_id,
            Registration.event_id != visit.event_id,
            Registration.status.in_(ACTIVE - {Status.ATTENDED, Status.NO_SHOW}),
            ScreeningBooking.two_cancer.is_(True),
            Event.starts_at > datetime.combine(years_before(day, years), time()),
            Event.starts_at < datetime.combine(_years_after(day, years), time()),
        )
    )
    return found.date() if found is not None else None


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def two_cancer_reasons(user: User, visit: ScreeningVisit) -> list[str]:
    """Why ``user`` cannot book the two-cancer package on this visit (empty when they can). Evaluated on the
    visit date: a woman aged between the visit's minimum and maximum age on that day (both inclusive: she may
    book on the day she turns the minimum age, and no longer once she has turned maximum + 1), who was not
    given two-cancer screening within the repeat interval (see ``last_two_cancer_screening``) and holds no
    other active two-cancer booking within it."""
    if not visit.offers_two_cancer:
        return [_("本次体检不提供“两癌”筛查。")]
    profile = user.profile
    if profile is None:
        return [_("请先完善个人资料（性别、出生日期、单位等）。")]
    if profile.gender != Gender.FEMALE:
        return [_("“两癌”筛查（宫颈癌、乳腺癌）仅面向女职工。")]
    day = visit_date(visit.event)
    age = clock.age_on(profile.birth_date, day)
    reasons: list[str] = []
    low, high = visit.two_cancer_min_age, visit.two_cancer_max_age
    if not low <= age <= high:
        reasons.append(
            _(
                "体检当天您 %(age)d 岁，“两癌”筛查面向 %(min)d–%(max)d 岁的女职工。",
                age=age,
                min=low,
                max=high,
            )
        )
    last = last_two_cancer_screening(user.id, visit)
    if last is not None:
        again = _years_after(last, visit.repeat_interval_years)
        reasons.append(
            _(
                "您已于 %(date)s 参加过“两癌”筛查，%(n)d 年内不再重复安排（%(again)s 起可再次预约）。",
                date=last.isoformat(),
                n=visit.repeat_interval_years,
                again=again.isoformat(),
            )
        )
    pending = other_pending_two_cancer(user.id, visit)
    if pending is not None:
        reasons.append(_("您已预约 %(date)s 的“两癌”筛查。", date=pending.isoformat()))
    return reasons


def parse_package(options: dict[str, Any] | None) -> Package:
    """The package chosen in a booking's options; only "general" or "two_cancer" are accepted."""
    raw = (options or {}).get("package") or Package.GENERAL.value
    try:
        return Package(str(raw))
    except ValueError:
        raise InvalidInput(_("请选择有效的体检项目。")) from None


def check_package(user: User, slot: Slot, options: dict[str, Any] | None) -> dict[str, Any]:
    """Validate a booking's package choice and keep only it (nothing else a client sends is stored): the
    two-cancer package needs the person to be eligible on the visit date (``two_cancer_reasons``)."""
    package = parse_package(options)
    if package == Package.TWO_CANCER:
        visit = db.session.get(ScreeningVisit, slot.event_id)
        if visit is None:
            raise TwoCancerNotEligible([_("本次体检不提供“两癌”筛查。")])
        reasons = two_cancer_reasons(user, visit)
        if reasons:
            raise TwoCancerNotEligible(reasons)
    return {"package": package.value}


def ensure_two_cancer_room(registration: Registration, slot: Slot) -> None:
    """With the slot locked (the engine calls this before a seat is taken or moved in): a two-cancer booking
    needs a two-cancer place left in the slot when the visit caps the package per slot, else TwoCancerFull."""
    if parse_package(registration.options) != Package.TWO_CANCER:
        return
    visit = db.session.get(ScreeningVisit, slot.event_id)
    if visit is None or visit.two_cancer_per_slot is None:
        return
    taken = two_cancer_counts([slot.id], exclude_registration_id=registration.id).get(slot.id, 0)
    if taken >= visit.two_cancer_per_slot:
        raise TwoCancerFull()
