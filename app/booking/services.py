"""The booking engine shared by every service kind (DESIGN.md §4–5): locking slots, booking, cancelling (and
what a withdrawn consent cancels), passing a freed seat to the waitlist, resizing a slot. The engine's other
rooms build on these: ``offers`` (accepting, declining, expiring an offer), ``approval`` (approve, reject,
promote), ``checkin`` (check-in, no-shows), ``moves`` (another slot of the same event) and ``queries`` (what
pages and the API read).

Each service reads top to bottom the same way: lock the slot (``lock_slot``; several in id order), read what it
needs, ask the kind's policy, then make the change through ``booking.changes`` — which plans it
(``states.plan``), writes it once (``booking.store``) and announces it once. Functions flush but never commit:
the caller (a view, the API, the CLI, the scheduler) commits once.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict, Unpack

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import contains_eager

from .. import clock
from ..accounts import services as accounts
from ..accounts.models import User
from ..accounts.services import ConsentRequired
from ..database import locks_may_time_out
from ..errors import DomainError, NotFound
from ..events.kinds import policy_for
from ..events.models import Allocation, Event, Slot, WaitlistPolicy
from ..extensions import db
from ..signals import consent_withdrawn
from . import changes
from .errors import (
    AlreadyRegistered,
    CancelDeadlinePassed,
    EventUnavailable,
    Full,
    IllegalTransition,
    NotEligible,
    WindowClosed,
)
from .models import ACTIVE, Cause, Registration, Status
from .queries import upcoming_registrations
from .store import NewRegistration


def new_ticket_code() -> str:
    """128 random bits, URL-safe: a ticket code cannot be guessed or enumerated."""
    return secrets.token_urlsafe(16)


# The slot with its event, in one statement; the slot's row only is locked (PostgreSQL ``FOR UPDATE OF``).
_SLOT = select(Slot).join(Slot.event).options(contains_eager(Slot.event)).where(Slot.id == bindparam("slot_id"))
_SLOT_FOR_UPDATE = _SLOT.with_for_update(of=Slot)


def lock_slot(slot_id: int) -> Slot:
    """Load the slot with its row locked for the rest of the transaction (PostgreSQL ``FOR UPDATE``; on SQLite
    the transaction's ``BEGIN IMMEDIATE`` already serialises writers), with fresh values replacing any stale
    copy: every change of seats reads the counters under this lock. A lock not obtained within the lock timeout
    raises ``Busy`` (retry shortly)."""
    statement = _SLOT_FOR_UPDATE if current_app.config["BOOKING_LOCKING"] else _SLOT
    with locks_may_time_out():
        slot = db.session.scalars(
            statement, {"slot_id": slot_id}, execution_options={"populate_existing": True}
        ).first()
    if slot is None:
        raise NotFound()
    return slot


def lock_slots(slot_ids: Iterable[int]) -> list[Slot]:
    """Lock several slots in ascending id order, the one order every caller uses, so two movers never deadlock."""
    return [lock_slot(slot_id) for slot_id in sorted(set(slot_ids))]


def lock_for_change(registration: Registration, allowed: Collection[Status]) -> Slot:
    """Lock the registration's slot, read the registration afresh under that lock, and refuse the change
    (``IllegalTransition``) unless its status is one of ``allowed``: every change of one registration starts
    here, so it decides on the status it will change."""
    slot = lock_slot(registration.slot_id)
    db.session.refresh(registration)
    if registration.status not in allowed:
        raise IllegalTransition()
    return slot


def check_event_open(event: Event, slot: Slot, *, enforce_window: bool) -> None:
    if not event.published:
        raise NotFound()  # an unpublished event is invisible: the same answer as an id that does not exist
    if event.is_cancelled or slot.closed:
        raise EventUnavailable()
    if enforce_window:
        opens, closes = slot.window()
        if not opens <= clock.now() < closes:
            raise WindowClosed()


def eligibility_reasons(user: User, event: Event, slot: Slot | None = None) -> list[str]:
    """Why ``user`` cannot book ``event`` (empty list when eligible), as the event's kind policy decides."""
    return policy_for(event.kind).eligibility_reasons(user, event, slot)


def _record_consents(user: User, required: Sequence[str], given: Iterable[str]) -> None:
    """Every consent the kind requires is given with this request or stands already (granted to the current
    notice and not withdrawn): a standing consent counts, for the pages and the API alike (issue 21, item 5)."""
    given_set = set(given)
    missing = [
        purpose for purpose in required if purpose not in given_set and not accounts.has_consent(user.id, purpose)
    ]
    if missing:
        raise ConsentRequired(purposes=missing)
    for purpose in required:
        accounts.grant_consent(user, purpose)


_registrations = Registration.__table__.c
_ACTIVE_IN_SLOT = (
    select(_registrations.id)
    .where(
        _registrations.user_id == bindparam("user_id"),
        _registrations.is_active.is_(True),
        _registrations.slot_id == bindparam("slot_id"),
    )
    .limit(1)
)
_ACTIVE_IN_SLOT_OR_EVENT = (
    select(_registrations.id)
    .where(
        _registrations.user_id == bindparam("user_id"),
        _registrations.is_active.is_(True),
        or_(
            _registrations.slot_id == bindparam("slot_id"),
            and_(_registrations.event_id == bindparam("event_id"), _registrations.single_per_event.is_(True)),
        ),
    )
    .limit(1)
)


def _has_active_registration(user_id: int, slot: Slot) -> bool:
    statement = _ACTIVE_IN_SLOT if slot.event.allow_multiple_slots else _ACTIVE_IN_SLOT_OR_EVENT
    params = {"user_id": user_id, "slot_id": slot.id, "event_id": slot.event_id}
    return db.session.connection().execute(statement, params).first() is not None


_WAITLIST_AHEAD = (
    select(func.count())
    .select_from(Registration.__table__)
    .where(
        _registrations.slot_id == bindparam("slot_id"),
        _registrations.status == Status.WAITLISTED,
        _registrations.priority <= bindparam("priority"),
    )
)


def _waitlist_ahead(slot: Slot, priority: int) -> int:
    """How many wait ahead of a newcomer with ``priority``: everyone waiting with the same or a better priority
    (they joined earlier)."""
    ahead = db.session.connection().execute(_WAITLIST_AHEAD, {"slot_id": slot.id, "priority": priority}).scalar()
    return ahead or 0


def waitlist_has_room(slot: Slot) -> bool:
    """A slot's waitlist takes one more person: it has one, and it is not at its limit."""
    if slot.waitlist_policy == WaitlistPolicy.NONE:
        return False
    return slot.max_waitlist is None or slot.waitlisted < slot.max_waitlist


def _offer_deadline(slot: Slot) -> datetime:
    return clock.now() + timedelta(hours=slot.offer_hours)


@dataclass(frozen=True)
class BookingResult:
    """What a booking answers: the new registration's id and status, its place in the waitlist when it joined
    one (None otherwise; the place changes as others leave), and the stored registration for in-process
    callers."""

    id: int
    status: Status
    waitlist_place: int | None
    registration: Registration


def place_booking(
    user: User,
    slot_id: int,
    *,
    consents: Iterable[str] = (),
    options: dict[str, Any] | None = None,
    actor: User | None = None,
    enforce_window: bool = True,
) -> BookingResult:
    """Register ``user`` for a slot. Rules, in order: the event is published, not cancelled and (for
    employees) inside its sign-up window; the person is eligible; every consent the kind requires was given
    with this request or stands already; they have no active registration for this slot (or this event, unless it allows
    several); then a seat is taken if the slot and their gender's quota have room (first-come), the request
    waits for approval or the draw (approval / lottery), or joins the waitlist (the result gives the place);
    otherwise ``Full``."""
    slot = lock_slot(slot_id)
    event = slot.event
    check_event_open(event, slot, enforce_window=enforce_window)
    policy = policy_for(event.kind)
    reasons = policy.eligibility_reasons(user, event, slot)
    if reasons:
        raise NotEligible(reasons)
    options = policy.validate_options(user, slot, options)
    _record_consents(user, policy.required_consents(event, options), consents)
    profile = user.profile
    gender = profile.gender if profile else None
    priority = policy.waitlist_priority(user, slot)
    first_come = slot.allocation not in (Allocation.APPROVAL, Allocation.LOTTERY)
    takes_seat = first_come and slot.available_for(gender) > 0
    joins_waitlist = first_come and not takes_seat and waitlist_has_room(slot)
    if first_come and not takes_seat and not joins_waitlist:
        if _has_active_registration(user.id, slot):
            raise AlreadyRegistered()  # tell a person who already has a place that, rather than "full"
        raise Full()
    new = NewRegistration(
        slot_id=slot.id,
        event_id=event.id,
        user_id=user.id,
        gender=gender,
        priority=priority,
        ticket_code=new_ticket_code(),
        options=options,
        single_per_event=not event.allow_multiple_slots,
        created_at=clock.now(),
    )
    # No duplicate check before the registration is written: its INSERT refuses a second active registration
    # of the person (AlreadyRegistered), before anything else is written.
    actor = actor or user
    place = None
    if not first_come:
        status, reason = Status.PENDING, "applied"
    elif takes_seat:
        status, reason = Status.CONFIRMED, "booked"
    else:
        status, reason = Status.WAITLISTED, "full"
        # When everyone waits with the same priority, a newcomer waits behind all of them: no need to count.
        place = 1 + (slot.waitlisted if policy.uniform_waitlist_priority else _waitlist_ahead(slot, priority))
    registration = changes.insert(new, status, actor=actor, cause=Cause.BOOKED, reason=reason, slot=slot)
    return BookingResult(registration.id, registration.status, place, registration)


class BookingChoices(TypedDict, total=False):
    """What a booking says besides who and which slot (``place_booking``'s keyword arguments)."""

    consents: Iterable[str]
    options: dict[str, Any] | None
    actor: User | None
    enforce_window: bool


def book(user: User, slot_id: int, **choices: Unpack[BookingChoices]) -> Registration:
    """``place_booking`` for callers that go on with the registration itself (pages, the organizer console,
    demo data): the same rules, the stored registration returned."""
    return place_booking(user, slot_id, **choices).registration


def fill_from_waitlist(slot: Slot, actor: User | None = None) -> list[Registration]:
    """Give free seats to the waitlist in priority-then-time order, skipping people whose gender quota is full
    or whom the kind refuses (e.g. already holding a trip this year): an offer with a deadline, or an
    automatic confirmation, as the slot's waitlist policy says. The caller holds the slot's lock."""
    if slot.waitlist_policy == WaitlistPolicy.NONE or slot.available <= 0:
        return []
    waiting = db.session.scalars(
        select(Registration)
        .where(Registration.slot_id == slot.id, Registration.status == Status.WAITLISTED)
        .order_by(Registration.priority, Registration.waitlisted_at, Registration.id)
    ).all()
    served: list[Registration] = []
    offers = slot.waitlist_policy == WaitlistPolicy.OFFER
    status = Status.OFFERED if offers else Status.CONFIRMED
    for candidate in waiting:
        if slot.available <= 0:
            break
        if slot.available_for(candidate.gender) <= 0:
            continue
        try:
            changes.transition(
                candidate,
                status,
                actor=actor,
                cause=Cause.SEAT_FREED,
                reason="seat freed",
                slot=slot,
                offer_expires_at=_offer_deadline(slot) if offers else None,
            )
        except DomainError:
            continue
        served.append(candidate)
    return served


def release_seat(
    registration: Registration, slot: Slot, to: Status, actor: User | None, cause: Cause, reason: str
) -> None:
    """A registration leaves its place (cancelled, declined, expired); when it held a seat, the kind reacts and
    the seat goes to the waitlist. The caller holds the slot's lock."""
    was_holding = registration.holds_seat
    changes.transition(registration, to, actor=actor, cause=cause, reason=reason, slot=slot)
    if was_holding:
        policy_for(slot.event.kind).after_release(registration, slot)
        fill_from_waitlist(slot, actor)


_CANCELLABLE = ACTIVE - {Status.ATTENDED, Status.NO_SHOW}


def cancel(
    registration: Registration,
    *,
    actor: User | None,
    reason: str = "cancelled",
    by_organizer: bool = False,
    cause: Cause = Cause.CANCELLED,
) -> None:
    """Cancel a registration. After the event's cancellation deadline a person can no longer give back a seat
    they hold (an organizer, or the system with ``by_organizer``, still can). A freed seat moves the waitlist in
    the same transaction. ``cause`` says why when it is not the person's or an organizer's own choice (a consent
    withdrawn, an application withdrawn by a trip rule)."""
    slot = lock_for_change(registration, _CANCELLABLE)
    deadline = slot.event.cancel_deadline
    if not by_organizer and registration.holds_seat and deadline is not None and clock.now() > deadline:
        raise CancelDeadlinePassed()
    release_seat(registration, slot, Status.CANCELLED, actor, cause, reason)


def resize_slot(slot_id: int, capacity: int, *, actor: User, closed: bool | None = None) -> Slot:
    """Change a slot's capacity (never below the seats already held) or close/reopen it; a larger slot serves
    its waitlist at once."""
    slot = lock_slot(slot_id)
    if capacity < slot.taken:
        raise DomainError(_("容量不能少于已确认的 %(n)d 人。", n=slot.taken))
    slot.capacity = capacity
    if closed is not None:
        slot.closed = closed
    db.session.flush()
    fill_from_waitlist(slot, actor)
    return slot


def cancel_future_for_purpose(user: User, purpose: str, actor: User | None) -> int:
    """Withdrawing a consent cancels the person's active registrations for events that have not started and
    whose kind needs that consent (the stated effect of withdrawal)."""
    cancelled = 0
    for registration in upcoming_registrations(user):
        event = registration.slot.event
        if purpose in policy_for(event.kind).required_consents(event, registration.options):
            cancel(
                registration,
                actor=actor or user,
                reason="consent withdrawn",
                by_organizer=True,
                cause=Cause.CONSENT_WITHDRAWN,
            )
            cancelled += 1
    return cancelled


def _on_consent_withdrawn(user: User, *, purpose: str, actor: User | None = None) -> int:
    return cancel_future_for_purpose(user, purpose, actor)


consent_withdrawn.connect(_on_consent_withdrawn)
