"""The event page's and 我的预约's page services: the one action that applies now (issue 21, items 2-5)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app import clock
from app.accounts import services as accounts
from app.booking import queries as booking_queries
from app.booking import services as booking
from app.events import pages
from app.events.models import Allocation, WaitlistPolicy
from app.events.my_bookings import my_bookings
from app.events.pages import Action
from tests import factories

NOW = datetime(2026, 6, 15, 10, 0)


@pytest.fixture(autouse=True)
def frozen() -> None:
    clock.set_now(NOW)


def _actions(page: pages.EventPage) -> list[Action]:
    return [offer.action for offer in page.slots]


def test_anonymous_visitors_are_asked_to_log_in_only_where_booking_is_possible() -> None:
    open_event = factories.make_event(slots=2)
    closed = factories.make_event(signup_closes_at=NOW - timedelta(minutes=1))
    assert _actions(pages.event_page(open_event, None)) == [Action.LOGIN, Action.LOGIN]
    closed_page = pages.event_page(closed, None)
    assert _actions(closed_page) == [Action.NONE]
    assert closed_page.slots[0].why == "报名已截止。"


def test_the_button_says_what_will_happen() -> None:
    person = factories.make_employee()
    full = factories.make_event(capacity=1)
    booking.book(factories.make_employee(), full.slots[0].id)
    lottery = factories.make_event(allocation=Allocation.LOTTERY)
    no_waitlist = factories.make_event(capacity=1, waitlist=WaitlistPolicy.NONE)
    booking.book(factories.make_employee(), no_waitlist.slots[0].id)
    assert pages.event_page(full, person).slots[0].button == "加入候补"
    assert pages.event_page(lottery, person).slots[0].action == Action.APPLY
    assert _actions(pages.event_page(no_waitlist, person)) == [Action.NONE]


def test_once_booked_no_slot_offers_another_booking_and_the_ticket_and_cancel_are_offered() -> None:
    person = factories.make_employee()
    event = factories.make_event(slots=3)
    booking.book(person, event.slots[1].id)
    page = pages.event_page(event, person)
    assert _actions(page) == [Action.NONE] * 3
    assert [offer.mine for offer in page.slots] == [False, True, False]
    (mine,) = page.mine
    assert mine.ticket and mine.can_cancel


def test_an_ineligible_person_gets_no_button_and_the_reasons() -> None:
    young = factories.make_employee(age=25)
    event = factories.make_event(min_age=35)
    page = pages.event_page(event, young)
    assert _actions(page) == [Action.NONE]
    assert page.reasons and "35" in page.reasons[0]


def test_cancel_rule_follows_the_engine_deadline_and_start() -> None:
    person = factories.make_employee()
    event = factories.make_event(cancel_deadline=NOW + timedelta(hours=1))
    registration = booking.book(person, event.slots[0].id)
    assert pages.cancel_rule(registration, NOW) == (True, "")
    allowed, why = pages.cancel_rule(registration, NOW + timedelta(hours=2))
    assert not allowed and "南昌市总工会" in why
    # the engine agrees at both moments
    clock.set_now(NOW + timedelta(hours=2))
    with pytest.raises(booking.CancelDeadlinePassed):
        booking.cancel(registration, actor=person)


def test_a_standing_consent_is_not_asked_again() -> None:
    person = factories.make_employee(age=28)
    event = factories.make_event(kind="mixer", min_age=22, max_age=40)
    assert [p.code for p in pages.event_page(event, person).consents_needed] == ["mixer_signup"]
    accounts.grant_consent(person, "mixer_signup")
    page = pages.event_page(event, person)
    assert page.consents_needed == []
    assert [p.code for p in page.consents_standing] == ["mixer_signup"]


def test_my_bookings_are_dated_and_split_into_upcoming_and_past() -> None:
    person = factories.make_employee()
    soon = factories.make_event(title="近", starts_in=timedelta(days=1))
    later = factories.make_event(title="远", starts_in=timedelta(days=9))
    done = factories.make_event(title="过去", starts_in=timedelta(days=2))
    booking.book(person, later.slots[0].id)
    booking.book(person, soon.slots[0].id)
    old = booking.book(person, done.slots[0].id)
    booking.cancel(old, actor=person)
    groups = my_bookings(booking_queries.my_registrations(person))
    assert [c.registration.event.title for c in groups.upcoming] == ["近", "远"]
    assert [c.registration.event.title for c in groups.past] == ["过去"]
    card = groups.upcoming[0]
    assert card.day == soon.starts_at
    assert card.time == f"{soon.starts_at:%H:%M}–{soon.ends_at:%H:%M}"
    assert card.place == "南昌 · 南昌市职工活动中心"
    assert card.ticket and card.can_cancel
    assert not groups.past[0].ticket and not groups.past[0].can_cancel


def test_the_home_page_picks_the_soonest_held_booking_and_lists_offers() -> None:
    from app.events.home import employee_home

    person = factories.make_employee()
    later = factories.make_event(starts_in=timedelta(days=9))
    soon = factories.make_event(starts_in=timedelta(days=2))
    lottery = factories.make_event(starts_in=timedelta(days=1), allocation=Allocation.LOTTERY)
    booking.book(person, later.slots[0].id)
    booking.book(person, soon.slots[0].id)
    booking.book(person, lottery.slots[0].id)
    home = employee_home(person)
    assert home.next_booking is not None and home.next_booking.registration.event_id == soon.id
    assert home.qr is not None and "<svg" in str(home.qr)
    assert home.offers == [] and home.waiting == 1
    assert employee_home(factories.make_employee()).next_booking is None


def test_the_organizer_roster_uses_the_same_words(organizer_client) -> None:  # type: ignore[no-untyped-def]
    event = factories.make_event(allocation=Allocation.LOTTERY)
    booking.book(factories.make_employee(), event.slots[0].id)
    html = organizer_client.get(f"/organizer/events/{event.id}/roster").get_data(as_text=True)
    assert "等待抽签" in html
