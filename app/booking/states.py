"""The registration state machine: every status change goes through ``transition``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from blinker import signal
from sqlalchemy import ColumnElement, and_, bindparam, exists, func, insert, inspect, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value

from .. import clock
from ..accounts.models import Gender, User
from ..database import attach_as_loaded, insert_rows, update_rows
from ..events.models import Slot
from ..extensions import db
from .errors import AlreadyRegistered, IllegalTransition
from .models import ACTIVE, HOLDING, Registration, RegistrationHistory, Status

# Sent after every transition, inside the same transaction: receivers (notifications' outbox, audit, kind
# features) write their rows in the same session so they commit or roll back with the change.
registration_changed = signal("registration-changed")
# Sent once by ``transition_many`` (sender: the slot) with ``changes`` (RegistrationChange each), ``to_status``,
# ``actor`` and ``reason``: receivers handle thousands of rows of one slot set-wise (a lottery draw) or call
# ``registrations_of`` and treat them one by one.
registrations_changed = signal("registrations-changed")

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


def _adjust_counters(slot: Slot, gender: Gender | None, delta: int, waiting: int = 0) -> None:
    """Change the slot's counters in the session (written at the next flush): ``delta`` seats of a person of
    ``gender`` taken (negative: given back), ``waiting`` people more on the waitlist (negative: fewer)."""
    if delta:
        slot.taken += delta
        if gender == Gender.FEMALE:
            slot.taken_female += delta
        elif gender == Gender.MALE:
            slot.taken_male += delta
    if waiting:
        slot.waitlisted += waiting


def _counter_moves(current: Status | None, to: Status) -> tuple[int, int]:
    """What a move from ``current`` to ``to`` does to the slot's counters: (seats taken, people waiting), each
    +1, -1 or 0."""
    seats = int(to in HOLDING) - int(current in HOLDING)
    waiting = int(to == Status.WAITLISTED) - int(current == Status.WAITLISTED)
    return seats, waiting


def transition(
    registration: Registration,
    to: Status,
    *,
    actor: User | None,
    reason: str = "",
    slot: Slot | None = None,
) -> None:
    """Move ``registration`` to ``to`` if the state machine allows it, keep the slot's counters (seats taken,
    people waiting) in step (the caller holds the slot's lock), and append a history row. Refuses illegal moves
    with IllegalTransition. A new registration (no status yet) is inserted by this call, first, so that a second
    active registration of the same person (refused by the database's unique indexes) raises AlreadyRegistered
    before anything is written."""
    current = registration.status  # None for a registration not yet inserted
    if to not in ALLOWED[current]:
        raise IllegalTransition()
    slot = slot or registration.slot
    now = clock.now()
    for key, value in _changed_columns(registration, to, now).items():
        if getattr(registration, key) != value:
            setattr(registration, key, value)
    if to == Status.ATTENDED:
        registration.checked_in_at = now
    elif current == Status.ATTENDED:
        registration.checked_in_at = None
    seats, waiting = _counter_moves(current, to)
    history = _history_row(registration.id, current, to, actor, reason, now)
    # A new registration, its history row and the slot's counters go in one statement where the database allows.
    written = registration.id is None and _insert(registration, slot, history, seats, waiting)
    if not written:
        if seats or waiting:
            _store_counters(slot, registration.gender, seats, waiting)
        # Written by id, not through ``registration.history``, so the collection is not loaded on every change.
        db.session.connection().execute(_INSERT_HISTORY, {**history, "registration_id": registration.id})
    registration_changed.send(registration, from_status=current, to_status=to, actor=actor, reason=reason)


# The single-registration writes are Core statements built once: every booking runs them while it holds the
# slot's lock, and the ORM's unit of work costs several times as much per row (bench/flash_sale.py).
# ``inline()``: no RETURNING of the new row's id, which nobody reads.
_INSERT_HISTORY = insert(RegistrationHistory.__table__).inline()  # type: ignore[arg-type]
_slots = Slot.__table__.c
_COUNTERS = ("taken", "taken_female", "taken_male", "waitlisted")
_STORE_COUNTERS = (
    update(Slot.__table__)  # type: ignore[arg-type]
    .where(_slots.id == bindparam("slot_id"))
    .values({name: bindparam(name) for name in _COUNTERS})
)
_registration_columns = Registration.__table__.c
# SQLite (PostgreSQL uses ``_INSERT_WITH_HISTORY``): every column given, only the new id comes back. ON CONFLICT
# DO NOTHING: a second active registration of the same person for the slot (or the event) returns no row
# instead of aborting the transaction — the booking needs no separate duplicate check.
_INSERT_REGISTRATION = (
    sqlite_insert(Registration.__table__)  # type: ignore[arg-type]
    .on_conflict_do_nothing()
    .returning(_registration_columns.id)
)


def _changed_columns(registration: RegistrationState, to: Status, now: datetime) -> dict[str, Any]:
    """The columns a move to ``to`` sets: the status, whether it is active, when it joined the waitlist or was
    confirmed (the first time only), and an offer's deadline (kept only while offered)."""
    return {
        "status": to,
        "is_active": to in ACTIVE,
        "waitlisted_at": registration.waitlisted_at or (now if to == Status.WAITLISTED else None),
        "confirmed_at": registration.confirmed_at or (now if to == Status.CONFIRMED else None),
        "offer_expires_at": registration.offer_expires_at if to == Status.OFFERED else None,
    }


def _history_row(
    registration_id: int, current: Status | None, to: Status, actor: User | None, reason: str, now: datetime
) -> dict[str, Any]:
    return {
        "registration_id": registration_id,
        "from_status": current,
        "to_status": to,
        "actor_id": actor.id if actor is not None else None,
        "reason": reason[:200],
        "at": now,
    }


def _counters_after(slot: Slot, gender: Gender | None, seats: int, waiting: int) -> dict[str, int]:
    """The slot's counters once ``seats`` seats of a person of ``gender`` are taken (negative: given back) and
    ``waiting`` people more wait (negative: fewer)."""
    return {
        "taken": slot.taken + seats,
        "taken_female": slot.taken_female + (seats if gender == Gender.FEMALE else 0),
        "taken_male": slot.taken_male + (seats if gender == Gender.MALE else 0),
        "waitlisted": slot.waitlisted + waiting,
    }


def _store_counters(slot: Slot, gender: Gender | None, seats: int, waiting: int) -> None:
    """Write the slot's counters after a change (``_counters_after``; the caller holds its lock, so the values
    are absolute) and tell the session they are stored, so the slot is not left for the flush to look at."""
    values = _counters_after(slot, gender, seats, waiting)
    db.session.connection().execute(_STORE_COUNTERS, {"slot_id": slot.id, **values})
    for name, value in values.items():
        set_committed_value(slot, name, value)


def _insert(registration: Registration, slot: Slot, history: dict[str, Any], seats: int, waiting: int) -> bool:
    """Insert a new registration and attach it to the session as stored, as if it had been flushed.
    AlreadyRegistered, with nothing written, when the person already holds an active registration there.

    On PostgreSQL the same statement also writes the registration's first history row and, when it takes a seat
    or joins the waitlist (``seats``, ``waiting``), the slot's counters: every booking of a popular slot queues on
    that slot's lock, and each round trip saved while holding it is time the next booking does not wait
    (bench/flash_sale.py). Returns True then; False when only the registration was written (SQLite, where there
    is no round trip to save, or an object already added to the session, which is flushed instead)."""
    state = inspect(registration)
    if state.pending:
        db.session.flush()
        return False
    connection = db.session.connection()
    values = _new_registration_values(registration, slot)
    if connection.dialect.name == "postgresql":
        counters = _counters_after(slot, registration.gender, seats, waiting)
        params = {_PARAMETER[key]: value for key, value in values.items()}
        params.update((_HISTORY_PARAMETER[key], value) for key, value in history.items())
        params.update((_COUNTER_PARAMETER[key], value) for key, value in counters.items())
        params["slot_id"] = slot.id
        new_id = connection.execute(_INSERT_WITH_HISTORY[bool(seats or waiting)], params).scalar()
        if new_id is None:
            raise AlreadyRegistered()
        for name, value in counters.items():
            set_committed_value(slot, name, value)  # stored: the slot is not left for the flush to look at
    else:
        new_id = connection.execute(_INSERT_REGISTRATION, values).scalar()
        if new_id is None:
            raise AlreadyRegistered()
    # Straight into the object's state: ``attach_as_loaded`` next takes every value as stored, so attribute
    # events (none are listened to on registrations) would only record history to be discarded.
    registration.__dict__.update(values, id=new_id)
    attach_as_loaded(registration)
    return connection.dialect.name == "postgresql"


_NEW_COLUMNS = [column for column in Registration.__table__.c if column.key != "id"]
_NEW_COLUMN_KEYS = frozenset(column.key for column in _NEW_COLUMNS)
_REGISTRATIONS = inspect(Registration).class_manager


def new_registration(slot: Slot, **values: Any) -> Registration:
    """A registration for ``slot`` that ``transition`` will insert: its columns hold ``values``, the others
    their defaults (no status yet). The values go straight into the object's state, as ``_insert`` puts the
    stored ones: the constructor's attribute events would only record history that ``_insert`` discards (about
    3 % of a booking request's instructions, bench/README.md)."""
    unknown = values.keys() - _NEW_COLUMN_KEYS
    if unknown:
        raise TypeError(f"not columns of a registration: {', '.join(sorted(unknown))}")
    registration: Registration = _REGISTRATIONS.new_instance()
    registration.__dict__.update(
        {column.key: values[column.key] if column.key in values else _default(column) for column in _NEW_COLUMNS},
        id=None,
        slot=slot,
        slot_id=slot.id,
    )
    return registration


def _default(column: Any) -> Any:
    default = column.default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg


# The parameter names of ``_INSERT_WITH_HISTORY`` (see ``_insert_with_history``), by column.
_PARAMETER = {column.key: f"new_{column.key}" for column in _NEW_COLUMNS}
_HISTORY_COLUMNS = ("from_status", "to_status", "actor_id", "reason", "at")
_HISTORY_PARAMETER = {key: f"history_{key}" for key in ("registration_id", *_HISTORY_COLUMNS)}
_COUNTER_PARAMETER = {name: f"slot_{name}" for name in _COUNTERS}


def _new_registration_values(registration: Registration, slot: Slot) -> dict[str, Any]:
    """Every column of a new registration: as set on the object, else the column's default."""
    given = inspect(registration).dict
    values = {column.key: given[column.key] if column.key in given else _default(column) for column in _NEW_COLUMNS}
    values["slot_id"] = values["slot_id"] or slot.id
    return values


def _insert_with_history(counts: bool) -> Any:
    """PostgreSQL: the new registration (refused without a trace by ON CONFLICT DO NOTHING), its first history
    row and, with ``counts``, the slot's new counters, as data-modifying CTEs of one statement; the history and
    counters are written only if the registration was. Parameter names are prefixed (new_, history_, slot_): an
    execution parameter named like a column of a table in the statement would be taken as a value for it."""
    table, history = Registration.__table__, RegistrationHistory.__table__
    new = (
        pg_insert(table)  # type: ignore[arg-type]
        .values({column.key: bindparam(_PARAMETER[column.key], type_=column.type) for column in _NEW_COLUMNS})
        .on_conflict_do_nothing()
        .returning(table.c.id)  # type: ignore[attr-defined]
        .cte("new_registration")
    )
    first_history = (
        insert(history)  # type: ignore[arg-type]
        .from_select(
            ["registration_id", *_HISTORY_COLUMNS],
            select(
                new.c.id,  # type: ignore[attr-defined]
                *(bindparam(_HISTORY_PARAMETER[key], type_=history.c[key].type) for key in _HISTORY_COLUMNS),
            ),
        )
        .cte("new_history")
    )
    statement = select(new.c.id).add_cte(first_history)
    if counts:
        counters = (
            update(Slot.__table__)  # type: ignore[arg-type]
            .where(_slots.id == bindparam("slot_id"), exists(select(new.c.id)))
            .values({name: bindparam(_COUNTER_PARAMETER[name]) for name in _COUNTERS})
            .cte("new_counters")
        )
        statement = statement.add_cte(counters)
    return statement


_INSERT_WITH_HISTORY = {counts: _insert_with_history(counts) for counts in (False, True)}


class RegistrationState(Protocol):
    """What ``transition_many`` reads of a registration: an ORM ``Registration`` or a plain row with these
    columns (a lottery draw loads its applicants as rows, not as objects)."""

    @property
    def id(self) -> int: ...
    @property
    def user_id(self) -> int | None: ...
    @property
    def status(self) -> Status: ...
    @property
    def gender(self) -> Gender | None: ...
    @property
    def waitlisted_at(self) -> datetime | None: ...
    @property
    def confirmed_at(self) -> datetime | None: ...
    @property
    def offer_expires_at(self) -> datetime | None: ...


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


def transition_many(
    registrations: Sequence[RegistrationState],
    to: Status,
    *,
    actor: User | None,
    reason: str,
    slot: Slot,
    values: Sequence[dict[str, Any]] | None = None,
) -> None:
    """``transition`` for many registrations of one slot at once (a lottery deciding thousands): the same allowed
    moves, counters and history rows, written with one bulk UPDATE and one bulk INSERT instead of one unit of
    work per row, and one ``registrations_changed`` signal for the whole set. ``values`` (one dict per
    registration) adds other columns to the same UPDATE, e.g. the waitlist priority. Registrations may be ORM
    objects (their loaded state is updated) or plain rows. The caller holds the slot's lock; every registration
    must already be stored."""
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
        _adjust_counters(slot, registration.gender, *_counter_moves(current, to))
        changed = {**_changed_columns(registration, to, now), **more}
        rows.append({"id": registration.id, **changed})
        history.append(_history_row(registration.id, current, to, actor, reason, now))
        if isinstance(registration, Registration):
            for key, value in changed.items():
                set_committed_value(registration, key, value)  # the session sees what the database now holds
    update_rows(Registration.__table__, rows)  # type: ignore[arg-type]
    insert_rows(RegistrationHistory.__table__, history)  # type: ignore[arg-type]
    changes = [
        RegistrationChange(registration.id, registration.user_id, current)
        for registration, current in zip(registrations, previous, strict=True)
    ]
    registrations_changed.send(slot, changes=changes, to_status=to, actor=actor, reason=reason)


def transition_all(
    slot: Slot,
    condition: ColumnElement[bool],
    to: Status,
    *,
    actor: User | None,
    reason: str,
    values: dict[str, Any] | None = None,
) -> list[RegistrationChange]:
    """``transition`` for every registration of ``slot`` matching ``condition`` (a SQL condition), done by the
    database: one INSERT ... SELECT of history rows and one UPDATE, however many rows (a lottery waitlisting
    twenty thousand applicants). ``values`` sets other columns from SQL expressions (e.g. the waitlist priority
    from the lottery's ranks). The same allowed moves, counters and ``registrations_changed`` signal as
    ``transition_many``. The caller holds the slot's lock. Returns the changes, in id order."""
    matching = and_(Registration.slot_id == slot.id, condition)
    rows = db.session.execute(
        select(Registration.id, Registration.user_id, Registration.status, Registration.gender)
        .where(matching)
        .order_by(Registration.id)
    ).all()
    if not rows:
        return []
    if any(to not in ALLOWED[row.status] for row in rows):
        raise IllegalTransition()
    db.session.flush()  # earlier pending changes first: the statements below bypass the unit of work
    for row in rows:
        _adjust_counters(slot, row.gender, *_counter_moves(row.status, to))
    now = clock.now()
    history = RegistrationHistory
    db.session.execute(
        insert(history).from_select(
            ["registration_id", "from_status", "to_status", "actor_id", "reason", "at"],
            select(
                Registration.id,
                Registration.status,
                literal(to, history.to_status.type),
                literal(actor.id if actor is not None else None, history.actor_id.type),
                literal(reason[:200], history.reason.type),
                literal(now, history.at.type),
            ).where(matching),
        )
    )
    changed: dict[str, Any] = {"status": to, "is_active": to in ACTIVE}
    if to == Status.WAITLISTED:
        changed["waitlisted_at"] = func.coalesce(Registration.waitlisted_at, now)
    if to == Status.CONFIRMED:
        changed["confirmed_at"] = func.coalesce(Registration.confirmed_at, now)
    if to != Status.OFFERED:
        changed["offer_expires_at"] = None
    changed.update(values or {})
    db.session.execute(
        update(Registration).where(matching).values(changed).execution_options(synchronize_session=False)
    )
    changes = [RegistrationChange(row.id, row.user_id, row.status) for row in rows]
    registrations_changed.send(slot, changes=changes, to_status=to, actor=actor, reason=reason)
    return changes


def replay_each(receiver: Any) -> Any:
    """Turn a one-registration ``registration_changed`` receiver into a ``registrations_changed`` receiver that
    loads the changed registrations and passes them on one by one (for features with nothing to do set-wise)."""

    def each(slot: Slot, *, changes: Sequence[RegistrationChange], to_status: Status, **extra: Any) -> None:
        registrations = {registration.id: registration for registration in registrations_of(changes)}
        for change in changes:
            registration = registrations.get(change.registration_id)
            if registration is not None:
                receiver(registration, from_status=change.from_status, to_status=to_status, **extra)

    return each
