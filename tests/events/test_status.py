"""The one function giving every event and slot its state (issue 21, item 1), and the lists' order."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app import clock
from app.accounts.models import Gender
from app.booking import services as booking
from app.events import services as events
from app.events.models import Allocation, WaitlistPolicy
from app.events.status import State, event_state, slot_state
from tests import factories

NOW = datetime(2026, 6, 15, 10, 0)


@pytest.fixture(autouse=True)
def frozen() -> None:
    clock.set_now(NOW)


def test_an_open_event_counts_its_seats_and_a_full_one_offers_its_waitlist() -> None:
    event = factories.make_event(capacity=2)
    assert event_state(event).state == State.OPEN
    assert event_state(event).seats_left == 2
    for _ in range(2):
        booking.book(factories.make_employee(), event.slots[0].id)
    assert event_state(event).state == State.WAITLIST
    assert event_state(event).label == "已满可候补"


def test_full_without_a_waitlist_is_full() -> None:
    event = factories.make_event(capacity=1, waitlist=WaitlistPolicy.NONE)
    booking.book(factories.make_employee(), event.slots[0].id)
    assert slot_state(event.slots[0]).state == State.FULL


def test_a_gender_quota_decides_for_that_gender_only() -> None:
    event = factories.make_event(capacity=4, quota_female=1, quota_male=3)
    booking.book(factories.make_employee(gender="female"), event.slots[0].id)
    slot = event.slots[0]
    assert slot_state(slot, gender=Gender.FEMALE).state == State.WAITLIST
    assert slot_state(slot, gender=Gender.MALE).state == State.OPEN


def test_before_the_window_the_event_is_upcoming_with_its_opening_time() -> None:
    event = factories.make_event(signup_open=False)
    standing = event_state(event)
    assert standing.state == State.UPCOMING
    assert standing.opens_at == NOW + timedelta(days=1)


def test_closed_window_running_ended_and_cancelled() -> None:
    closed = factories.make_event(signup_closes_at=NOW - timedelta(days=1))
    assert event_state(closed).state == State.CLOSED
    running = factories.make_event(starts_in=timedelta(hours=-1), signup_closes_at=NOW - timedelta(days=1))
    assert event_state(running).state == State.RUNNING
    assert event_state(running).label == "进行中"
    ended = factories.make_event(starts_in=timedelta(days=-2))
    assert event_state(ended).state == State.ENDED
    cancelled = factories.make_event(cancelled_at=NOW)
    assert event_state(cancelled).state == State.CANCELLED


def test_the_state_moves_with_the_clock_at_its_boundaries() -> None:
    event = factories.make_event(starts_in=timedelta(days=2), duration=timedelta(hours=2))
    closes, starts, ends = event.signup_closes_at, event.starts_at, event.ends_at
    assert event_state(event, closes - timedelta(seconds=1)).state == State.OPEN
    assert event_state(event, closes).state == State.CLOSED
    assert event_state(event, starts).state == State.RUNNING
    assert event_state(event, ends).state == State.ENDED


def test_a_lottery_takes_applications_even_when_its_seats_are_fewer_than_applicants() -> None:
    event = factories.make_event(capacity=1, allocation=Allocation.LOTTERY)
    booking.book(factories.make_employee(), event.slots[0].id)
    booking.book(factories.make_employee(), event.slots[0].id)
    assert event_state(event).state == State.OPEN
    assert event_state(event).seats_left is None


def test_an_organizer_closed_slot_is_closed() -> None:
    event = factories.make_event()
    event.slots[0].closed = True
    assert slot_state(event.slots[0]).state == State.CLOSED


def test_lists_show_open_then_upcoming_then_closed_and_never_ended() -> None:
    closed = factories.make_event(
        title="已截止", starts_in=timedelta(days=1), signup_closes_at=NOW - timedelta(hours=1)
    )
    upcoming = factories.make_event(title="即将开放", starts_in=timedelta(days=3), signup_open=False)
    open_later = factories.make_event(title="报名中", starts_in=timedelta(days=9))
    factories.make_event(title="已结束", starts_in=timedelta(days=-3))
    listed, total = events.list_events(events.EventFilter())
    assert [e.title for e in listed] == ["报名中", "即将开放", "已截止"]
    assert total == 3
    assert [e.id for e in events.upcoming_highlights()] == [open_later.id, upcoming.id, closed.id]


def test_the_api_answers_with_the_same_states(client) -> None:  # type: ignore[no-untyped-def]
    running = factories.make_event(starts_in=timedelta(hours=-1), signup_closes_at=NOW - timedelta(days=1))
    opened = factories.make_event(starts_in=timedelta(days=5))
    body = client.get("/api/v1/events").get_json()
    states = {item["id"]: (item["state"], [s["state"] for s in item["slots"]]) for item in body["events"]}
    assert states[running.id] == ("running", ["running"])
    assert states[opened.id] == ("open", ["open"])
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "running" in schema["State"]["enum"]
