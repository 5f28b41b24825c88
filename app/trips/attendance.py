"""After allocation: attendance details with their deadline (a place not confirmed in time passes to the
waitlist), the trip leader's roster and check-in. Functions flush but never commit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from .. import clock
from ..accounts.models import User
from ..booking import checkin as booking_checkin
from ..booking import queries as booking_queries
from ..booking.models import HOLDING, Registration, Status
from ..booking.window import require_checkin_open
from ..errors import DomainError, InvalidInput, NotFound
from ..events.models import Event
from ..extensions import db
from ..outbox import enqueue
from .catalogue import get_departure, get_managed_departure, slot_of
from .errors import DetailsDeadlinePassed
from .lottery_draw import withdraw
from .models import Dietary, TripAttendance, TripDeparture


def details_deadline(registration: Registration, departure: TripDeparture) -> datetime | None:
    """Confirmed people give attendance details within ``details_hours`` of confirmation, and at the latest a
    day before departure."""
    if registration.confirmed_at is None:
        return None
    return details_deadline_from(registration.confirmed_at, departure)


def details_deadline_from(confirmed_at: datetime, departure: TripDeparture) -> datetime:
    """The attendance-details deadline of a place confirmed at ``confirmed_at``: ``details_hours`` later, but no
    later than a day before departure."""
    return min(
        confirmed_at + timedelta(hours=departure.details_hours),
        departure.event.starts_at - timedelta(days=1),
    )


@dataclass
class DetailsData:
    emergency_name: str
    emergency_phone: str
    dietary: str = Dietary.NONE.value
    dietary_note: str = ""


PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def get_own_trip_registration(user: User, registration_id: int) -> tuple[Registration, TripDeparture]:
    registration = booking_queries.get_registration_for(user, registration_id)
    departure = db.session.get(TripDeparture, registration.event_id)
    if departure is None:
        raise NotFound()
    return registration, departure


def attendance_for(registration_id: int) -> TripAttendance | None:
    return db.session.get(TripAttendance, registration_id)


def submit_details(user: User, registration_id: int, data: DetailsData, now: datetime | None = None) -> TripAttendance:
    """A confirmed person confirms attendance details (an emergency contact with a valid phone number, dietary
    needs) before their deadline; they may correct them until then."""
    now = now or clock.now()
    registration, departure = get_own_trip_registration(user, registration_id)
    if registration.status != Status.CONFIRMED:
        raise DomainError(_("只有已确认名额的职工需要确认出行信息。"))
    deadline = details_deadline(registration, departure)
    if deadline is not None and now > deadline:
        raise DetailsDeadlinePassed()
    errors: dict[str, list[str]] = {}
    name = " ".join(data.emergency_name.split())
    phone = data.emergency_phone.strip()
    if not 1 <= len(name) <= 60:
        errors["emergency_name"] = [_("请填写紧急联系人姓名。")]
    if not PHONE_RE.match(phone):
        errors["emergency_phone"] = [_("请填写正确的紧急联系人电话。")]
    if data.dietary not in {d.value for d in Dietary}:
        errors["dietary"] = [_("请选择饮食需求。")]
    if len(data.dietary_note) > 200:
        errors["dietary_note"] = [_("备注不超过 200 个字。")]
    if errors:
        raise InvalidInput(_("请检查填写的内容。"), fields=errors)
    attendance = db.session.get(TripAttendance, registration.id) or TripAttendance(registration_id=registration.id)
    attendance.emergency_name = name
    attendance.emergency_phone = phone
    attendance.dietary = Dietary(data.dietary)
    attendance.dietary_note = data.dietary_note.strip()
    attendance.confirmed_at = now
    db.session.add(attendance)
    db.session.flush()
    return attendance


def expire_details(now: datetime) -> int:
    """Scheduler task: a confirmed person who has not confirmed attendance details by their deadline loses the
    place, which passes to the next on the waitlist (an offer). Returns how many places were released."""
    rows = db.session.execute(
        select(Registration.id, TripDeparture.event_id)
        .join(TripDeparture, TripDeparture.event_id == Registration.event_id)
        .join(Event, Event.id == Registration.event_id)
        .outerjoin(TripAttendance, TripAttendance.registration_id == Registration.id)
        .where(
            Registration.status == Status.CONFIRMED,
            TripAttendance.registration_id.is_(None),
            Event.starts_at > now,
            Event.cancelled_at.is_(None),
        )
        .order_by(Registration.slot_id, Registration.id)
    ).all()
    released = 0
    for registration_id, event_id in rows:
        departure = get_departure(event_id)
        registration = db.session.get(Registration, registration_id)
        if registration is None:
            continue
        deadline = details_deadline(registration, departure)
        if deadline is None or now < deadline:
            continue
        withdraw(registration, None, "attendance details not confirmed by the deadline")
        if registration.status == Status.CANCELLED and registration.user is not None:
            enqueue(
                registration.user,
                "trip_place_lost",
                f"trip-details:{registration.id}",
                template="trip_place_lost",
                data={
                    "event_id": event_id,
                    "event_title": departure.event.title,
                    "title": _("疗休养名额已释放：%(t)s", t=departure.event.title),
                    "body": _(
                        "您未在截止时间前确认出行信息，「%(t)s」的名额已让给候补职工。如有疑问请联系组织者。",
                        t=departure.event.title,
                    ),
                    "link": f"/events/{event_id}",
                },
                essential=True,
            )
            released += 1
    return released


@dataclass
class RosterRow:
    registration: Registration
    attendance: TripAttendance | None
    deadline: datetime | None


def roster(actor: User, event_id: int) -> tuple[TripDeparture, list[RosterRow], list[Registration]]:
    """The trip leader's roster: people holding a place with their attendance details, then the waitlist."""
    departure = get_managed_departure(actor, event_id)
    slot = slot_of(departure)
    holding = db.session.scalars(
        select(Registration)
        .join(User, User.id == Registration.user_id, isouter=True)
        .where(Registration.slot_id == slot.id, Registration.status.in_(list(HOLDING)))
        .order_by(User.name, Registration.id)
    ).all()
    details = {
        a.registration_id: a
        for a in db.session.scalars(
            select(TripAttendance).where(TripAttendance.registration_id.in_([r.id for r in holding] or [0]))
        )
    }
    rows = [RosterRow(r, details.get(r.id), details_deadline(r, departure)) for r in holding]
    waiting = db.session.scalars(
        select(Registration)
        .where(Registration.slot_id == slot.id, Registration.status == Status.WAITLISTED)
        .order_by(Registration.priority, Registration.waitlisted_at, Registration.id)
    ).all()
    return departure, rows, list(waiting)


def check_in_participant(actor: User, event_id: int, registration_id: int) -> bool:
    """The leader records attendance for someone on this departure's roster, only inside the check-in window
    (from a few hours before departure to the trip's end); a repeat is harmless."""
    departure = get_managed_departure(actor, event_id)
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != departure.event_id:
        raise NotFound()
    if registration.status in (Status.CONFIRMED, Status.NO_SHOW):  # the others are refused by the engine
        require_checkin_open(departure.event, clock.now())
    return booking_checkin.check_in(registration, actor=actor)
