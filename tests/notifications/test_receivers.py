"""What each registration change enqueues, in the same transaction, on which channels."""

from __future__ import annotations

from datetime import timedelta

from blinker import signal

from app import clock
from app.booking import approval as booking_approval
from app.booking import offers as booking_offers
from app.booking import services as booking
from app.booking.models import Status
from app.events.models import Allocation
from app.extensions import db
from app.notifications import services
from app.outbox.models import OutboxStatus

from .. import factories
from .factories import book, freeze, outbox, person


def kinds(user):
    return sorted((row.kind, row.channel) for row in outbox(user) if row.status == OutboxStatus.PENDING)


def test_confirmation_and_two_reminders_on_inbox_and_email_by_default():
    now = freeze()
    user = person()
    event = factories.make_event(starts_in=timedelta(days=3))
    book(user, event)
    assert kinds(user) == sorted(
        [("booking_confirmed", "inbox"), ("booking_confirmed", "email")]
        + [("reminder", channel) for channel in ("inbox", "email") for _ in range(2)]
    )
    reminders = outbox(user, kind="reminder", channel="email")
    start = event.slots[0].starts_at
    assert [r.due_at for r in reminders] == [start - timedelta(hours=24), start - timedelta(hours=2)]
    assert all(r.expires_at == start for r in reminders)
    assert outbox(user, kind="booking_confirmed")[0].due_at == now


def test_no_email_without_an_address_and_channels_follow_preferences():
    no_email = factories.make_employee(email=None)
    event = factories.make_event(reminder_hours=[])
    book(no_email, event)
    assert kinds(no_email) == [("booking_confirmed", "inbox")]

    user = person()
    services.save_preferences(user, email=False, sms=True)
    db.session.commit()
    book(user, factories.make_event(reminder_hours=[]))
    assert kinds(user) == [("booking_confirmed", "inbox"), ("booking_confirmed", "sms")]


def test_essential_messages_always_reach_the_inbox_even_with_email_off():
    user = person()
    services.save_preferences(user, email=False, sms=False)
    db.session.commit()
    assert services.resolve_channels([(user, "booking_offer", True)]) == {(user.id, "booking_offer", True): ["inbox"]}


def test_cancelling_yourself_skips_reminders_without_a_notice_and_an_organizer_cancel_notifies():
    user, other = person(), person()
    organizer = factories.make_organizer()
    event = factories.make_event(starts_in=timedelta(days=3))
    mine, theirs = book(user, event), book(other, event)

    booking.cancel(mine, actor=user)
    db.session.commit()
    assert {r.status for r in outbox(user, kind="reminder")} == {OutboxStatus.SKIPPED}
    assert outbox(user, kind="booking_cancelled") == []

    booking.cancel(theirs, actor=organizer, reason="场地临时维修，活动改期", by_organizer=True)
    db.session.commit()
    [notice, _inbox] = sorted(outbox(other, kind="booking_cancelled"), key=lambda r: r.channel)
    assert notice.essential and notice.data["reason"] == "场地临时维修，活动改期"
    assert {r.status for r in outbox(other, kind="reminder")} == {OutboxStatus.SKIPPED}


def test_waitlist_offer_with_deadline_and_expiry_notice():
    freeze()
    first, second = person(), person()
    event = factories.make_event(capacity=1, reminder_hours=[])
    a = book(first, event)
    book(second, event)
    assert [r.kind for r in outbox(second, channel="inbox")] == ["booking_waitlisted"]

    booking.cancel(a, actor=first)
    db.session.commit()
    [offer] = outbox(second, kind="booking_offer", channel="inbox")
    deadline = clock.now() + timedelta(hours=event.slots[0].offer_hours)
    assert offer.essential and offer.expires_at == deadline and offer.data["deadline"] == deadline.isoformat()

    clock.set_now(deadline + timedelta(minutes=1))
    booking_offers.expire_offers()
    db.session.commit()
    assert [r.kind for r in outbox(second, channel="inbox")][-1] == "booking_offer_expired"
    assert {r.status for r in outbox(second, kind="booking_offer")} == {OutboxStatus.SKIPPED}


def test_approval_and_lottery_outcomes_are_essential_results():
    user = person()
    organizer = factories.make_organizer()
    event = factories.make_event(allocation=Allocation.APPROVAL, reminder_hours=[])
    registration = book(user, event)
    assert registration.status == Status.PENDING and outbox(user) == []
    booking_approval.approve(registration, actor=organizer)
    db.session.commit()
    [result] = outbox(user, kind="booking_result", channel="inbox")
    assert result.essential and result.data["outcome"] == "confirmed"


def test_reminder_hours_per_event_and_none_planned_in_the_past():
    freeze()
    user = person()
    book(user, factories.make_event(starts_in=timedelta(days=5), reminder_hours=[72, 1]))
    assert [r.data["hours"] for r in outbox(user, kind="reminder", channel="inbox")] == [72, 1]

    late = person()
    book(late, factories.make_event(starts_in=timedelta(hours=3)))
    assert [r.data["hours"] for r in outbox(late, kind="reminder", channel="inbox")] == [2]


def test_reminders_follow_the_event_when_its_time_changes():
    freeze()
    user = person()
    event = factories.make_event(starts_in=timedelta(days=3))
    book(user, event)
    slot = event.slots[0]
    slot.starts_at += timedelta(days=1)
    slot.ends_at += timedelta(days=1)
    event.starts_at, event.ends_at = slot.starts_at, slot.ends_at
    signal("event-times-changed").send(event)
    db.session.commit()

    pending = [r for r in outbox(user, kind="reminder", channel="inbox") if r.status == OutboxStatus.PENDING]
    assert [r.due_at for r in pending] == [slot.starts_at - timedelta(hours=24), slot.starts_at - timedelta(hours=2)]
    assert len([r for r in outbox(user, kind="reminder") if r.status == OutboxStatus.SKIPPED]) == 4

    # Moved back: the original reminders are planned again, and rescheduling twice changes nothing.
    slot.starts_at -= timedelta(days=1)
    slot.ends_at -= timedelta(days=1)
    assert services.reschedule_reminders(event) == 2
    assert services.reschedule_reminders(event) == 2
    db.session.commit()
    pending = [r for r in outbox(user, kind="reminder", channel="inbox") if r.status == OutboxStatus.PENDING]
    assert [r.due_at for r in pending] == [slot.starts_at - timedelta(hours=24), slot.starts_at - timedelta(hours=2)]


def test_enqueueing_happens_in_the_booking_transaction():
    user = person()
    event = factories.make_event()
    booking.book(user, event.slots[0].id)
    db.session.rollback()
    assert outbox(user) == []


def test_lottery_outcomes_are_left_to_the_lottery_feature_but_reminders_are_planned():
    from app.booking.changes import transition

    user = person()
    event = factories.make_event(allocation=Allocation.LOTTERY, starts_in=timedelta(days=5))
    registration = book(user, event)
    transition(registration, Status.CONFIRMED, actor=None, reason="lottery: drawn")
    db.session.commit()
    assert outbox(user, kind="booking_result") == []
    assert len(outbox(user, kind="reminder", channel="inbox")) == 2


def test_a_cancellation_by_the_system_sends_no_notice_of_its_own_but_skips_reminders():
    from app.booking.changes import transition

    user = person()
    registration = book(user, factories.make_event(starts_in=timedelta(days=3)))
    transition(registration, Status.CANCELLED, actor=None, reason="attendance details not confirmed")
    db.session.commit()
    assert outbox(user, kind="booking_cancelled") == []
    assert {r.status for r in outbox(user, kind="reminder")} == {OutboxStatus.SKIPPED}
