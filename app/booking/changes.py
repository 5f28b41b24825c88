"""Every change of a registration, in one path: plan it (``states.plan``), write it once (``store``), announce it
once (the kind's ``KindPolicy.after_change``, then the ``registration_changed`` / ``registrations_changed``
signals of ``app.signals``).

The services in ``booking.services`` decide *which* change to make (rules about windows, capacity, deadlines)
and call one of the functions here with the slot's lock held; so do features with their own set-wise decisions
(a trip lottery). A new booking (``insert``), a status change (``transition``), many of one slot
(``transition_many``, ``transition_all``) and a seat moving slots (``move``) are the only ways a registration
changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from .. import clock
from ..accounts.models import User
from ..events.kinds import policy_for
from ..events.models import Slot
from ..extensions import db
from ..signals import registration_changed, registrations_changed
from . import store
from .errors import IllegalTransition
from .models import Cause, Registration, Status
from .states import IllegalMove, Plan, plan, plan_move
from .store import CurrentRow, NewRegistration, SetChange, current_of


def _plan(
    from_status: Status | None,
    to: Status,
    *,
    gender: Any,
    cause: Cause,
    actor: User | None,
    now: datetime,
    reason: str,
    offer_expires_at: datetime | None = None,
) -> Plan:
    try:
        return plan(
            from_status,
            to,
            gender=gender,
            cause=cause,
            actor_id=actor.id if actor is not None else None,
            now=now,
            reason=reason,
            offer_expires_at=offer_expires_at,
        )
    except IllegalMove:
        raise IllegalTransition() from None


def _show_stored(registration: Registration, columns: dict[str, Any]) -> None:
    """The session's object shows what was written, without being marked changed."""
    for key, value in columns.items():
        set_committed_value(registration, key, value)


def _announce(registration: Registration, planned: Plan, slot: Slot, actor: User | None, **extra: Any) -> None:
    """Tell the kind, then every feature, that ``registration`` changed as ``planned`` (once per change)."""
    policy_for(slot.event.kind).after_change(registration, planned)
    history = planned.history
    registration_changed.send(
        registration,
        from_status=history.from_status,
        to_status=history.to_status,
        cause=history.cause,
        actor=actor,
        reason=history.reason,
        **extra,
    )


def insert(
    new: NewRegistration,
    to: Status,
    *,
    actor: User | None,
    cause: Cause,
    reason: str,
    slot: Slot,
    offer_expires_at: datetime | None = None,
) -> Registration:
    """Book: a new registration in status ``to`` (pending, confirmed or waitlisted), its first history row and
    the slot's counters, in one write. The kind's ``before_hold`` is asked first when it takes a seat.
    ``AlreadyRegistered``, with nothing written, when the person already holds an active registration there.
    The caller holds the slot's lock."""
    planned = _plan(
        None,
        to,
        gender=new.gender,
        cause=cause,
        actor=actor,
        now=new.created_at,
        reason=reason,
        offer_expires_at=offer_expires_at,
    )
    registration = Registration(**new.values(planned))  # transient until stored: what the kind's rules read
    if planned.counters.taken > 0:
        policy_for(slot.event.kind).before_hold(registration, slot)
    stored = store.insert_registration(new, planned, slot)
    # Stored by the statement above: the object joins the session as loaded (public API), not to be flushed.
    registration.id = stored["id"]
    make_transient_to_detached(registration)
    db.session.add(registration)
    set_committed_value(registration, "slot", slot)
    _announce(registration, planned, slot, actor)
    return registration


def transition(
    registration: Registration,
    to: Status,
    *,
    actor: User | None,
    reason: str = "",
    cause: Cause = Cause.MANUAL,
    slot: Slot | None = None,
    offer_expires_at: datetime | None = None,
) -> Plan:
    """Move a stored ``registration`` to ``to`` if the state machine allows it (else ``IllegalTransition``):
    its columns, a history row and the slot's counters as ``states.plan`` says. A change that takes a seat the
    registration did not hold asks the kind's ``before_hold`` first. The caller holds the slot's lock (``slot``:
    the locked slot, by default the registration's). Returns the plan written."""
    slot = slot or registration.slot
    planned = _plan(
        registration.status,
        to,
        gender=registration.gender,
        cause=cause,
        actor=actor,
        now=clock.now(),
        reason=reason,
        offer_expires_at=offer_expires_at,
    )
    if planned.counters.taken > 0:
        policy_for(slot.event.kind).before_hold(registration, slot)
    extra = {"from_waitlist": True} if cause in (Cause.SEAT_FREED, Cause.PROMOTED) else None
    written = store.update_registration(current_of(registration), planned, slot, extra=extra)
    _show_stored(registration, written)
    _announce(registration, planned, slot, actor)
    return planned


def move(registration: Registration, source: Slot, target: Slot, *, actor: User | None) -> Plan:
    """A confirmed seat moves from ``source`` to ``target`` (both locked, in id order, by the caller, who has
    checked the target has room): the source's kind is told the seat is given back, the target's may refuse
    it (``before_hold``); then the registration's slot, one history row and both slots' counters are written,
    and the move is announced once (``cause=Cause.MOVED``, ``from_slot_id``): reminders follow the new time."""
    try:
        planned = plan_move(
            registration.status,
            gender=registration.gender,
            actor_id=actor.id if actor is not None else None,
            now=clock.now(),
            reason=f"moved from slot {source.id} to slot {target.id}",
        )
    except IllegalMove:
        raise IllegalTransition() from None
    policy = policy_for(target.event.kind)
    policy.after_release(registration, source)
    policy.before_hold(registration, target)
    written = store.update_registration(current_of(registration), planned.plan, target, extra={"slot_id": target.id})
    store.write_counters(source, planned.source_counters)
    store.write_counters(target, planned.target_counters)
    _show_stored(registration, written)
    set_committed_value(registration, "slot", target)
    _announce(registration, planned.plan, target, actor, from_slot_id=source.id)
    return planned.plan


