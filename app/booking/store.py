"""The one writer of registrations, their history and slot counters.

Every change the engine makes is decided first by ``states.plan`` and written here, in Core SQL, by the
functions below; ``booking.changes`` is their only caller. Nothing else in the application inserts or updates
these three tables' booking columns, so a rule about what a change writes lives in exactly one place.

Why Core SQL and not the ORM's unit of work: every booking of a popular slot queues on that slot's row lock,
and whatever happens while the lock is held is time the next booking waits (bench/flash_sale.py). So:

- the statements are built once, at import;
- a new registration is ``INSERT … ON CONFLICT DO NOTHING`` against the partial unique indexes (one active
  registration per person and slot, or per event): a second one returns no row instead of aborting the
  transaction, and no duplicate check is needed before it;
- on PostgreSQL the new registration, its first history row and the slot's counters are one statement
  (data-modifying CTEs, ``_insert_with_history``); SQLite, where there is no network round trip to save, runs
  the same three writes one after the other (``_INSERT_REGISTRATION``, ``_INSERT_HISTORY``, ``_STORE_COUNTERS``);
- the slot's counters are written as absolute values read under the lock, and the database backs them with
  CHECK constraints (``taken <= capacity``, within each gender's quota, never negative);
- set-wise changes (a lottery deciding thousands) are one executemany, or per status the rows come from one
  ``UPDATE … WHERE … RETURNING`` and one ``INSERT … SELECT`` of history rows (on PostgreSQL one statement: the
  history rows are selected from the UPDATE's RETURNING), however many rows.

The statistics are told by the database: the ``stats_note_history`` trigger on ``registration_history``
(declared in ``app/stats/models.py``, ``NOTE_HISTORY_DDL``, installed by migration 0bfd7efd0472) notes the
event of every history row written here in ``stats_dirty``, in the same statement, so no booking spends a
statement of its own on statistics while it holds its slot's lock.

Lock waits: the slot's row lock is taken before anything here runs (``booking.services.lock_slot``, which turns
a wait past the lock timeout into ``Busy``); on SQLite the transaction's ``BEGIN IMMEDIATE`` already holds the
one writer's lock. The writes below therefore do not wait for the slot.

The ORM objects the caller holds (the locked slot, a registration being changed) are told what was written
with ``set_committed_value`` (public SQLAlchemy API): they show the stored values without being marked changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, bindparam, exists, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value

from ..accounts.models import Gender
from ..events.models import Slot
from ..extensions import db
from .errors import AlreadyRegistered
from .models import Registration, RegistrationHistory, Status
from .states import COUNTERS, CounterDelta, FirstTime, Plan

_registrations: Table = Registration.__table__  # type: ignore[assignment]
_history: Table = RegistrationHistory.__table__  # type: ignore[assignment]
_slots: Table = Slot.__table__  # type: ignore[assignment]

_HISTORY_COLUMNS = ("from_status", "to_status", "cause", "actor_id", "reason", "at")


@dataclass(frozen=True)
class NewRegistration:
    """The columns of a registration about to be booked that do not come from the plan."""

    slot_id: int
    event_id: int
    user_id: int
    gender: Gender | None
    priority: int
    ticket_code: str
    options: dict[str, Any] | None
    single_per_event: bool
    created_at: datetime

    def values(self, plan: Plan) -> dict[str, Any]:
        """Every column of the new row (all but its id): these, then the plan's, the rest empty."""
        values: dict[str, Any] = {
            "slot_id": self.slot_id,
            "event_id": self.event_id,
            "user_id": self.user_id,
            "gender": self.gender,
            "priority": self.priority,
            "ticket_code": self.ticket_code,
            "options": self.options,
            "single_per_event": self.single_per_event,
            "created_at": self.created_at,
            "waitlisted_at": None,
            "confirmed_at": None,
            "checked_in_at": None,
            "from_waitlist": False,
        }
        values.update(resolved(plan.columns, {}))
        return values


@dataclass(frozen=True)
class CurrentRow:
    """What a change reads of a stored registration: its id, status, gender and first-time columns. An ORM
    ``Registration`` or a plain row with these attributes serves as well (``current_of``)."""

    id: int
    user_id: int | None
    status: Status
    gender: Gender | None
    waitlisted_at: datetime | None = None
    confirmed_at: datetime | None = None


def current_of(row: Any) -> CurrentRow:
    return CurrentRow(row.id, row.user_id, row.status, row.gender, row.waitlisted_at, row.confirmed_at)


