"""What 我的预约 shows (issue 21, items 2, 3 and 4): every booking as a dated card — date, time and place,
whatever its kind — with its state in the one vocabulary and the one action that applies now; upcoming bookings
apart from past ones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _

from .. import clock
from ..booking.models import Registration, Status
from .kinds import policy_for
from .pages import cancel_rule
from .vocabulary import registration_label, registration_state


@dataclass
class BookingCard:
    registration: Registration
    state: str
    label: str
    day: datetime
    time: str  # "08:45–09:00"; several days: "08:00 – 06-03 18:00"
    place: str
    ticket: bool  # a QR ticket and a calendar entry exist
    offer: bool  # a waitlist offer waits for an answer
    can_move: bool
    can_cancel: bool
    why: str = ""  # why no action applies, and whom to ask


@dataclass
class MyBookings:
    upcoming: list[BookingCard] = field(default_factory=list)
    past: list[BookingCard] = field(default_factory=list)


def _time_range(starts: datetime, ends: datetime) -> str:
    if starts.date() == ends.date():
        return f"{starts:%H:%M}–{ends:%H:%M}"
    return f"{starts:%H:%M} – {ends:%m-%d %H:%M}"


def _why_nothing(registration: Registration, cancel_why: str) -> str:
    if cancel_why:
        return cancel_why
    if registration.status == Status.PENDING:
        return _("结果公布后会通知您。")
    return ""


def booking_card(registration: Registration, now: datetime) -> BookingCard:
    """One booking's card: its slot's date, time and place, its state, and what the person can do now —
    see the ticket (a held or offered seat), answer an offer, move to another time (kinds that allow it, before
    the start), cancel (``pages.cancel_rule``), or why none applies and whom to ask."""
    slot = registration.slot
    event = slot.event
    can_cancel, cancel_why = cancel_rule(registration, now)
    upcoming = registration.is_active and slot.ends_at > now
    can_move = (
        upcoming
        and registration.status == Status.CONFIRMED
        and policy_for(event.kind).self_service_move
        and slot.starts_at > now
        and len(event.slots) > 1
    )
    place = event.city.name + (f" · {event.venue}" if event.venue else "")
    return BookingCard(
        registration=registration,
        state=registration_state(registration),
        label=registration_label(registration),
        day=slot.starts_at,
        time=_time_range(slot.starts_at, slot.ends_at),
        place=place,
        ticket=upcoming and registration.status in (Status.CONFIRMED, Status.OFFERED),
        offer=registration.status == Status.OFFERED,
        can_move=can_move,
        can_cancel=can_cancel and registration.status != Status.OFFERED,
        why=_why_nothing(registration, cancel_why) if upcoming else "",
    )


def my_bookings(registrations: Iterable[Registration]) -> MyBookings:
    """A person's bookings split into upcoming (live, not yet ended: soonest first) and past (ended, cancelled,
    expired or refused: latest first)."""
    now = clock.now()
    result = MyBookings()
    for registration in registrations:
        card = booking_card(registration, now)
        if registration.is_active and registration.slot.ends_at > now:
            result.upcoming.append(card)
        else:
            result.past.append(card)
    result.upcoming.sort(key=lambda c: (c.registration.slot.starts_at, c.registration.id))
    result.past.sort(key=lambda c: (c.registration.slot.starts_at, c.registration.id), reverse=True)
    return result
