"""Set-wise transitions (``transition_many``, ``transition_all``): the same rules, counters, history and
messages as one ``transition`` per registration, in a few statements."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.booking import approval as booking_approval
from app.booking import services as booking
from app.booking.changes import transition_all, transition_many
from app.booking.errors import IllegalTransition
from app.booking.models import Registration, RegistrationHistory, Status
from app.events.models import Allocation, Slot
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.stats.models import StatsDirty

from .. import factories


def _pending(count: int, capacity: int) -> tuple[Slot, list[Registration], object]:
    event = factories.make_event(capacity=capacity, allocation=Allocation.APPROVAL)
    slot = event.slots[0]
    registrations = [booking.book(factories.make_employee(), slot.id) for _ in range(count)]
    db.session.commit()
    return slot, registrations, factories.make_organizer()


def _statuses(registrations: list[Registration]) -> list[Status]:
    return [db.session.get(Registration, r.id, populate_existing=True).status for r in registrations]


def test_transition_all_moves_every_matching_row_with_counters_history_and_messages():
    slot, registrations, organizer = _pending(4, capacity=10)
    chosen = registrations[:3]
    changes = transition_all(
        booking.lock_slot(slot.id),
        Registration.id.in_([r.id for r in chosen]),
        Status.CONFIRMED,
        actor=organizer,
        reason="approved together",
    )
    db.session.commit()

    assert sorted(c.registration_id for c in changes) == sorted(r.id for r in chosen)
    assert _statuses(registrations) == [Status.CONFIRMED] * 3 + [Status.PENDING]
    assert db.session.get(Slot, slot.id, populate_existing=True).taken == 3
    history = db.session.scalars(
        select(RegistrationHistory).where(RegistrationHistory.reason == "approved together")
    ).all()
    assert sorted(h.registration_id for h in history) == sorted(r.id for r in chosen)
    assert {(h.from_status, h.to_status, h.actor_id) for h in history} == {
        (Status.PENDING, Status.CONFIRMED, organizer.id)
    }
    # Each person is told, as a single approval would tell them, and gets their reminders.
    results = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "booking_result", OutboxMessage.channel == "inbox")
    ).all()
    assert sorted(m.user_id for m in results) == sorted(r.user_id for r in chosen)
    assert all(m.data["outcome"] == "confirmed" for m in results)
    reminders = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder")).all()
    assert {m.user_id for m in reminders} == {r.user_id for r in chosen}
    # The statistics hear about the event once.
    assert db.session.scalar(select(func.count()).select_from(StatsDirty).where(StatsDirty.event_id == slot.event_id))


def test_set_wise_transitions_refuse_an_illegal_move_and_change_nothing():
    slot, registrations, organizer = _pending(2, capacity=10)
    for registration in registrations:
        booking_approval.reject(registration, actor=organizer, reason="名额已满")
    db.session.commit()
    with pytest.raises(IllegalTransition):
        transition_all(
            booking.lock_slot(slot.id), Registration.slot_id == slot.id, Status.CONFIRMED, actor=organizer, reason="x"
        )
    db.session.rollback()
    rows = db.session.scalars(select(Registration).where(Registration.slot_id == slot.id)).all()
    with pytest.raises(IllegalTransition):
        transition_many(rows, Status.CONFIRMED, actor=organizer, reason="x", slot=booking.lock_slot(slot.id))
    db.session.rollback()
    assert _statuses(registrations) == [Status.REJECTED, Status.REJECTED]
    assert db.session.get(Slot, slot.id, populate_existing=True).taken == 0


def test_transition_all_from_several_statuses_writes_one_history_row_per_change_in_id_order():
    slot, registrations, organizer = _pending(5, capacity=2)
    slot = booking.lock_slot(slot.id)
    transition_many(registrations[:2], Status.WAITLISTED, actor=organizer, reason="full", slot=slot)
    db.session.commit()
    before = db.session.get(Slot, slot.id, populate_existing=True).waitlisted
    changes = transition_all(
        booking.lock_slot(slot.id),
        Registration.id.in_([r.id for r in registrations[1:]]),
        Status.REJECTED,
        actor=organizer,
        reason="closed",
        values={"priority": Registration.id * 10},
    )
    db.session.commit()

    assert [c.registration_id for c in changes] == sorted(r.id for r in registrations[1:])
    assert [c.from_status for c in changes] == [Status.WAITLISTED] + [Status.PENDING] * 3
    assert [c.user_id for c in changes] == [r.user_id for r in registrations[1:]]
    assert _statuses(registrations) == [Status.WAITLISTED] + [Status.REJECTED] * 4
    assert [db.session.get(Registration, r.id).priority for r in registrations[1:]] == [
        r.id * 10 for r in registrations[1:]
    ]
    assert db.session.get(Slot, slot.id, populate_existing=True).waitlisted == before - 1
    history = db.session.scalars(select(RegistrationHistory).where(RegistrationHistory.reason == "closed")).all()
    assert sorted((h.registration_id, h.from_status, h.to_status, h.actor_id) for h in history) == [
        (c.registration_id, c.from_status, Status.REJECTED, organizer.id) for c in changes
    ]