# --- set-wise ------------------------------------------------------------------------------------------------


class RegistrationChange:
    """One row of a set-wise change, as ``registrations_changed`` receivers see it."""

    __slots__ = ("from_status", "registration_id", "user_id")

    def __init__(self, registration_id: int, user_id: int | None, from_status: Status) -> None:
        self.registration_id = registration_id
        self.user_id = user_id
        self.from_status = from_status


def registrations_of(changes: Sequence[RegistrationChange]) -> list[Registration]:
    """The ORM registrations behind a set-wise change, for receivers that handle rows one by one."""
    ids = [change.registration_id for change in changes]
    found: dict[int, Registration] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        found.update(
            (registration.id, registration)
            for registration in db.session.scalars(select(Registration).where(Registration.id.in_(chunk))).unique()
        )
    return [found[i] for i in ids if i in found]


def _announce_set(
    slot: Slot,
    changes: list[RegistrationChange],
    plans: dict[Status, Plan],
    to: Status,
    cause: Cause,
    actor: User | None,
    reason: str,
) -> None:
    """Tell the kind (row by row, only if it reacts to changes) and every feature (once) about a set-wise
    change."""
    policy = policy_for(slot.event.kind)
    if policy.reacts_to_each_change:
        for registration, change in zip(registrations_of(changes), changes, strict=True):
            policy.after_change(registration, plans[change.from_status])
    registrations_changed.send(slot, changes=changes, to_status=to, cause=cause, actor=actor, reason=reason)


def transition_many(
    registrations: Sequence[Any],
    to: Status,
    *,
    actor: User | None,
    reason: str,
    slot: Slot,
    cause: Cause = Cause.MANUAL,
    values: Sequence[dict[str, Any]] | None = None,
) -> None:
    """``transition`` for many stored registrations of one slot (a lottery deciding thousands): the same plan per
    row, written with one executemany UPDATE and one INSERT, announced once for the set. ``values`` (one dict
    per registration) adds other columns, e.g. the waitlist priority. Registrations may be ORM objects (their
    loaded state is updated) or plain rows with the columns of ``store.CurrentRow``. The kind's ``before_hold``
    is not asked: a set-wise caller checks its own rule for the whole set (the lottery's one trip a year). The
    caller holds the slot's lock."""
    if not registrations:
        return
    db.session.flush()  # earlier pending changes first: the statements below bypass the unit of work
    now = clock.now()
    rows = [current_of(registration) for registration in registrations]
    plans = [_plan(row.status, to, gender=row.gender, cause=cause, actor=actor, now=now, reason=reason) for row in rows]
    extra = list(values) if values is not None else [{} for _ in rows]
    written = store.update_many(rows, plans, slot, extra)
    for registration, columns in zip(registrations, written, strict=True):
        if isinstance(registration, Registration):
            _show_stored(registration, columns)
    changes = [RegistrationChange(row.id, row.user_id, row.status) for row in rows]
    by_status = {row.status: planned for row, planned in zip(rows, plans, strict=True)}
    _announce_set(slot, changes, by_status, to, cause, actor, reason)


def transition_all(
    slot: Slot,
    condition: ColumnElement[bool],
    to: Status,
    *,
    actor: User | None,
    reason: str,
    cause: Cause = Cause.MANUAL,
    values: dict[str, Any] | None = None,
) -> list[RegistrationChange]:
    """``transition`` for every registration of ``slot`` matching ``condition`` (a SQL condition), decided from
    their count per status and gender and written by the database (``store.update_all``: one statement per status
    the rows come from on PostgreSQL, two on SQLite), however many rows (a lottery waitlisting twenty thousand
    applicants). ``values`` sets other columns from SQL expressions (e.g. the waitlist priority from
    the lottery's ranks). The same plan, counters and announcement as ``transition_many``. The caller holds the
    slot's lock. Returns the changes, in id order."""
    matching = and_(Registration.slot_id == slot.id, condition)
    groups = store.count_matching(matching)
    if not groups:
        return []
    db.session.flush()  # earlier pending changes first: the statements below bypass the unit of work
    now = clock.now()
    change = SetChange()
    for status, gender, count in groups:
        planned = _plan(status, to, gender=gender, cause=cause, actor=actor, now=now, reason=reason)
        change.plans.setdefault(status, planned)
        change.counters = change.counters + planned.counters.times(count)
    written = store.update_all(slot, matching, change, values)
    changes = [RegistrationChange(row.id, row.user_id, status) for status, rows in written.items() for row in rows]
    changes.sort(key=attrgetter("registration_id"))
    _announce_set(slot, changes, change.plans, to, cause, actor, reason)
    return changes


def replay_each(receiver: Callable[..., Any]) -> Callable[..., None]:
    """Turn a one-registration ``registration_changed`` receiver into a ``registrations_changed`` receiver that
    loads the changed registrations and passes them on one by one (for features with nothing to do set-wise)."""

    def each(slot: Slot, *, changes: Sequence[RegistrationChange], to_status: Status, **extra: Any) -> None:
        registrations = {registration.id: registration for registration in registrations_of(changes)}
        for change in changes:
            registration = registrations.get(change.registration_id)
            if registration is not None:
                receiver(registration, from_status=change.from_status, to_status=to_status, **extra)

    return each


__all__ = [
    "CurrentRow",
    "NewRegistration",
    "RegistrationChange",
    "insert",
    "move",
    "registrations_of",
    "replay_each",
    "transition",
    "transition_all",
    "transition_many",
]
