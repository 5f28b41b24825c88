"""Builders for the privacy tests: a kind that needs the mixer consent, and a person with a booking history."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from app import clock
from app.accounts.consents import MIXER_SIGNUP
from app.accounts.models import User
from app.booking import checkin as booking_checkin
from app.booking import services as booking
from app.booking.models import Registration
from app.events import kinds
from app.events.kinds import KindPolicy
from app.extensions import db

from .. import factories

CONSENT_KIND = "privacy_consent_test"


class ConsentKind(KindPolicy):
    kind = CONSENT_KIND
    consents = (MIXER_SIGNUP,)


@contextmanager
def consent_kind() -> Iterator[str]:
    """A kind whose bookings need the mixer consent, registered for one test only."""
    kinds.register_kind(ConsentKind())
    try:
        yield CONSENT_KIND
    finally:
        kinds._registry.pop(CONSENT_KIND, None)


def book(user: User, event, **kw) -> Registration:  # type: ignore[no-untyped-def]
    registration = booking.book(user, event.slots[0].id, **kw)
    db.session.commit()
    return registration


def past_history(user: User, organizer: User) -> list[Registration]:
    """Freeze the clock, give ``user`` an attended event, a no-show and a cancelled booking, then move the
    clock 30 days on so all three events are in the past."""
    start = clock.now().replace(second=0)
    clock.set_now(start)
    attended_event = factories.make_event(title="赣州职工健步走", capacity=5)
    missed_event = factories.make_event(title="九江职工读书会", capacity=5, starts_in=timedelta(days=8))
    cancelled_event = factories.make_event(title="南昌职工乒乓球赛", capacity=5, starts_in=timedelta(days=9))
    attended = book(user, attended_event)
    missed = book(user, missed_event)
    cancelled = book(user, cancelled_event)
    booking.cancel(cancelled, actor=user)
    db.session.commit()
    clock.set_now(start + timedelta(days=7, minutes=5))
    booking_checkin.check_in(attended, actor=organizer)
    db.session.commit()
    clock.set_now(start + timedelta(days=8, hours=1))
    booking_checkin.mark_no_shows(missed_event, actor=organizer)
    db.session.commit()
    clock.set_now(start + timedelta(days=30))
    return [attended, missed, cancelled]
