"""Builders for organizer tests."""

from __future__ import annotations

from app.accounts.models import User
from app.booking import services as booking
from app.booking.models import Registration
from app.events.models import Slot
from app.extensions import db


def book(user: User, slot: Slot, **kwargs: object) -> Registration:
    registration = booking.book(user, slot.id, **kwargs)  # type: ignore[arg-type]
    db.session.commit()
    return registration
