"""Builders for mixer tests: a mixer with settings, sign-ups with consent, check-ins with badges."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app import clock
from app.accounts.consents import MIXER_SIGNUP
from app.accounts.models import User
from app.booking import services as booking
from app.booking.models import Registration
from app.booking.window import checkin_window
from app.events.models import Event
from app.extensions import db
from app.mixers import cards, checkin, windows
from app.mixers.models import MixerAttendee, MixerSettings

from .. import factories


def make_mixer(
    *,
    quota_female: int = 10,
    quota_male: int = 10,
    max_picks: int = 3,
    other_gender_only: bool = True,
    pick_hours_after_end: int = 24,
    **fields: Any,
) -> Event:
    fields.setdefault("title", "青春有约·单身职工联谊会")
    fields.setdefault("min_age", 22)
    fields.setdefault("max_age", 40)
    event = factories.make_event(
        kind="mixer",
        capacity=quota_female + quota_male,
        quota_female=quota_female,
        quota_male=quota_male,
        commit=False,
        **fields,
    )
    db.session.flush()
    db.session.add(
        MixerSettings(
            event_id=event.id,
            pick_closes_at=event.ends_at + timedelta(hours=pick_hours_after_end),
            max_picks=max_picks,
            other_gender_only=other_gender_only,
        )
    )
    db.session.commit()
    return event


def sign_up(user: User, event: Event, nickname: str | None = None, share_contact: bool = False) -> Registration:
    registration = booking.book(
        user,
        event.slots[0].id,
        consents=[MIXER_SIGNUP],
        options={"nickname": nickname, "share_contact": share_contact},
    )
    db.session.commit()
    return registration


def attend(
    organizer: User, event: Event, user: User, nickname: str | None = None, share_contact: bool = False
) -> MixerAttendee:
    registration = sign_up(user, event, nickname=nickname, share_contact=share_contact)
    with clock.frozen_at(at_the_door(event)):
        attendee = checkin.check_in(organizer, event.id, registration_id=registration.id)
    db.session.commit()
    return attendee


def at_the_door(event: Event) -> datetime:
    """A moment inside the mixer's check-in window: now if it is open, else the mixer's start."""
    return clock.now() if checkin_window(event).refusal(clock.now()) is None else event.starts_at


def open_window(event: Event) -> None:
    clock.set_now(event.starts_at + timedelta(hours=1))


def after_window(event: Event) -> None:
    settings = windows.settings_for(event.id)
    assert settings is not None
    clock.set_now(settings.pick_closes_at + timedelta(minutes=1))


def pick(user: User, event: Event, *badges: int) -> list[int]:
    chosen = cards.set_picks(user, event.id, list(badges))
    db.session.commit()
    return chosen
