"""The trip lottery's draw: freezing the applicant list, the public value, the draw itself (by the scheduler
or the organizer's button) and withdrawing applications superseded by a place won elsewhere. The pure
algorithm is ``trips.lottery``; what a drawn lottery publishes is ``trips.lottery_record``. Functions flush but
never commit.

Lock order (DESIGN.md §5): slots first (ascending id, through ``booking.lock_slots``), then people's rows
(``policy.before_hold``). The draw locks, before anything else, its own slot and every other trip slot its
applicants have applied to that year, so two draws sharing applicants serialise instead of deadlocking, and
the winners' other applications can be withdrawn in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, exists, extract, func, select
from sqlalchemy.orm import aliased

from .. import audit, clock
from ..accounts.models import Profile, User
from ..booking import services as booking
from ..booking.changes import transition_all, transition_many
from ..booking.models import HOLDING, Cause, Registration, Status
from ..database import insert_rows, update_rows
from ..errors import DomainError, InvalidInput
from ..events.models import Allocation, Event, Slot, WaitlistPolicy
from ..extensions import db
from . import lottery
from .catalogue import get_departure, get_managed_departure, slot_of
from .errors import AlreadyDrawn, LotteryNotReady
from .models import DEFAULT_TIERS, TripDeparture, TripLotteryEntry
from .policy import (
    KIND,
    applicants_holding_a_trip,
    pending_applicants,
    refuse_holders,
    tier_of,
    trips_of_year,
    users_who_have_been,
)


def _window_closed(slot: Slot, now: datetime) -> bool:
    return now >= slot.window()[1]


def freeze(departure: TripDeparture, now: datetime | None = None, actor: User | None = None) -> bool:
    """Freeze a lottery departure's applicant list once its window has closed: every pending application gets
    an anonymised id and its tier (computed now), and the canonical list's SHA-256 is recorded. Returns False
    when already frozen; the list never changes afterwards. The freeze is audited (``trip.freeze``: the count
    and the hash; ``actor`` None when the scheduler freezes)."""
    now = now or clock.now()
    slot = slot_of(departure)
    if slot.allocation != Allocation.LOTTERY:
        raise LotteryNotReady(_("该团期为先到先得，无需抽签。"))
    if departure.frozen_at is not None:
        return False
    if not _window_closed(slot, now):
        raise LotteryNotReady(_("报名截止后才能冻结申请名单。"))
    # Plain rows, not ORM objects: a popular departure freezes tens of thousands of applications.
    rows = db.session.execute(
        select(Registration.id, Registration.user_id, Profile.model_worker, Profile.frontline, Profile.industry_id)
        .outerjoin(Profile, Profile.user_id == Registration.user_id)
        .where(Registration.slot_id == slot.id, Registration.status == Status.PENDING)
        .order_by(Registration.id)
    ).all()
    been = users_who_have_been([row.user_id for row in rows if row.user_id is not None], departure.event.starts_at)
    rules = departure.tiers or DEFAULT_TIERS
    secret = current_app.config["SECRET_KEY"]
    applicants = []
    entries = []
    for row in rows:
        profile = row if row.frontline is not None else None  # no profile row: no attribute matches
        tier = tier_of(profile, rules, departure.never_been_first, row.user_id in been)
        anon = lottery.anon_id_for(secret, row.id)
        applicants.append(lottery.Applicant(anon, tier))
        entries.append({"event_id": departure.event_id, "registration_id": row.id, "anon_id": anon, "tier": tier})
    insert_rows(TripLotteryEntry.__table__, entries)  # type: ignore[arg-type]
    departure.applicants_hash = lottery.applicants_hash(applicants)
    departure.algorithm_version = lottery.ALGORITHM_VERSION
    departure.frozen_at = now
    db.session.flush()
    audit.record(
        actor,
        "trip.freeze",
        "event",
        departure.event_id,
        {"applicants": len(applicants), "sha256": departure.applicants_hash},
        org=departure.event.organization,
    )
    return True


def set_public_value(actor: User, event_id: int, value: str, note: str = "", now: datetime | None = None) -> None:
    """The organizer enters the public value once, after the list is frozen (freezing it now if the window has
    closed), so nobody can pick a value knowing the list; it cannot be changed, and not after the draw. Audited
    (``trip.public_value``, with the value: it is public)."""
    now = now or clock.now()
    departure = get_managed_departure(actor, event_id)
    booking.lock_slot(slot_of(departure).id)
    db.session.refresh(departure)
    if departure.drawn_at is not None:
        raise AlreadyDrawn()
    if departure.public_value:
        raise LotteryNotReady(_("公开随机数一经录入不能修改。"))
    cleaned = lottery.normalise_public_value(value)
    if not cleaned or len(cleaned) > lottery.PUBLIC_VALUE_MAX:
        message = _("请填写公开随机数（1 到 64 个字符）。")
        raise InvalidInput(message, fields={"public_value": [message]})
    freeze(departure, now, actor)
    departure.public_value = cleaned
    departure.public_value_note = " ".join(note.split())[:120]
    departure.public_value_set_at = now
    db.session.flush()
    audit.record(
        actor, "trip.public_value", "event", departure.event_id, {"value": cleaned}, org=departure.event.organization
    )


@dataclass
class DrawResult:
    """What a draw decided, in rank order (rows with the registration's ``id`` and ``user_id``)."""

    confirmed: list[Any] = field(default_factory=list)
    waitlisted: list[Any] = field(default_factory=list)
    not_drawn: list[Any] = field(default_factory=list)
    skipped: list[Any] = field(default_factory=list)  # already holding a trip place this year: withdrawn
    withdrawn_elsewhere: int = 0


def _related_slot_ids(slot: Slot, year: int) -> set[int]:
    """Trip slots of the same year where this slot's pending applicants also have a pending/waitlisted
    application."""
    rows = db.session.scalars(
        select(Registration.slot_id)
        .join(Event, Event.id == Registration.event_id)
        .where(
            trips_of_year(year),
            Registration.status.in_([Status.PENDING, Status.WAITLISTED]),
            Registration.user_id.in_(pending_applicants(slot.id)),
        )
        .distinct()
    )
    return set(rows) | {slot.id}


# What withdrawing a winner's other applications reads of each registration: what ``transition_many`` needs.
_REGISTRATION_STATE = (
    Registration.id,
    Registration.user_id,
    Registration.status,
    Registration.gender,
    Registration.waitlisted_at,
    Registration.confirmed_at,
    Registration.offer_expires_at,
)


def _load_entries(event_id: int) -> Sequence[Any]:
    """The frozen list's entries (id as ``entry_id``, ``anon_id``, ``tier``) with their registrations' ``id`` and
    ``user_id`` and whether it is still ``pending`` (None when the registration is gone), as plain rows: twenty
    thousand ORM objects would cost more than the whole draw."""
    query = (
        select(
            TripLotteryEntry.id.label("entry_id"),
            TripLotteryEntry.anon_id,
            TripLotteryEntry.tier,
            Registration.id,
            Registration.user_id,
            (Registration.status == Status.PENDING).label("pending"),
        )
        .outerjoin(Registration, Registration.id == TripLotteryEntry.registration_id)
        .where(TripLotteryEntry.event_id == event_id)
    )
    return db.session.execute(query).all()


# Each outcome of the draw: the status it moves a pending application to, the history's reason, and whether
# the registration's priority becomes its rank (the waitlist's order).
_TRANSITIONS = (
    ("skipped", Status.CANCELLED, "lottery: already holds a trip place this year", False),
    ("confirmed", Status.CONFIRMED, "lottery: drawn", True),
    ("waitlisted", Status.WAITLISTED, "lottery: waitlisted", True),
    ("not_drawn", Status.REJECTED, "lottery: not drawn", False),
)


def draw_lottery(event_id: int, now: datetime | None = None, actor: User | None = None) -> DrawResult:
    """Draw a lottery departure once: after its window has closed and its public value is set. The frozen list
    is ranked (``trips.lottery``); walking the ranking, applicants take the seats unless they already hold a
    trip this year (skipped and withdrawn) or no longer apply; the rest are waitlisted in rank order (or not
    drawn when the departure keeps no waitlist). Winners' other pending/waitlisted trip applications that year
    are withdrawn. Everyone is told the result once the draw has committed (``announce_results``). A drawn
    departure raises AlreadyDrawn. Callers outside the scheduler check scope first.

    Every entry's rank and outcome is written by one statement; each outcome then moves its applications through
    the engine's set-wise path (``transition_all``, the outcome read from the entries), so a draw of 20,000
    applicants costs a handful of statements (bench/lottery.py). The draw is audited (``trip.draw``: counts per
    outcome; ``actor`` None when the scheduler draws)."""
    now = now or clock.now()
    departure = get_departure(event_id)
    event = departure.event
    slot = slot_of(departure)
    if slot.allocation != Allocation.LOTTERY:
        raise LotteryNotReady(_("该团期为先到先得，无需抽签。"))
    year = event.starts_at.year
    locked = {s.id: s for s in booking.lock_slots(_related_slot_ids(slot, year))}
    slot = locked[slot.id]
    db.session.refresh(departure)
    if departure.drawn_at is not None:
        raise AlreadyDrawn()
    if event.is_cancelled:
        raise LotteryNotReady(_("该团期已取消。"))
    if not _window_closed(slot, now):
        raise LotteryNotReady(_("报名截止后才能抽签。"))
    if not departure.public_value:
        raise LotteryNotReady(_("请先录入公开随机数。"))
    freeze(departure, now, actor)
    db.session.flush()
    ranking = lottery.rank(_load_entries(event.id), departure.public_value, departure.applicants_hash)
    result = _decide([entry for entry in ranking if entry.pending], slot, year, event.id)
    update_rows(
        TripLotteryEntry.__table__,  # type: ignore[arg-type]
        [entry.entry_id for entry in ranking],
        {"rank": range(1, len(ranking) + 1), "outcome": _entry_outcomes(ranking, result)},
    )
    # Joined to the entries rather than filtered by a subquery: the planner picks a good plan even before the
    # freshly written entries have statistics.
    decided = and_(
        Registration.status == Status.PENDING,
        TripLotteryEntry.registration_id == Registration.id,
        TripLotteryEntry.event_id == event.id,
    )
    for outcome, to, reason, ranked in _TRANSITIONS:
        if getattr(result, outcome):
            transition_all(
                slot,
                and_(decided, TripLotteryEntry.outcome == outcome),
                to,
                cause=Cause.LOTTERY,
                reason=reason,
                values={"priority": TripLotteryEntry.rank} if ranked else None,
                actor=actor,
            )
    result.withdrawn_elsewhere = _withdraw_other_applications(
        [row.user_id for row in result.confirmed if row.user_id],
        {i: s for i, s in locked.items() if i != slot.id},
        actor,
    )
    departure.drawn_at = now
    departure.drawn_by_id = actor.id if actor is not None else None
    db.session.flush()
    audit.record(
        actor,
        "trip.draw",
        "event",
        departure.event_id,
        {
            "confirmed": len(result.confirmed),
            "waitlisted": len(result.waitlisted),
            "not_drawn": len(result.not_drawn),
            "skipped": len(result.skipped),
            "withdrawn_elsewhere": result.withdrawn_elsewhere,
        },
        org=event.organization,
    )
    return result


def _decide(pending: list[Any], slot: Slot, year: int, event_id: int) -> DrawResult:
    """Walk the pending applicants in rank order: the first ones take the seats, except people who already hold
    a trip place this year (one trip a year, checked again with their rows locked: ``refuse_holders``); the rest
    wait in rank order, or are not drawn when the departure keeps no waitlist."""
    result = DrawResult()
    holders = applicants_holding_a_trip(slot.id, year, event_id)
    seats = slot.available
    queue = iter(pending)
    rest: list[Any] = []
    while len(result.confirmed) < seats:
        candidates = []
        for row in queue:
            if row.user_id in holders:
                result.skipped.append(row)
                continue
            candidates.append(row)
            if len(candidates) == seats - len(result.confirmed):
                break
        if not candidates:
            break
        refused = refuse_holders([row.user_id for row in candidates if row.user_id], year, event_id)
        for row in candidates:
            (result.skipped if row.user_id in refused else result.confirmed).append(row)
    for row in queue:
        if row.user_id in holders:
            result.skipped.append(row)
        else:
            rest.append(row)
    if slot.waitlist_policy != WaitlistPolicy.NONE:
        result.waitlisted = rest
    else:
        result.not_drawn = rest
    return result


def _entry_outcomes(ranking: Sequence[Any], result: DrawResult) -> list[str]:
    """Each ranked entry's outcome, in rank order: confirmed or skipped as decided, the other pending ones
    waitlisted (or not drawn), and "withdrawn" for those no longer pending."""
    decided = {row.id: "confirmed" for row in result.confirmed}
    decided.update((row.id, "skipped") for row in result.skipped)
    rest = "not_drawn" if result.not_drawn else "waitlisted"
    return [decided.get(entry.id, rest) if entry.pending else "withdrawn" for entry in ranking]


def _withdraw_other_applications(user_ids: list[int], other_slots: dict[int, Slot], actor: User | None) -> int:
    """Winning one departure withdraws the person's pending/waitlisted applications to the other (locked)
    departures of that year, set-wise per departure."""
    if not user_ids or not other_slots:
        return 0
    by_slot: dict[int, list[Any]] = {}
    for offset in range(0, len(user_ids), 900):
        for row in db.session.execute(
            select(Registration.slot_id, *_REGISTRATION_STATE)
            .where(
                Registration.user_id.in_(user_ids[offset : offset + 900]),
                Registration.slot_id.in_(sorted(other_slots)),
                Registration.status.in_([Status.PENDING, Status.WAITLISTED]),
            )
            .order_by(Registration.slot_id, Registration.id)
        ):
            by_slot.setdefault(row.slot_id, []).append(row)
    for slot_id, rows in by_slot.items():
        transition_many(
            rows,
            Status.CANCELLED,
            actor=actor,
            cause=Cause.WITHDRAWN,
            reason="withdrawn: won another departure this year",
            slot=other_slots[slot_id],
        )
    return sum(len(rows) for rows in by_slot.values())


def withdraw(registration: Registration, actor: User | None, reason: str) -> None:
    """A trip rule takes someone's application or place away (one trip a year, details not confirmed in
    time): cancelled on the organizer's side with the cause "withdrawn", so a freed seat goes to the waitlist."""
    booking.cancel(registration, actor=actor, reason=reason, by_organizer=True, cause=Cause.WITHDRAWN)


def draw_due(now: datetime) -> int:
    """Scheduler task: freeze lottery departures whose window has closed, draw those whose public value is
    set,
    and withdraw applications superseded by a place won elsewhere. Returns how many things it did."""
    done = 0
    due = db.session.execute(
        select(TripDeparture.event_id, TripDeparture.frozen_at, TripDeparture.public_value)
        .join(Slot, Slot.event_id == TripDeparture.event_id)
        .join(Event, Event.id == TripDeparture.event_id)
        .where(
            TripDeparture.drawn_at.is_(None),
            Slot.allocation == Allocation.LOTTERY,
            Event.cancelled_at.is_(None),
            Event.published.is_(True),
            func.coalesce(Slot.signup_closes_at, Event.signup_closes_at) <= now,
        )
        .order_by(TripDeparture.event_id)
    ).all()
    for event_id, frozen_at, public_value in due:
        try:
            with db.session.begin_nested():
                if public_value:
                    draw_lottery(event_id, now)
                    done += 1
                elif frozen_at is None:
                    departure = get_departure(event_id)
                    booking.lock_slot(slot_of(departure).id)
                    db.session.refresh(departure)
                    done += int(freeze(departure, now))
        except DomainError:
            continue
    return done + withdraw_superseded(now)


def withdraw_superseded(now: datetime) -> int:
    """Withdraw pending/waitlisted applications to departures not yet started whose applicant already holds a
    trip place in that calendar year (e.g. won by a first-come booking or an accepted offer elsewhere)."""
    held = aliased(Registration)
    held_event = aliased(Event)
    superseded = exists().where(
        held.user_id == Registration.user_id,
        held.status.in_(list(HOLDING)),
        held_event.id == held.event_id,
        held_event.kind == KIND,
        held_event.id != Event.id,
        extract("year", held_event.starts_at) == extract("year", Event.starts_at),
    )
    ids = db.session.scalars(
        select(Registration.id)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Event.kind == KIND,
            Event.starts_at > now,
            Registration.status.in_([Status.PENDING, Status.WAITLISTED]),
            superseded,
        )
        .order_by(Registration.slot_id, Registration.id)
    ).all()
    count = 0
    for registration_id in ids:
        registration = db.session.get(Registration, registration_id)
        if registration is None or registration.status not in (Status.PENDING, Status.WAITLISTED):
            continue
        withdraw(registration, None, "withdrawn: holds another trip place this year")
        count += 1
    return count


def draw_by_organizer(actor: User, event_id: int) -> DrawResult:
    """The organizer's button: the same draw as the scheduler's, for a departure in their subtree."""
    get_managed_departure(actor, event_id)
    return draw_lottery(event_id, clock.now(), actor)
