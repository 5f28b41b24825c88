"""The registration state machine: every status change goes through ``transition``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from blinker import signal
from sqlalchemy import insert, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import clock
from ..accounts.models import Gender, User
from ..events.models import Slot
from ..extensions import db
from .errors import IllegalTransition
from .models import ACTIVE, HOLDING, Registration, RegistrationHistory, Status

# Sent after every transition, inside the same transaction: receivers (notifications' outbox, audit, kind
# features) write their rows in the same session so they commit or roll back with the change.
registration_changed = signal("registration-changed")

ALLOWED: dict[Status | None, frozenset[Status]] = {
    None: frozenset({Status.PENDING, Status.CONFIRMED, Status.WAITLISTED}),
    Status.PENDING: frozenset({Status.CONFIRMED, Status.WAITLISTED, Status.REJECTED, Status.CANCELLED, Status.OFFERED}),
    Status.WAITLISTED: frozenset({Status.OFFERED, Status.CONFIRMED, Status.CANCELLED, Status.EXPIRED, Status.REJECTED}),
    Status.OFFERED: frozenset({Status.CONFIRMED, Status.EXPIRED, Status.CANCELLED}),
    Status.CONFIRMED: frozenset({Status.CANCELLED, Status.ATTENDED, Status.NO_SHOW}),
    Status.ATTENDED: frozenset({Status.CONFIRMED, Status.NO_SHOW}),  # undo a mistaken check-in
    Status.NO_SHOW: frozenset({Status.ATTENDED, Status.CONFIRMED}),
    Status.CANCELLED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.EXPIRED: frozenset(),
}


def _adjust_counters(slot: Slot, gender: Gender | None, delta: int) -> None:
    slot.taken += delta
    if gender == Gender.FEMALE:
        slot.taken_female += delta
    elif gender == Gender.MALE:
        slot.taken_male += delta


def transition(
    registration: Registration,
    to: Status,
    *,
    actor: User | None,
    reason: str = "",
    slot: Slot | None = None,
) -> None:
    """Move ``registration`` to ``to`` if the state machine allows it, keep the slot's seat counters in step
    (the caller holds the slot's lock), and append a history row. Refuses illegal moves with IllegalTransition.
    A new registration (no status yet) is inserted by this call."""
    current = registration.status  # None for a registration not yet inserted
    if to not in ALLOWED[current]:
        raise IllegalTransition()
    slot = slot or registration.slot
    was_holding = current in HOLDING
    holds = to in HOLDING
    if holds and not was_holding:
        _adjust_counters(slot, registration.gender, +1)
    elif was_holding and not holds:
        _adjust_counters(slot, registration.gender, -1)
    now = clock.now()
    registration.status = to
    registration.is_active = to in ACTIVE
    if to == Status.WAITLISTED:
        registration.waitlisted_at = registration.waitlisted_at or now
    if to == Status.CONFIRMED and registration.confirmed_at is None:
        registration.confirmed_at = now
    if to != Status.OFFERED:
        registration.offer_expires_at = None
    if to == Status.ATTENDED:
        registration.checked_in_at = now
    elif current == Status.ATTENDED:
        registration.checked_in_at = None
    if registration.id is None:
        db.session.add(registration)
        db.session.flush()
    # Added by id, not through ``registration.history``, so the collection is not loaded on every change.
    db.session.add(
        RegistrationHistory(
            registration_id=registration.id,
            from_status=current,
            to_status=to,
            actor_id=actor.id if actor is not None else None,
            reason=reason[:200],
            at=now,
        )
    )
    registration_changed.send(registration, from_status=current, to_status=to, actor=actor, reason=reason)


def transition_many(
    registrations: Sequence[Registration],
    to: Status,
    *,
    actor: User | None,
    reason: str,
    slot: Slot,
    values: Sequence[dict[str, Any]] | None = None,
) -> None:
    """``transition`` for many registrations of one slot at once (a lottery waitlisting thousands): the same
    allowed moves, counters, history rows and signals, written with one bulk UPDATE and one bulk INSERT instead
    of one unit of work per row. ``values`` (one dict per registration) adds other columns to the same UPDATE,
    e.g. the waitlist priority. The caller holds the slot's lock; every registration must already be stored."""
    if not registrations:
        return
    extra = list(values) if values is not None else [{} for _ in registrations]
    for registration in registrations:
        if to not in ALLOWED[registration.status]:
            raise IllegalTransition()
    db.session.flush()  # earlier pending changes first: the bulk statements below bypass the unit of work
    now = clock.now()
    previous = [registration.status for registration in registrations]
    rows, history = [], []
    for registration, current, more in zip(registrations, previous, extra, strict=True):
        was_holding, holds = current in HOLDING, to in HOLDING
        if holds and not was_holding:
            _adjust_counters(slot, registration.gender, +1)
        elif was_holding and not holds:
            _adjust_counters(slot, registration.gender, -1)
        changed = {
            "status": to,
            "is_active": to in ACTIVE,
            "waitlisted_at": registration.waitlisted_at or (now if to == Status.WAITLISTED else None),
            "confirmed_at": registration.confirmed_at or (now if to == Status.CONFIRMED else None),
            "offer_expires_at": registration.offer_expires_at if to == Status.OFFERED else None,
            **more,
        }
        rows.append({"id": registration.id, **changed})
        history.append(
            {
                "registration_id": registration.id,
                "from_status": current,
                "to_status": to,
                "actor_id": actor.id if actor is not None else None,
                "reason": reason[:200],
                "at": now,
            }
        )
        for key, value in changed.items():
            set_committed_value(registration, key, value)  # the session sees what the database now holds
    db.session.execute(update(Registration), rows)
    db.session.execute(insert(RegistrationHistory), history)
    for registration, current in zip(registrations, previous, strict=True):
        registration_changed.send(registration, from_status=current, to_status=to, actor=actor, reason=reason)
