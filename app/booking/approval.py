"""Approval (booking engine): an organizer approves or rejects a pending request, or promotes someone from the
waitlist ahead of their turn. Functions flush but never commit."""

from __future__ import annotations

from ..accounts.models import User
from . import changes
from .errors import Full
from .models import Cause, Registration, Status
from .services import lock_for_change, waitlist_has_room


def approve(registration: Registration, *, actor: User) -> Status:
    """An organizer approves a pending request: it takes a seat if there is room, otherwise joins the waitlist
    when the slot has one, otherwise ``Full``."""
    slot = lock_for_change(registration, (Status.PENDING,))
    if slot.available_for(registration.gender) > 0:
        changes.transition(
            registration, Status.CONFIRMED, actor=actor, cause=Cause.APPROVED, reason="approved", slot=slot
        )
    elif waitlist_has_room(slot):
        changes.transition(
            registration, Status.WAITLISTED, actor=actor, cause=Cause.APPROVED, reason="approved, full", slot=slot
        )
    else:
        raise Full()
    return registration.status


def reject(registration: Registration, *, actor: User, reason: str) -> None:
    """An organizer rejects a pending or waitlisted request, with a reason the person will see."""
    slot = lock_for_change(registration, (Status.PENDING, Status.WAITLISTED))
    changes.transition(
        registration, Status.REJECTED, actor=actor, cause=Cause.REJECTED, reason=reason or "rejected", slot=slot
    )


def promote(registration: Registration, *, actor: User) -> None:
    """An organizer confirms someone from the waitlist ahead of their turn; only into a free seat."""
    slot = lock_for_change(registration, (Status.WAITLISTED,))
    if slot.available_for(registration.gender) <= 0:
        raise Full()
    changes.transition(registration, Status.CONFIRMED, actor=actor, cause=Cause.PROMOTED, reason="promoted", slot=slot)
