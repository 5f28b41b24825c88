"""Builders for screening tests: a visit planned through the service, bookings through the engine."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from app import clock
from app.accounts.consents import HEALTH_SCREENING
from app.accounts.models import User
from app.booking import services as booking
from app.booking.models import Registration
from app.events.models import Event, Slot
from app.extensions import db
from app.screenings import visits
from app.screenings.models import ScreeningVisit

from .. import factories

VISIT_DAY = date(2026, 6, 15)  # a Monday


def plan(
    *,
    day: date = VISIT_DAY,
    start: time = time(8, 30),
    end: time = time(16, 30),
    interval: int = 15,
    per_slot: int = 6,
    organizer: User | None = None,
    org_code: str = "jx-nanchang",
    site_name: str = "南昌高新区航空城",
    city_code: str = "nanchang",
    **kwargs: Any,
) -> Event:
    """Plan a visit on ``day``. When ``day`` is not in the future the clock is frozen a week before it."""
    if clock.now().date() >= day:
        clock.set_now(datetime.combine(day - timedelta(days=7), time(9, 0)))
    actor = organizer or factories.make_admin()
    event = visits.plan_visit(
        actor,
        visits.VisitData(
            title=kwargs.pop("title", ""),
            organization=factories.org(org_code),
            city=factories.city(city_code),
            site_name=site_name,
            day=day,
            start=start,
            end=end,
            interval_minutes=interval,
            per_slot=per_slot,
            **kwargs,
        ),
    )
    db.session.commit()
    return event


def slot_at(event: Event, hhmm: str) -> Slot:
    for slot in event.slots:
        if slot.starts_at.strftime("%H:%M") == hhmm:
            return slot
    raise AssertionError(hhmm)


def visit(event: Event) -> ScreeningVisit:
    found = db.session.get(ScreeningVisit, event.id)
    assert found is not None
    return found


def woman(age: int, day: date = VISIT_DAY, **kw: Any) -> User:
    """A woman who is ``age`` on ``day`` (birthday well before it)."""
    return factories.make_employee(gender="female", birth_date=date(day.year - age, 1, 10), **kw)


def man(age: int = 40, day: date = VISIT_DAY, **kw: Any) -> User:
    return factories.make_employee(gender="male", birth_date=date(day.year - age, 1, 10), **kw)


def book(user: User, slot: Slot, package: str = "general", **kw: Any) -> Registration:
    registration = booking.book(user, slot.id, consents=[HEALTH_SCREENING], options={"package": package}, **kw)
    db.session.commit()
    return registration
