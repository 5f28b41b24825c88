"""Screening sub-domain: moves — a person moving their own screening booking to another time slot of the same
visit (through the booking engine, which locks both slots).
"""

from __future__ import annotations

from ..accounts.models import User
from ..booking import moves as booking_moves
from ..booking import queries as booking_queries
from ..booking.models import Registration
from ..errors import NotFound
from .models import KIND


def move_booking(user: User, registration_id: int, to_slot_id: int) -> Registration:
    """A person moves their own confirmed screening booking to another time slot of the same visit in one step
    (the engine locks both slots; they never hold two or lose the first when the second is full; the package
    keeps its per-slot cap). Someone else's registration answers NotFound."""
    registration = booking_queries.get_registration_for(user, registration_id)
    if registration.event.kind != KIND:
        raise NotFound()
    # The engine announces the move: the person's reminders follow the new slot's start time.
    return booking_moves.move(registration, to_slot_id, actor=user)
