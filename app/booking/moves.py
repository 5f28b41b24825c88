"""Moves (booking engine): a confirmed registration changes to another slot of the same event in one step.
Functions flush but never commit."""

from __future__ import annotations

from sqlalchemy import select

from ..accounts.models import User
from ..errors import NotFound
from ..extensions import db
from . import changes
from .errors import AlreadyRegistered, Full, IllegalTransition
from .models import Registration, Status
from .services import check_event_open, fill_from_waitlist, lock_slots


def move(registration: Registration, to_slot_id: int, *, actor: User, by_organizer: bool = False) -> Registration:
    """Move a confirmed registration to another slot of the same event in one step: both slots are locked (in id
    order), the new slot must be open (its sign-up window too, unless an organizer moves the person) and have
    room for the person's gender, then the seat changes hands (``changes.move``: one write, announced once, so
    the person's reminders follow the new time whoever moved them). Nobody ever holds two seats or loses the
    first when the second is full; a freed seat moves the source slot's waitlist."""
    if registration.slot_id == to_slot_id:
        return registration
    slots = {slot.id: slot for slot in lock_slots([registration.slot_id, to_slot_id])}
    db.session.refresh(registration)
    source, target = slots[registration.slot_id], slots[to_slot_id]
    if target.event_id != source.event_id:
        raise NotFound()
    if registration.status != Status.CONFIRMED:
        raise IllegalTransition()
    check_event_open(target.event, target, enforce_window=not by_organizer)
    if _active_in_slot(registration.user_id, target.id):
        raise AlreadyRegistered()
    if target.available_for(registration.gender) <= 0:
        raise Full()
    changes.move(registration, source, target, actor=actor)
    fill_from_waitlist(source, actor)
    return registration


def _active_in_slot(user_id: int | None, slot_id: int) -> bool:
    """The person already has an active registration in the slot."""
    return (
        db.session.scalar(
            select(Registration.id).where(
                Registration.user_id == user_id, Registration.slot_id == slot_id, Registration.is_active.is_(True)
            )
        )
        is not None
    )
