"""The booking engine's rules, through its services."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.booking import approval as booking_approval
from app.booking import checkin as booking_checkin
from app.booking import moves as booking_moves
from app.booking import offers as booking_offers
from app.booking import queries as booking_queries
from app.booking import services as booking
from app.booking.errors import (
    AlreadyRegistered,
    CancelDeadlinePassed,
    Full,
    IllegalTransition,
    NotEligible,
    OfferExpired,
    WindowClosed,
)
from app.booking.models import Registration, RegistrationHistory, Status
from app.events.models import Allocation, Slot, WaitlistPolicy
from app.extensions import db

from .. import factories


def _book(user, slot, **kw):
    registration = booking.book(user, slot.id, **kw)
    db.session.commit()
    return registration


def _waitlist_place(user, slot):
    """The place in the waitlist a booking's answer gives (``place_booking``'s result)."""
    booked = booking.place_booking(user, slot.id)
    db.session.commit()
    return booked.waitlist_place


def test_books_until_full_then_waitlists_in_order():
    event = factories.make_event(capacity=2)
    slot = event.slots[0]
    people = [factories.make_employee() for _ in range(4)]
    statuses = [_book(p, slot).status for p in people]
    assert statuses == [Status.CONFIRMED, Status.CONFIRMED, Status.WAITLISTED, Status.WAITLISTED]
    regs = booking_queries.my_registrations(people[3])
    assert booking_queries.waitlist_position(regs[0]) == 2
    db.session.refresh(slot)
    assert slot.taken == 2 and slot.available == 0


def test_full_without_waitlist_refused_and_nothing_written():
    event = factories.make_event(capacity=1, waitlist=WaitlistPolicy.NONE)
    slot = event.slots[0]
    _book(factories.make_employee(), slot)
    late = factories.make_employee()
    with pytest.raises(Full):
        booking.book(late, slot.id)
    db.session.rollback()
    assert booking_queries.my_registrations(late) == []


def test_one_registration_per_person_per_slot_and_event():
    event = factories.make_event(capacity=5, slots=2)
    person = factories.make_employee()
    _book(person, event.slots[0])
    with pytest.raises(AlreadyRegistered):
        booking.book(person, event.slots[0].id)
    # Refused before anything was written, even inside the same transaction: one seat taken, one registration.
    assert db.session.scalar(select(Slot.taken).where(Slot.id == event.slots[0].id)) == 1
    assert (
        db.session.scalar(select(func.count()).select_from(Registration).where(Registration.user_id == person.id)) == 1
    )
    db.session.rollback()
    with pytest.raises(AlreadyRegistered):
        booking.book(person, event.slots[1].id)


def test_a_full_slot_still_says_already_registered_and_gives_the_waitlist_place():
    event = factories.make_event(capacity=1, slots=2)
    full, other = event.slots
    holder, waiting, newcomer, elsewhere = (factories.make_employee() for _ in range(4))
    _book(holder, full)
    _book(elsewhere, other)  # both slots full: every check below takes the waitlist's path
    assert _waitlist_place(waiting, full) == 1
    assert _waitlist_place(newcomer, full) == 2
    for person, slot in ((holder, full), (waiting, full), (newcomer, other)):
        with pytest.raises(AlreadyRegistered):
            booking.book(person, slot.id)
        db.session.rollback()


def test_cancel_offers_seat_to_next_and_offer_can_be_accepted():
    event = factories.make_event(capacity=1)
    slot = event.slots[0]
    first, second = factories.make_employee(), factories.make_employee()
    a = _book(first, slot)
    b = _book(second, slot)
    booking.cancel(a, actor=first)
    db.session.commit()
    db.session.refresh(b)
    assert b.status == Status.OFFERED and b.offer_expires_at is not None
    booking_offers.accept_offer(b, actor=second)
    db.session.commit()
    assert b.status == Status.CONFIRMED and b.from_waitlist
    db.session.refresh(slot)
    assert slot.taken == 1


def test_expired_offer_passes_to_next_person():
    event = factories.make_event(capacity=1)
    slot = event.slots[0]
    people = [factories.make_employee() for _ in range(3)]
    regs = [_book(p, slot) for p in people]
    booking.cancel(regs[0], actor=people[0])
    db.session.commit()
    clock.set_now(clock.now() + timedelta(hours=25))
    assert booking_offers.expire_offers() == 1
    db.session.commit()
    db.session.refresh(regs[1])
    db.session.refresh(regs[2])
    assert regs[1].status == Status.EXPIRED
    assert regs[2].status == Status.OFFERED


def test_late_acceptance_refused_and_passed_on():
    event = factories.make_event(capacity=1)
    slot = event.slots[0]
    people = [factories.make_employee() for _ in range(3)]
    regs = [_book(p, slot) for p in people]
    booking.cancel(regs[0], actor=people[0])
    db.session.commit()
    clock.set_now(clock.now() + timedelta(hours=30))
    with pytest.raises(OfferExpired):
        booking_offers.accept_offer(regs[1], actor=people[1])
    db.session.commit()
    db.session.refresh(regs[2])
    assert regs[2].status == Status.OFFERED


def test_auto_waitlist_confirms_directly():
    event = factories.make_event(capacity=1, waitlist=WaitlistPolicy.AUTO)
    slot = event.slots[0]
    a, b = factories.make_employee(), factories.make_employee()
    ra, rb = _book(a, slot), _book(b, slot)
    booking.cancel(ra, actor=a)
    db.session.commit()
    db.session.refresh(rb)
    assert rb.status == Status.CONFIRMED


def test_gender_quota_waitlists_one_side_while_other_books():
    event = factories.make_event(capacity=4, quota_female=2, quota_male=2)
    slot = event.slots[0]
    women = [factories.make_employee(gender="female") for _ in range(3)]
    man = factories.make_employee(gender="male")
    assert [_book(w, slot).status for w in women] == [Status.CONFIRMED, Status.CONFIRMED, Status.WAITLISTED]
    assert _book(man, slot).status == Status.CONFIRMED


def test_freed_male_seat_skips_waitlisted_woman_when_her_quota_is_full():
    event = factories.make_event(capacity=2, quota_female=1, quota_male=1)
    slot = event.slots[0]
    w1, w2, m1, m2 = (
        factories.make_employee(gender="female"),
        factories.make_employee(gender="female"),
        factories.make_employee(gender="male"),
        factories.make_employee(gender="male"),
    )
    _book(w1, slot)
    rw2 = _book(w2, slot)
    rm1 = _book(m1, slot)
    rm2 = _book(m2, slot)
    booking.cancel(rm1, actor=m1)
    db.session.commit()
    db.session.refresh(rw2)
    db.session.refresh(rm2)
    assert rw2.status == Status.WAITLISTED
    assert rm2.status == Status.OFFERED


def test_cancel_after_deadline_refused_with_reason():
    event = factories.make_event(capacity=3, cancel_deadline=clock.now() + timedelta(days=1))
    person = factories.make_employee()
    reg = _book(person, event.slots[0])
    clock.set_now(clock.now() + timedelta(days=2))
    with pytest.raises(CancelDeadlinePassed) as error:
        booking.cancel(reg, actor=person)
    assert "取消截止" in error.value.message


def test_eligibility_explained_age_and_frontline():
    event = factories.make_event(min_age=22, max_age=40, frontline_only=True)
    old_office_worker = factories.make_employee(age=45, frontline=False)
    reasons = booking.eligibility_reasons(old_office_worker, event)
    assert len(reasons) == 2
    assert any("40" in r for r in reasons) and any("一线" in r for r in reasons)
    with pytest.raises(NotEligible):
        booking.book(old_office_worker, event.slots[0].id)


def test_signup_window_enforced():
    event = factories.make_event(signup_open=False)
    with pytest.raises(WindowClosed):
        booking.book(factories.make_employee(), event.slots[0].id)


def test_approval_flow():
    event = factories.make_event(capacity=1, allocation=Allocation.APPROVAL)
    organizer = factories.make_organizer()
    a, b = factories.make_employee(), factories.make_employee()
    ra, rb = _book(a, event.slots[0]), _book(b, event.slots[0])
    assert ra.status == Status.PENDING
    assert booking_approval.approve(ra, actor=organizer) == Status.CONFIRMED
    assert booking_approval.approve(rb, actor=organizer) == Status.WAITLISTED
    booking_approval.reject(rb, actor=organizer, reason="名额已满")
    db.session.commit()
    assert rb.status == Status.REJECTED


def test_every_transition_writes_history_and_illegal_ones_refused():
    event = factories.make_event(capacity=1)
    person = factories.make_employee()
    reg = _book(person, event.slots[0])
    booking.cancel(reg, actor=person)
    db.session.commit()
    with pytest.raises(IllegalTransition):
        booking.cancel(reg, actor=person)
    db.session.rollback()
    rows = db.session.scalars(
        db.select(RegistrationHistory)
        .where(RegistrationHistory.registration_id == reg.id)
        .order_by(RegistrationHistory.id)
    ).all()
    assert [(r.from_status, r.to_status) for r in rows] == [
        (None, Status.CONFIRMED),
        (Status.CONFIRMED, Status.CANCELLED),
    ]
    assert all(r.actor_id == person.id for r in rows)


def test_move_is_atomic_and_refused_when_target_full():
    event = factories.make_event(capacity=1, slots=2)
    a, b = factories.make_employee(), factories.make_employee()
    ra = _book(a, event.slots[0])
    _book(b, event.slots[1])
    with pytest.raises(Full):
        booking_moves.move(ra, event.slots[1].id, actor=a)
    db.session.rollback()
    db.session.refresh(ra)
    assert ra.slot_id == event.slots[0].id and ra.status == Status.CONFIRMED


def test_ticket_codes_are_long_and_distinct():
    event = factories.make_event(capacity=50)
    codes = {_book(factories.make_employee(), event.slots[0]).ticket_code for _ in range(20)}
    assert len(codes) == 20 and all(len(c) >= 22 for c in codes)


def test_check_in_is_idempotent_and_undoable():
    event = factories.make_event(capacity=1)
    organizer = factories.make_organizer()
    reg = _book(factories.make_employee(), event.slots[0])
    assert booking_checkin.check_in(reg, actor=organizer) is True
    assert booking_checkin.check_in(reg, actor=organizer) is False
    booking_checkin.undo_check_in(reg, actor=organizer)
    db.session.commit()
    assert reg.status == Status.CONFIRMED and db.session.get(Registration, reg.id).checked_in_at is None


def test_transition_many_writes_the_same_rows_as_one_by_one():
    from app.booking.changes import transition_many

    event = factories.make_event(capacity=1, allocation=Allocation.LOTTERY)
    slot = event.slots[0]
    people = [factories.make_employee() for _ in range(3)]
    regs = [_book(p, slot) for p in people]
    organizer = factories.make_organizer()
    transition_many(regs, Status.WAITLISTED, actor=organizer, reason="lottery: waitlisted", slot=slot)
    db.session.commit()
    db.session.expire_all()
    assert [db.session.get(Registration, r.id).status for r in regs] == [Status.WAITLISTED] * 3
    assert all(db.session.get(Registration, r.id).waitlisted_at is not None for r in regs)
    rows = db.session.scalars(
        db.select(RegistrationHistory).where(RegistrationHistory.to_status == Status.WAITLISTED)
    ).all()
    assert len(rows) == 3 and {r.actor_id for r in rows} == {organizer.id}
    with pytest.raises(IllegalTransition):
        transition_many(regs, Status.ATTENDED, actor=organizer, reason="x", slot=slot)


def _counters_match_registrations(slot) -> tuple[int, int]:
    """The slot's stored counters against the registrations they count: (stored, counted) waiting people, after
    checking that the stored seats are the counted ones."""
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Slot, slot.id)
    holding = db.session.scalar(
        select(func.count()).where(
            Registration.slot_id == slot.id,
            Registration.status.in_([Status.CONFIRMED, Status.OFFERED, Status.ATTENDED, Status.NO_SHOW]),
        )
    )
    assert stored.taken == holding
    waiting = db.session.scalar(
        select(func.count()).where(Registration.slot_id == slot.id, Registration.status == Status.WAITLISTED)
    )
    return stored.waitlisted, waiting


def test_the_waitlist_counter_follows_every_way_in_and_out_of_the_waitlist():
    from app.booking.changes import transition_all, transition_many

    start = clock.now()
    organizer = factories.make_organizer()
    event = factories.make_event(capacity=1)
    slot = event.slots[0]
    holder = _book(factories.make_employee(), slot)
    booked = [booking.place_booking(factories.make_employee(), slot.id) for _ in range(5)]
    db.session.commit()
    assert [b.waitlist_place for b in booked] == [1, 2, 3, 4, 5]
    waiting = [b.registration for b in booked]
    assert _counters_match_registrations(slot) == (5, 5)
    booking.cancel(holder, actor=holder.user)  # the first waiting person is offered the seat
    assert _counters_match_registrations(slot) == (4, 4)
    booking_offers.decline_offer(db.session.get(Registration, waiting[0].id), actor=waiting[0].user)  # passed on
    assert _counters_match_registrations(slot) == (3, 3)
    clock.set_now(clock.now() + timedelta(days=2))
    booking_offers.expire_offers()  # the second one's offer lapses: the third is offered
    assert _counters_match_registrations(slot) == (2, 2)
    booking_approval.reject(db.session.get(Registration, waiting[3].id), actor=organizer, reason="名额已满")
    assert _counters_match_registrations(slot) == (1, 1)
    booking.cancel(db.session.get(Registration, waiting[4].id), actor=waiting[4].user)
    assert _counters_match_registrations(slot) == (0, 0)
    clock.set_now(start)

    lottery = factories.make_event(capacity=1, allocation=Allocation.LOTTERY).slots[0]
    applicants = [_book(factories.make_employee(), lottery) for _ in range(4)]
    transition_many(applicants[:2], Status.WAITLISTED, actor=organizer, reason="lottery: waitlisted", slot=lottery)
    assert _counters_match_registrations(lottery) == (2, 2)
    transition_all(lottery, Registration.status == Status.PENDING, Status.WAITLISTED, actor=organizer, reason="lottery")
    assert _counters_match_registrations(lottery) == (4, 4)
    booking_approval.promote(db.session.get(Registration, applicants[0].id), actor=organizer)
    assert _counters_match_registrations(lottery) == (3, 3)


def test_a_full_waitlist_refuses_and_a_person_already_there_is_told_so():
    event = factories.make_event(capacity=1, commit=False)
    event.slots[0].max_waitlist = 1
    db.session.commit()
    slot = event.slots[0]
    _book(factories.make_employee(), slot)
    waiting_person = factories.make_employee()
    assert _book(waiting_person, slot).status == Status.WAITLISTED
    with pytest.raises(Full):
        booking.book(factories.make_employee(), slot.id)
    db.session.rollback()
    with pytest.raises(AlreadyRegistered):
        booking.book(waiting_person, slot.id)
    db.session.rollback()
    assert _counters_match_registrations(slot) == (1, 1)
