"""The signed-in employee's home page (issue 21, item 9): the next booking with its QR code, the waitlist offers
waiting for an answer, and the services as tiles. Unread messages come from the features' navigation badges."""

from __future__ import annotations

from dataclasses import dataclass, field

import segno
from markupsafe import Markup

from .. import clock
from ..accounts.models import User
from ..booking.models import Status
from ..booking.queries import my_registrations
from .my_bookings import BookingCard, my_bookings


@dataclass
class EmployeeHome:
    next_booking: BookingCard | None
    qr: Markup | None
    offers: list[BookingCard] = field(default_factory=list)
    waiting: int = 0  # applications and waitlist places still open


def ticket_qr(code: str) -> Markup:
    """The ticket's QR code as inline SVG (segno writes it from the code alone)."""
    svg = segno.make(code, error="m").svg_inline(scale=5, dark="#111", light="#fff")
    return Markup(svg)  # noqa: S704 - segno's own SVG for a server-made ticket code


def employee_home(user: User) -> EmployeeHome:
    """What the home page shows a signed-in person: their soonest booking that holds a seat (with the QR to
    show at the door), every waitlist offer they must answer, and how many applications or waitlist places are
    still pending."""
    groups = my_bookings(my_registrations(user))
    now = clock.now()
    holding = [
        c for c in groups.upcoming if c.registration.status == Status.CONFIRMED and c.registration.slot.ends_at > now
    ]
    offers = [c for c in groups.upcoming if c.offer]
    waiting = sum(1 for c in groups.upcoming if c.registration.status in (Status.PENDING, Status.WAITLISTED))
    next_booking = holding[0] if holding else None
    qr = ticket_qr(next_booking.registration.ticket_code) if next_booking is not None else None
    return EmployeeHome(next_booking=next_booking, qr=qr, offers=offers, waiting=waiting)
