"""What the booking pages and the API read (booking engine): a person's own registrations, waitlist places,
each slot's availability, the registrations a withdrawn consent or a deleted account would cancel. Nothing
here writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from .. import clock
from ..accounts.models import User
from ..errors import NotFound
from ..events.models import Event, Slot
from ..extensions import db
from .models import Registration, Status


def get_registration_for(user: User, registration_id: int) -> Registration:
    """A person's own registration; anyone else's answers NotFound (never Forbidden, to avoid enumeration)."""
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.user_id != user.id:
        raise NotFound()
    return registration


def waitlist_position(registration: Registration) -> int | None:
    """1-based place in the slot's waitlist order (priority, then time of joining)."""
    if registration.status != Status.WAITLISTED or registration.waitlisted_at is None:
        return None
    return waitlist_place(registration.slot_id, registration.priority, registration.waitlisted_at, registration.id)


def waitlist_place(slot_id: int, priority: int, waitlisted_at: datetime, registration_id: int) -> int:
    """The waitlist place of the registration with these sort keys: 1 + everyone waiting ahead of it."""
    ahead = db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.slot_id == slot_id,
            Registration.status == Status.WAITLISTED,
            or_(
                Registration.priority < priority,
                and_(
                    Registration.priority == priority,
                    or_(
                        Registration.waitlisted_at < waitlisted_at,
                        and_(Registration.waitlisted_at == waitlisted_at, Registration.id < registration_id),
                    ),
                ),
            ),
        )
    )
    return (ahead or 0) + 1


def my_registrations(user: User) -> list[Registration]:
    """Every registration of the person, newest first (their own page and the API's list)."""
    return list(
        db.session.scalars(
            select(Registration).where(Registration.user_id == user.id).order_by(Registration.created_at.desc())
        )
    )


def waitlist_counts(slot_ids: Sequence[int]) -> dict[int, int]:
    """How many wait in each of these slots (slots nobody waits in are left out)."""
    if not slot_ids:
        return {}
    rows = db.session.execute(
        select(Registration.slot_id, func.count())
        .where(Registration.slot_id.in_(slot_ids), Registration.status == Status.WAITLISTED)
        .group_by(Registration.slot_id)
    ).all()
    return {slot_id: count for slot_id, count in rows}


@dataclass
class SlotAvailability:
    """A slot with its counts, as the API shows it: seats left, confirmed, waiting."""

    slot: Slot
    waitlisted: int

    @property
    def available(self) -> int:
        return self.slot.available

    @property
    def confirmed(self) -> int:
        return self.slot.taken


def availability(event: Event) -> list[SlotAvailability]:
    """Each slot of the event with its seats left, confirmed and waiting."""
    counts = waitlist_counts([slot.id for slot in event.slots])
    return [SlotAvailability(slot, counts.get(slot.id, 0)) for slot in event.slots]


def upcoming_registrations(user: User) -> list[Registration]:
    """The person's registrations that still hold or seek a place at an event that has not started (what a
    withdrawn consent or a deleted account cancels), soonest first."""
    return list(
        db.session.scalars(
            select(Registration)
            .join(Event, Event.id == Registration.event_id)
            .where(
                Registration.user_id == user.id,
                Registration.is_active.is_(True),
                Registration.status.notin_([Status.ATTENDED, Status.NO_SHOW]),
                Event.starts_at > clock.now(),
            )
            .order_by(Event.starts_at, Registration.id)
        )
    )
