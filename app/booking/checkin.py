"""Check-in (booking engine): a confirmed person attends, a mistaken check-in is undone, and once the event
has started everyone confirmed but not checked in becomes a no-show. Functions flush but never commit."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from .. import clock
from ..accounts.models import User
from ..errors import DomainError
from ..events.models import Event
from ..extensions import db
from . import changes
from .models import Cause, Registration, Status
from .services import lock_for_change, lock_slot


def check_in(registration: Registration, *, actor: User) -> bool:
    """Mark a confirmed person as attended. Returns False (and changes nothing) when already checked in, so a
    repeated scan is harmless."""
    slot = lock_for_change(registration, (Status.CONFIRMED, Status.NO_SHOW, Status.ATTENDED))
    if registration.status == Status.ATTENDED:
        return False  # a repeated scan
    changes.transition(
        registration, Status.ATTENDED, actor=actor, cause=Cause.CHECKED_IN, reason="checked in", slot=slot
    )
    return True


def undo_check_in(registration: Registration, *, actor: User) -> None:
    """Undo a mistaken check-in: back to confirmed."""
    slot = lock_for_change(registration, (Status.ATTENDED,))
    changes.transition(
        registration, Status.CONFIRMED, actor=actor, cause=Cause.CHECK_IN_UNDONE, reason="check-in undone", slot=slot
    )


def mark_no_shows(event: Event, *, actor: User) -> int:
    """After the event has started, every confirmed person not checked in becomes a no-show."""
    if clock.now() < event.starts_at:
        raise DomainError(_("活动开始后才能标记未到场。"))
    count = 0
    for slot in event.slots:
        locked = lock_slot(slot.id)
        for registration in db.session.scalars(
            select(Registration).where(Registration.slot_id == slot.id, Registration.status == Status.CONFIRMED)
        ).all():
            changes.transition(
                registration, Status.NO_SHOW, actor=actor, cause=Cause.NO_SHOW, reason="no-show", slot=locked
            )
            count += 1
    return count
