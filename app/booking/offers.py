"""Offers from the waitlist (booking engine): a freed seat offered with a deadline is accepted, declined, or
expires and passes to the next person. Filling the waitlist itself is ``services.fill_from_waitlist``, which
every release of a seat runs. Functions flush but never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from .. import clock
from ..accounts.models import User
from ..extensions import db
from . import changes
from .errors import OfferExpired
from .models import Cause, Registration, Status
from .services import lock_for_change, lock_slot, release_seat


def accept_offer(registration: Registration, *, actor: User) -> None:
    """An offer is accepted before its deadline; a late acceptance expires it, passes it on and says so."""
    slot = lock_for_change(registration, (Status.OFFERED,))
    if registration.offer_expires_at is not None and registration.offer_expires_at <= clock.now():
        release_seat(registration, slot, Status.EXPIRED, None, Cause.OFFER_EXPIRED, "offer expired")
        raise OfferExpired()
    changes.transition(
        registration, Status.CONFIRMED, actor=actor, cause=Cause.OFFER_ACCEPTED, reason="offer accepted", slot=slot
    )


def decline_offer(registration: Registration, *, actor: User) -> None:
    """Declining an offer cancels the registration and offers the seat to the next person."""
    slot = lock_for_change(registration, (Status.OFFERED,))
    release_seat(registration, slot, Status.CANCELLED, actor, Cause.OFFER_DECLINED, "offer declined")


def expire_offers(now: datetime | None = None) -> int:
    """Expire every offer whose deadline has passed and pass each seat on. Returns how many expired."""
    now = now or clock.now()
    due = db.session.execute(
        select(Registration.id, Registration.slot_id)
        .where(Registration.status == Status.OFFERED, Registration.offer_expires_at <= now)
        .order_by(Registration.slot_id, Registration.id)
    ).all()
    expired = 0
    for registration_id, slot_id in due:
        slot = lock_slot(slot_id)
        registration = db.session.get(Registration, registration_id, populate_existing=True)
        if registration is None or registration.status != Status.OFFERED:
            continue
        if registration.offer_expires_at is None or registration.offer_expires_at > now:
            continue
        release_seat(registration, slot, Status.EXPIRED, None, Cause.OFFER_EXPIRED, "offer expired")
        expired += 1
    return expired
