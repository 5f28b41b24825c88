"""The registration state machine, as pure functions: which moves are allowed, and what a move writes.

Nothing here reads or writes the database. ``plan`` decides every column a change sets, what it does to the
slot's counters and the history row it appends; ``booking.store`` writes exactly that, and ``booking.changes``
is the one place that calls both. Keeping the decision apart from the writing is what lets the single, set-wise
and move paths share one rule per column (a test compares each path's rows with its plan).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..accounts.models import Gender
from .models import ACTIVE, HOLDING, Cause, Status

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


class IllegalMove(Exception):
    """A move the state machine does not allow (``booking.changes`` turns it into ``IllegalTransition``)."""


@dataclass(frozen=True)
class CounterDelta:
    """What a change does to a slot's counters: seats taken (and of them by women / men), people waiting."""

    taken: int = 0
    taken_female: int = 0
    taken_male: int = 0
    waitlisted: int = 0

    def __add__(self, other: CounterDelta) -> CounterDelta:
        return CounterDelta(
            self.taken + other.taken,
            self.taken_female + other.taken_female,
            self.taken_male + other.taken_male,
            self.waitlisted + other.waitlisted,
        )

    def __neg__(self) -> CounterDelta:
        return CounterDelta(-self.taken, -self.taken_female, -self.taken_male, -self.waitlisted)

    def times(self, count: int) -> CounterDelta:
        """The change of ``count`` registrations that each change the counters by this much."""
        return CounterDelta(
            self.taken * count, self.taken_female * count, self.taken_male * count, self.waitlisted * count
        )

    def __bool__(self) -> bool:
        return any((self.taken, self.taken_female, self.taken_male, self.waitlisted))

    def applied_to(self, counters: dict[str, int]) -> dict[str, int]:
        """``counters`` (the slot's four counters, as read under its lock) after this change."""
        return {name: counters[name] + getattr(self, name) for name in COUNTERS}


COUNTERS = ("taken", "taken_female", "taken_male", "waitlisted")


def seat_delta(gender: Gender | None, seats: int) -> CounterDelta:
    """``seats`` seats (negative: given back) taken by a person of ``gender``."""
    return CounterDelta(
        taken=seats,
        taken_female=seats if gender == Gender.FEMALE else 0,
        taken_male=seats if gender == Gender.MALE else 0,
    )


@dataclass(frozen=True)
class FirstTime:
    """A time column written only while it is still empty (when a registration first joined the waitlist, or was
    first confirmed): the store keeps a value already there (``COALESCE`` in SQL)."""

    at: datetime

    def resolve(self, current: datetime | None) -> datetime:
        return current if current is not None else self.at


@dataclass(frozen=True)
class HistoryRow:
    """The append-only history row of one change."""

    from_status: Status | None
    to_status: Status
    cause: Cause
    actor_id: int | None
    reason: str
    at: datetime

    def values(self, registration_id: int | None = None) -> dict[str, Any]:
        values = {
            "from_status": self.from_status,
            "to_status": self.to_status,
            "cause": self.cause,
            "actor_id": self.actor_id,
            "reason": self.reason,
            "at": self.at,
        }
        if registration_id is not None:
            values["registration_id"] = registration_id
        return values


@dataclass(frozen=True)
class Plan:
    """Everything one registration's change writes: its columns (a ``FirstTime`` value is kept if the column
    already holds one), the slot's counter changes and the history row."""

    columns: dict[str, Any]
    counters: CounterDelta
    history: HistoryRow

    @property
    def to_status(self) -> Status:
        return self.history.to_status

    @property
    def from_status(self) -> Status | None:
        return self.history.from_status


REASON_LENGTH = 200


def plan(
    from_status: Status | None,
    to: Status,
    *,
    gender: Gender | None,
    cause: Cause,
    actor_id: int | None,
    now: datetime,
    reason: str = "",
    offer_expires_at: datetime | None = None,
) -> Plan:
    """What moving a registration from ``from_status`` (None: a new one) to ``to`` writes. Rules:

    - only the moves in ``ALLOWED`` (a seat moving to another slot keeps its status: ``plan_move``);
    - ``is_active`` follows the status (one active registration per person and slot, by a unique index);
    - ``waitlisted_at`` and ``confirmed_at`` record the first time only (a waitlist's order and the statistics'
      "confirmed" date must not change when a seat comes back);
    - ``offer_expires_at`` is kept only while offered (``offer_expires_at`` gives an offer its deadline);
    - ``checked_in_at`` is set on check-in and cleared when a check-in is undone or corrected;
    - the slot's ``taken`` (and the person's gender's) counts every status that holds a seat (``HOLDING``),
      ``waitlisted`` every waiting registration; a move between slots changes both slots, which
      ``plan_move`` gives.
    """
    if to not in ALLOWED[from_status]:
        raise IllegalMove(f"{from_status} -> {to}")
    columns: dict[str, Any] = {
        "status": to,
        "is_active": to in ACTIVE,
        "offer_expires_at": offer_expires_at if to == Status.OFFERED else None,
    }
    if to == Status.WAITLISTED:
        columns["waitlisted_at"] = FirstTime(now)
    if to == Status.CONFIRMED:
        columns["confirmed_at"] = FirstTime(now)
    if to == Status.ATTENDED:
        columns["checked_in_at"] = now
    elif from_status == Status.ATTENDED:
        columns["checked_in_at"] = None
    seats = int(to in HOLDING) - int(from_status in HOLDING)
    waiting = int(to == Status.WAITLISTED) - int(from_status == Status.WAITLISTED)
    counters = seat_delta(gender, seats) + CounterDelta(waitlisted=waiting)
    history = HistoryRow(from_status, to, cause, actor_id, reason[:REASON_LENGTH], now)
    return Plan(columns, counters, history)


@dataclass(frozen=True)
class MovePlan:
    """A seat moving to another slot of the same event: the registration's new slot, one history row, and the
    counters of both slots (one seat given back at the source, one taken at the target)."""

    plan: Plan
    source_counters: CounterDelta
    target_counters: CounterDelta


def plan_move(status: Status, *, gender: Gender | None, actor_id: int | None, now: datetime, reason: str) -> MovePlan:
    """A confirmed seat moves to another slot: its status and other columns stay (the store writes the new
    slot), the seat is given back at the source and taken at the target, and one history row says so. Only a
    confirmed registration moves (an offer or a check-in belongs to its slot)."""
    if status != Status.CONFIRMED:
        raise IllegalMove(f"move from {status}")
    history = HistoryRow(status, status, Cause.MOVED, actor_id, reason[:REASON_LENGTH], now)
    return MovePlan(Plan({}, CounterDelta(), history), -seat_delta(gender, 1), seat_delta(gender, 1))
