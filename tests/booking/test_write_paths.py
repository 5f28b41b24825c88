"""Every write path of the engine writes exactly what ``states.plan`` decides: the registration's columns
(status, active flag, first-time stamps, offer deadline, ``checked_in_at``), the slot's counters and the history
row with its typed cause. Each path is driven through the service people use, then compared with the plan the
pure function gives for the same move."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from app import clock
from app.accounts.models import Gender
from app.booking import approval as booking_approval
from app.booking import checkin as booking_checkin
from app.booking import moves as booking_moves
from app.booking import offers as booking_offers
from app.booking import services as booking
from app.booking.changes import transition_all, transition_many
from app.booking.models import Cause, Registration, RegistrationHistory, Status
from app.booking.states import COUNTERS, FirstTime, plan, plan_move
from app.events.models import Allocation, Slot
from app.extensions import db

from .. import factories

NOW = datetime(2026, 6, 10, 9, 30)


@pytest.fixture(autouse=True)
def _frozen_clock():
    clock.set_now(NOW)
    yield
    clock.set_now(None)


def _row(registration_id: int) -> dict[str, Any]:
    return dict(
        db.session.execute(select(Registration.__table__).where(Registration.id == registration_id)).one()._mapping
    )


def _counters(slot_id: int) -> dict[str, int]:
    row = db.session.execute(select(*(Slot.__table__.c[name] for name in COUNTERS)).where(Slot.id == slot_id)).one()
    return dict(row._mapping)


def _last_history(registration_id: int) -> RegistrationHistory:
    return db.session.scalars(
        select(RegistrationHistory)
        .where(RegistrationHistory.registration_id == registration_id)
        .order_by(RegistrationHistory.id.desc())
        .limit(1)
    ).one()


class Watch:
    """The stored state of one registration and its slot before a change, to compare with after."""

    def __init__(self, registration_id: int, *slot_ids: int) -> None:
        db.session.commit()
        self.registration_id = registration_id
        self.before = _row(registration_id)
        self.counters = {slot_id: _counters(slot_id) for slot_id in slot_ids or (self.before["slot_id"],)}

    def follows_plan(self, to: Status, cause: Cause, actor_id: int | None, reason: str, **kwargs: Any) -> None:
        db.session.commit()
        expected = plan(
            self.before["status"],
            to,
            gender=self.before["gender"],
            cause=cause,
            actor_id=actor_id,
            now=NOW,
            reason=reason,
            **kwargs,
        )
        after = _row(self.registration_id)
        for key, value in expected.columns.items():
            wanted = value.resolve(self.before[key]) if isinstance(value, FirstTime) else value
            assert after[key] == wanted, key
        untouched = set(self.before) - set(expected.columns) - {"from_waitlist", "slot_id", "priority"}
        assert {key: after[key] for key in untouched} == {key: self.before[key] for key in untouched}
        history = _last_history(self.registration_id)
        assert (
            history.from_status,
            history.to_status,
            history.cause,
            history.actor_id,
            history.reason,
            history.at,
        ) == (
            expected.history.from_status,
            expected.history.to_status,
            expected.history.cause,
            expected.history.actor_id,
            expected.history.reason,
            expected.history.at,
        )
        (slot_id,) = self.counters
        counters = _counters(slot_id)
        assert counters == expected.counters.applied_to(self.counters[slot_id])


def _holder(slot: Slot, gender: Gender = Gender.FEMALE) -> Registration:
    registration = booking.book(factories.make_employee(gender=gender), slot.id)
    db.session.commit()
    return registration


def test_a_booking_writes_its_planned_row_history_and_counters():
    event = factories.make_event(capacity=1)
    slot = event.slots[0]
    before = _counters(slot.id)
    person = factories.make_employee(gender=Gender.MALE)
    booked = booking.place_booking(person, slot.id)
    db.session.commit()
    expected = plan(
        None, Status.CONFIRMED, gender=Gender.MALE, cause=Cause.BOOKED, actor_id=person.id, now=NOW, reason="booked"
    )
    row = _row(booked.id)
    assert (row["status"], row["is_active"], row["confirmed_at"], row["waitlisted_at"], row["checked_in_at"]) == (
        Status.CONFIRMED,
        True,
        NOW,
        None,
        None,
    )
    assert _counters(slot.id) == expected.counters.applied_to(before) == {**before, "taken": 1, "taken_male": 1}
    history = _last_history(booked.id)
    assert (history.from_status, history.to_status, history.cause) == (None, Status.CONFIRMED, Cause.BOOKED)
    waiting = booking.place_booking(factories.make_employee(), slot.id)
    db.session.commit()
    assert (waiting.status, waiting.waitlist_place, _row(waiting.id)["waitlisted_at"]) == (Status.WAITLISTED, 1, NOW)
    assert _counters(slot.id)["waitlisted"] == 1


def test_an_application_for_approval_is_pending_and_takes_nothing():
    event = factories.make_event(capacity=1, allocation=Allocation.APPROVAL)
    slot = event.slots[0]
    booked = booking.place_booking(factories.make_employee(), slot.id)
    db.session.commit()
    assert _row(booked.id)["status"] == Status.PENDING
    assert _counters(slot.id) == {"taken": 0, "taken_female": 0, "taken_male": 0, "waitlisted": 0}
    assert _last_history(booked.id).cause == Cause.BOOKED


def test_check_in_its_undoing_and_no_show_set_and_clear_checked_in_at():
    organizer = factories.make_organizer()
    event = factories.make_event(capacity=2)
    registration = _holder(event.slots[0])
    watch = Watch(registration.id)
    booking_checkin.check_in(registration, actor=organizer)
    watch.follows_plan(Status.ATTENDED, Cause.CHECKED_IN, organizer.id, "checked in")
    assert _row(registration.id)["checked_in_at"] == NOW
    watch = Watch(registration.id)
    booking_checkin.undo_check_in(registration, actor=organizer)
    watch.follows_plan(Status.CONFIRMED, Cause.CHECK_IN_UNDONE, organizer.id, "check-in undone")
    assert _row(registration.id)["checked_in_at"] is None
    watch = Watch(registration.id)
    clock.set_now(event.starts_at + timedelta(hours=1))  # no-shows are marked once the event has started
    booking_checkin.mark_no_shows(event, actor=organizer)
    db.session.commit()
    history = _last_history(registration.id)
    assert (history.to_status, history.cause, _row(registration.id)["checked_in_at"]) == (
        Status.NO_SHOW,
        Cause.NO_SHOW,
        None,
    )
    assert _counters(event.slots[0].id) == watch.counters[event.slots[0].id]  # a no-show keeps the seat


def test_cancel_decline_accept_and_expiry_follow_their_plans():
    event = factories.make_event(capacity=1)
    slot = event.slots[0]
    holder = _holder(slot)
    waiting = _holder(slot, Gender.MALE)
    next_waiting = _holder(slot)
    watch = Watch(holder.id)
    offered_before = Watch(waiting.id)
    booking.cancel(holder, actor=holder.user)
    db.session.commit()
    cancelled = plan(
        Status.CONFIRMED,
        Status.CANCELLED,
        gender=Gender.FEMALE,
        cause=Cause.CANCELLED,
        actor_id=holder.user_id,
        now=NOW,
        reason="cancelled",
    )
    offered = plan(
        Status.WAITLISTED,
        Status.OFFERED,
        gender=Gender.MALE,
        cause=Cause.SEAT_FREED,
        actor_id=holder.user_id,
        now=NOW,
        reason="seat freed",
        offer_expires_at=NOW + timedelta(hours=slot.offer_hours),
    )
    assert _counters(slot.id) == (cancelled.counters + offered.counters).applied_to(watch.counters[slot.id])
    assert _row(holder.id)["status"] == Status.CANCELLED
    offer_row = _row(waiting.id)
    assert (offer_row["status"], offer_row["offer_expires_at"], offer_row["from_waitlist"]) == (
        Status.OFFERED,
        NOW + timedelta(hours=slot.offer_hours),
        True,
    )
    assert offer_row["waitlisted_at"] == offered_before.before["waitlisted_at"]  # the first time is kept
    assert _last_history(waiting.id).cause == Cause.SEAT_FREED
    watch = Watch(waiting.id)
    booking_offers.accept_offer(waiting, actor=waiting.user)
    watch.follows_plan(Status.CONFIRMED, Cause.OFFER_ACCEPTED, waiting.user_id, "offer accepted")
    # The next one: offered when the accepted seat is cancelled again, then declines.
    booking.cancel(waiting, actor=waiting.user)
    db.session.commit()
    watch = Watch(next_waiting.id)
    booking_offers.decline_offer(next_waiting, actor=next_waiting.user)
    watch.follows_plan(Status.CANCELLED, Cause.OFFER_DECLINED, next_waiting.user_id, "offer declined")


def test_an_expired_offer_follows_its_plan():
    event = factories.make_event(capacity=1)
    slot = event.slots[0]
    holder = _holder(slot)
    waiting = _holder(slot)
    booking.cancel(holder, actor=holder.user)
    db.session.commit()
    clock.set_now(NOW + timedelta(hours=slot.offer_hours + 1))
    watch = Watch(waiting.id)
    assert booking_offers.expire_offers() == 1
    db.session.commit()
    history = _last_history(waiting.id)
    assert (history.from_status, history.to_status, history.cause, history.actor_id) == (
        Status.OFFERED,
        Status.EXPIRED,
        Cause.OFFER_EXPIRED,
        None,
    )
    assert _row(waiting.id)["offer_expires_at"] is None
    assert _counters(slot.id)["taken"] == watch.counters[slot.id]["taken"] - 1


def test_approve_reject_and_promote_follow_their_plans():
    organizer = factories.make_organizer()
    event = factories.make_event(capacity=1, allocation=Allocation.APPROVAL)
    slot = event.slots[0]
    first, second, third = (booking.book(factories.make_employee(), slot.id) for _ in range(3))
    watch = Watch(first.id)
    booking_approval.approve(first, actor=organizer)
    watch.follows_plan(Status.CONFIRMED, Cause.APPROVED, organizer.id, "approved")
    watch = Watch(second.id)
    booking_approval.approve(second, actor=organizer)  # full: waits
    watch.follows_plan(Status.WAITLISTED, Cause.APPROVED, organizer.id, "approved, full")
    watch = Watch(third.id)
    booking_approval.reject(third, actor=organizer, reason="不属于本单位")
    watch.follows_plan(Status.REJECTED, Cause.REJECTED, organizer.id, "不属于本单位")
    booking.resize_slot(slot.id, 2, actor=organizer)  # a larger slot serves its waitlist at once (an offer)
    db.session.commit()
    assert _row(second.id)["status"] == Status.OFFERED


def test_promote_follows_its_plan_and_marks_the_seat_as_from_the_waitlist():
    organizer = factories.make_organizer()
    event = factories.make_event(capacity=1, allocation=Allocation.APPROVAL)
    slot = event.slots[0]
    first, second = (booking.book(factories.make_employee(), slot.id) for _ in range(2))
    booking_approval.approve(first, actor=organizer)
    booking_approval.approve(second, actor=organizer)  # full: waits
    db.session.execute(update(Slot).where(Slot.id == slot.id).values(capacity=2))  # a seat appears, unserved
    watch = Watch(second.id)
    booking_approval.promote(second, actor=organizer)
    watch.follows_plan(Status.CONFIRMED, Cause.PROMOTED, organizer.id, "promoted")
    assert _row(second.id)["from_waitlist"] is True


def test_a_move_writes_one_history_row_and_both_slots_counters():
    event = factories.make_event(capacity=2, slots=2)
    source, target = event.slots
    registration = _holder(source, Gender.MALE)
    before = {slot.id: _counters(slot.id) for slot in (source, target)}
    booking_moves.move(registration, target.id, actor=registration.user)
    db.session.commit()
    row = _row(registration.id)
    assert (row["slot_id"], row["status"]) == (target.id, Status.CONFIRMED)
    assert _counters(source.id) == {**before[source.id], "taken": 0, "taken_male": 0}
    assert _counters(target.id) == {**before[target.id], "taken": 1, "taken_male": 1}
    expected = plan_move(
        Status.CONFIRMED,
        gender=Gender.MALE,
        actor_id=registration.user_id,
        now=NOW,
        reason=f"moved from slot {source.id} to slot {target.id}",
    )
    assert _counters(source.id) == expected.source_counters.applied_to(before[source.id])
    assert _counters(target.id) == expected.target_counters.applied_to(before[target.id])
    history = _last_history(registration.id)
    assert (history.from_status, history.to_status, history.cause, history.actor_id, history.reason) == (
        expected.plan.history.from_status,
        expected.plan.history.to_status,
        Cause.MOVED,
        expected.plan.history.actor_id,
        expected.plan.history.reason,
    )


def test_set_wise_changes_follow_the_same_plan_as_single_ones():
    organizer = factories.make_organizer()
    event = factories.make_event(capacity=3, allocation=Allocation.APPROVAL)
    slot = booking.lock_slot(event.slots[0].id)
    women = [booking.book(factories.make_employee(), slot.id) for _ in range(2)]
    men = [booking.book(factories.make_employee(gender=Gender.MALE), slot.id) for _ in range(2)]
    db.session.commit()
    before = _counters(slot.id)
    slot = booking.lock_slot(slot.id)
    transition_many(
        women, Status.CONFIRMED, actor=organizer, cause=Cause.APPROVED, reason="approved together", slot=slot
    )
    changes = transition_all(
        slot,
        Registration.status == Status.PENDING,
        Status.WAITLISTED,
        actor=organizer,
        reason="wait",
        cause=Cause.APPROVED,
    )
    db.session.commit()
    assert len(changes) == 2
    confirmed = plan(
        Status.PENDING,
        Status.CONFIRMED,
        gender=Gender.FEMALE,
        cause=Cause.APPROVED,
        actor_id=organizer.id,
        now=NOW,
        reason="",
    )
    waiting = plan(
        Status.PENDING,
        Status.WAITLISTED,
        gender=Gender.MALE,
        cause=Cause.APPROVED,
        actor_id=organizer.id,
        now=NOW,
        reason="",
    )
    total = confirmed.counters.times(2) + waiting.counters.times(2)
    assert _counters(slot.id) == total.applied_to(before)
    for registration in women:
        row = _row(registration.id)
        assert (row["status"], row["confirmed_at"], row["is_active"]) == (Status.CONFIRMED, NOW, True)
        history = _last_history(registration.id)
        assert (history.cause, history.reason, history.actor_id) == (Cause.APPROVED, "approved together", organizer.id)
    for registration in men:
        row = _row(registration.id)
        assert (row["status"], row["waitlisted_at"], row["is_active"]) == (Status.WAITLISTED, NOW, True)
        assert _last_history(registration.id).cause == Cause.APPROVED


def test_the_plan_refuses_what_the_state_machine_does_not_allow():
    from app.booking.states import IllegalMove

    with pytest.raises(IllegalMove):
        plan(Status.CANCELLED, Status.CONFIRMED, gender=None, cause=Cause.MANUAL, actor_id=None, now=NOW)
    with pytest.raises(IllegalMove):  # a seat keeps its status only when it moves slots (``plan_move``)
        plan(Status.CONFIRMED, Status.CONFIRMED, gender=None, cause=Cause.MOVED, actor_id=None, now=NOW)
    with pytest.raises(IllegalMove):  # only a confirmed seat moves
        plan_move(Status.OFFERED, gender=None, actor_id=None, now=NOW, reason="")