def resolved(columns: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The plan's columns as values: a ``FirstTime`` column keeps the value ``current`` holds."""
    return {
        key: value.resolve(current.get(key)) if isinstance(value, FirstTime) else value
        for key, value in columns.items()
    }


def _first_times(row: CurrentRow) -> dict[str, Any]:
    return {"waitlisted_at": row.waitlisted_at, "confirmed_at": row.confirmed_at}


# --- statements, built once ----------------------------------------------------------------------------------

# ``inline()``: no RETURNING of the new history row's id, which nobody reads.
_INSERT_HISTORY = insert(_history).inline()
_STORE_COUNTERS = (
    update(_slots).where(_slots.c.id == bindparam("slot_id")).values({name: bindparam(name) for name in COUNTERS})
)
_NEW_COLUMNS = [column for column in _registrations.c if column.key != "id"]
# SQLite: every column given, only the new id comes back; a second active registration returns no row.
_INSERT_REGISTRATION = sqlite_insert(_registrations).on_conflict_do_nothing().returning(_registrations.c.id)

# The parameter names of ``_insert_with_history``: prefixed, because an execution parameter named like a column
# of a table in the statement would be taken as a value for it.
_NEW_PARAMETER = {column.key: f"new_{column.key}" for column in _NEW_COLUMNS}
_HISTORY_PARAMETER = {key: f"history_{key}" for key in _HISTORY_COLUMNS}
_COUNTER_PARAMETER = {name: f"slot_{name}" for name in COUNTERS}


def _insert_with_history(counts: bool) -> Any:
    """PostgreSQL: the new registration (refused without a trace by ON CONFLICT DO NOTHING), its first history
    row and, with ``counts``, the slot's new counters, as data-modifying CTEs of one statement; the history and
    counters are written only if the registration was."""
    new = (
        pg_insert(_registrations)
        .values({column.key: bindparam(_NEW_PARAMETER[column.key], type_=column.type) for column in _NEW_COLUMNS})
        .on_conflict_do_nothing()
        .returning(_registrations.c.id)
        .cte("new_registration")
    )
    first_history = (
        insert(_history)
        .from_select(
            ["registration_id", *_HISTORY_COLUMNS],
            select(
                new.c.id,
                *(bindparam(_HISTORY_PARAMETER[key], type_=_history.c[key].type) for key in _HISTORY_COLUMNS),
            ),
        )
        .cte("new_history")
    )
    statement = select(new.c.id).add_cte(first_history)
    if counts:
        counters = (
            update(_slots)
            .where(_slots.c.id == bindparam("slot_id"), exists(select(new.c.id)))
            .values({name: bindparam(_COUNTER_PARAMETER[name]) for name in COUNTERS})
            .cte("new_counters")
        )
        statement = statement.add_cte(counters)
    return statement


_INSERT_WITH_HISTORY = {counts: _insert_with_history(counts) for counts in (False, True)}


# --- writing -------------------------------------------------------------------------------------------------


def _counters_of(slot: Slot) -> dict[str, int]:
    return {name: getattr(slot, name) for name in COUNTERS}


def _stored_counters(slot: Slot, values: dict[str, int]) -> None:
    for name, value in values.items():
        set_committed_value(slot, name, value)


def write_counters(slot: Slot, delta: CounterDelta) -> None:
    """Write the slot's counters after ``delta`` (absolute values: the caller holds the slot's lock)."""
    if not delta:
        return
    values = delta.applied_to(_counters_of(slot))
    db.session.connection().execute(_STORE_COUNTERS, {"slot_id": slot.id, **values})
    _stored_counters(slot, values)


def insert_registration(new: NewRegistration, plan: Plan, slot: Slot) -> dict[str, Any]:
    """Insert a new registration with its first history row and the slot's counters; returns its stored
    values (``id`` included). ``AlreadyRegistered``, with nothing written, when the person already holds an
    active registration for the slot (or for the event, when it allows one only)."""
    values = new.values(plan)
    history = plan.history.values()
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        counters = plan.counters.applied_to(_counters_of(slot))
        params: dict[str, Any] = {_NEW_PARAMETER[key]: value for key, value in values.items()}
        params.update((_HISTORY_PARAMETER[key], value) for key, value in history.items())
        params.update((_COUNTER_PARAMETER[key], value) for key, value in counters.items())
        params["slot_id"] = slot.id
        new_id = connection.execute(_INSERT_WITH_HISTORY[bool(plan.counters)], params).scalar()
        if new_id is None:
            raise AlreadyRegistered()
        if plan.counters:
            _stored_counters(slot, counters)
    else:
        new_id = connection.execute(_INSERT_REGISTRATION, values).scalar()
        if new_id is None:
            raise AlreadyRegistered()
        connection.execute(_INSERT_HISTORY, {**history, "registration_id": new_id})
        write_counters(slot, plan.counters)
    return {**values, "id": new_id}


def update_registration(
    row: CurrentRow, plan: Plan, slot: Slot, *, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Write one stored registration's change: its columns (plus ``extra``, e.g. a new slot), its history row
    and the slot's counters. Returns the columns written."""
    columns = {**resolved(plan.columns, _first_times(row)), **(extra or {})}
    connection = db.session.connection()
    connection.execute(
        update(_registrations).where(_registrations.c.id == row.id).values(columns),
    )
    connection.execute(_INSERT_HISTORY, plan.history.values(row.id))
    write_counters(slot, plan.counters)
    return columns


def update_many(
    rows: Sequence[CurrentRow], plans: Sequence[Plan], slot: Slot, extra: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Write the changes of many registrations of one slot: one executemany UPDATE (rows grouped by the columns
    they set), one executemany INSERT of history rows, the counters once. Returns each row's columns."""
    written = [
        {**resolved(plan.columns, _first_times(row)), **more}
        for row, plan, more in zip(rows, plans, extra, strict=True)
    ]
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row, columns in zip(rows, written, strict=True):
        by_shape.setdefault(tuple(sorted(columns)), []).append({"row_id": row.id, **columns})
    connection = db.session.connection()
    for shape, params in by_shape.items():
        statement = (
            update(_registrations)
            .where(_registrations.c.id == bindparam("row_id"))
            .values({key: bindparam(key) for key in shape})
        )
        connection.execute(statement, params)
    history = [plan.history.values(row.id) for row, plan in zip(rows, plans, strict=True)]
    connection.execute(_INSERT_HISTORY, history)
    total = CounterDelta()
    for plan in plans:
        total = total + plan.counters
    write_counters(slot, total)
    return written


@dataclass
class SetChange:
    """A set-wise change of every registration of a slot matching a SQL condition: one plan per status the
    matching rows come from, and the counters of all of them."""

    plans: dict[Status, Plan] = field(default_factory=dict)
    counters: CounterDelta = field(default_factory=CounterDelta)


def count_matching(matching: ColumnElement[bool]) -> list[tuple[Status, Gender | None, int]]:
    """How many registrations matching a SQL condition there are per (status, gender): what a set-wise change
    plans and counts with, read before anything is written."""
    status, gender = _registrations.c.status, _registrations.c.gender
    rows = db.session.execute(select(status, gender, func.count()).where(matching).group_by(status, gender))
    return [(row[0], row[1], row[2]) for row in rows]


def _history_of(plan: Plan, ids: Any, *where: ColumnElement[bool]) -> Any:
    """``INSERT … SELECT`` of the plan's history row for every registration id ``ids`` selects (``where``)."""
    history = plan.history
    return insert(_history).from_select(
        ["registration_id", *_HISTORY_COLUMNS],
        select(ids, *(literal(getattr(history, key), _history.c[key].type) for key in _HISTORY_COLUMNS)).where(*where),
    )


def update_all(
    slot: Slot, matching: ColumnElement[bool], change: SetChange, extra: dict[str, Any] | None = None
) -> dict[Status, Sequence[Any]]:
    """Write a set-wise change in the database, per status the rows come from: the registrations' columns by one
    ``UPDATE … WHERE`` (a ``FirstTime`` column becomes ``COALESCE``; ``extra`` adds SQL expressions) and their
    history rows by ``INSERT … SELECT``; then the counters. PostgreSQL runs the two as one statement (the history
    rows are selected from the UPDATE's RETURNING, a data-modifying CTE); SQLite inserts the history rows, then
    updates. Returns the changed rows (``id``, ``user_id``) by the status they came from."""
    changed: dict[Status, Sequence[Any]] = {}
    postgres = db.session.connection().dialect.name == "postgresql"
    for from_status, plan in change.plans.items():
        these = and_(matching, _registrations.c.status == from_status)
        columns: dict[str, Any] = {
            key: func.coalesce(_registrations.c[key], value.at) if isinstance(value, FirstTime) else value
            for key, value in plan.columns.items()
        }
        columns.update(extra or {})
        updated = update(_registrations).where(these).values(columns)
        if postgres:
            rows = updated.returning(_registrations.c.id, _registrations.c.user_id).cte("changed")
            statement: Any = select(rows.c.id, rows.c.user_id).add_cte(_history_of(plan, rows.c.id).cte("history"))
        else:
            db.session.execute(_history_of(plan, _registrations.c.id, these))
            statement = updated.returning(_registrations.c.id, _registrations.c.user_id)
        changed[from_status] = db.session.execute(statement).all()
    write_counters(slot, change.counters)
    return changed
