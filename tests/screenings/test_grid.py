"""Planning a visit: the slot grid generator, resizing and closing slots, adding a block of slots."""

from datetime import date, datetime, time

import pytest

from app import clock
from app.booking.errors import EventUnavailable, Full
from app.errors import DomainError, InvalidInput, NotFound
from app.extensions import db
from app.screenings import eligibility, visits
from app.screenings.eligibility import TwoCancerFull
from app.screenings.models import ScreeningVisit

from .. import factories
from . import factories as sf
from .factories import VISIT_DAY


def test_a_day_0830_to_1630_every_15_minutes_gives_32_slots():
    times = visits.generate_slot_times(VISIT_DAY, time(8, 30), time(16, 30), 15)
    assert len(times) == 32
    assert times[0] == (datetime(2026, 6, 15, 8, 30), datetime(2026, 6, 15, 8, 45))
    assert times[-1] == (datetime(2026, 6, 15, 16, 15), datetime(2026, 6, 15, 16, 30))


def test_a_slot_that_would_run_past_the_end_is_not_generated():
    times = visits.generate_slot_times(VISIT_DAY, time(8, 30), time(9, 35), 20)
    assert [start.strftime("%H:%M") for start, _end in times] == ["08:30", "08:50", "09:10"]


@pytest.mark.parametrize(
    ("start", "end", "interval", "field"),
    [
        (time(9), time(9), 15, "end"),
        (time(10), time(9), 15, "end"),
        (time(9), time(9, 10), 15, "end"),  # not even one slot fits
        (time(9), time(17), 4, "interval"),
        (time(9), time(17), 241, "interval"),
    ],
)
def test_bad_grids_are_refused_with_the_field_named(start, end, interval, field):
    with pytest.raises(InvalidInput) as caught:
        visits.generate_slot_times(VISIT_DAY, start, end, interval)
    assert field in caught.value.fields


def test_plan_visit_creates_the_event_its_settings_and_the_grid():
    event = sf.plan(per_slot=6, two_cancer_per_slot=2)
    assert event.kind == "screening" and event.published
    assert event.title == "健康大篷车进南昌高新区航空城"
    assert len(event.slots) == 32
    assert {slot.capacity for slot in event.slots} == {6}
    first = event.slots[0]
    assert first.label == "08:30–08:45"
    assert first.signup_closes_at == first.starts_at  # each slot can be booked until it starts
    assert event.signup_closes_at == event.slots[-1].starts_at
    visit = db.session.get(ScreeningVisit, event.id)
    assert (visit.two_cancer_min_age, visit.two_cancer_max_age, visit.repeat_interval_years) == (35, 64, 2)
    assert visit.two_cancer_per_slot == 2 and visit.site_name == "南昌高新区航空城"


def test_planning_outside_the_organizers_subtree_is_not_found_and_writes_nothing():
    jiujiang = factories.make_organizer("jx-jiujiang")
    with pytest.raises(NotFound):
        sf.plan(organizer=jiujiang, org_code="jx-nanchang")
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count()).select_from(ScreeningVisit)) == 0


def test_invalid_visit_names_every_bad_field():
    clock.set_now(datetime(2026, 6, 1, 9))
    with pytest.raises(InvalidInput) as caught:
        visits.plan_visit(
            factories.make_admin(),
            visits.VisitData(
                title="",
                organization=factories.org(),
                city=factories.city(),
                site_name="",
                day=date(2026, 5, 1),
                start=time(9),
                end=time(8),
                interval_minutes=15,
                per_slot=0,
                two_cancer_min_age=65,
                two_cancer_max_age=35,
            ),
        )
    assert {"site_name", "per_slot", "two_cancer_max_age", "day", "end"} <= set(caught.value.fields)


def test_planning_today_skips_slots_that_already_started():
    clock.set_now(datetime(2026, 6, 15, 12, 5))
    event = visits.plan_visit(
        factories.make_admin(),
        visits.VisitData(
            title="",
            organization=factories.org(),
            city=factories.city(),
            site_name="园区",
            day=VISIT_DAY,
            start=time(8, 30),
            end=time(16, 30),
            interval_minutes=30,
            per_slot=4,
        ),
    )
    assert event.slots[0].starts_at == datetime(2026, 6, 15, 12, 30)


def test_resize_never_below_the_seats_held_and_closing_stops_bookings():
    event = sf.plan(per_slot=3)
    slot = sf.slot_at(event, "10:15")
    for age in (40, 41):
        sf.book(sf.woman(age), slot)
    organizer = factories.make_organizer()
    with pytest.raises(DomainError) as caught:
        visits.resize(organizer, slot.id, 1)
    assert "2" in caught.value.message
    db.session.rollback()
    visits.resize(organizer, slot.id, 2)
    db.session.commit()
    with pytest.raises(Full):
        sf.book(sf.woman(42), slot)
    db.session.rollback()
    visits.resize(organizer, slot.id, 4, closed=True)
    db.session.commit()
    with pytest.raises(EventUnavailable):
        sf.book(sf.woman(43), slot)
    db.session.rollback()
    visits.resize(organizer, slot.id, 4, closed=False)
    db.session.commit()
    assert sf.book(sf.woman(43), slot).status.value == "confirmed"


def test_resize_of_another_organizations_slot_is_not_found():
    event = sf.plan()
    with pytest.raises(NotFound):
        visits.resize(factories.make_organizer("jx-jiujiang"), event.slots[0].id, 10)


def test_add_slots_extends_the_day_but_never_overlaps():
    event = sf.plan(start=time(8, 30), end=time(11, 30), interval=30)
    admin = factories.make_admin()
    with pytest.raises(InvalidInput):
        visits.add_slots(admin, event, time(11), time(12), 30, 5)
    db.session.rollback()
    created = visits.add_slots(admin, event, time(13, 30), time(15), 30, 5)
    db.session.commit()
    assert [slot.label for slot in created] == ["13:30–14:00", "14:00–14:30", "14:30–15:00"]
    assert len(event.slots) == 9 and event.ends_at == datetime(2026, 6, 15, 15)


def test_two_cancer_settings_can_change_but_not_below_what_is_held():
    event = sf.plan(per_slot=6, two_cancer_per_slot=3)
    slot = sf.slot_at(event, "10:15")
    for age in (40, 41):
        sf.book(sf.woman(age), slot, "two_cancer")
    admin = factories.make_admin()
    settings = visits.TwoCancerSettings(True, 30, 59, 3, 1)
    with pytest.raises(InvalidInput) as caught:
        visits.update_two_cancer_settings(admin, sf.visit(event), settings)
    assert "2" in caught.value.fields["two_cancer_per_slot"][0]
    db.session.rollback()
    with pytest.raises(DomainError):
        visits.update_two_cancer_settings(admin, sf.visit(event), visits.TwoCancerSettings(False, 35, 64, 2, None))
    db.session.rollback()
    visits.update_two_cancer_settings(admin, sf.visit(event), visits.TwoCancerSettings(True, 30, 59, 3, 2))
    db.session.commit()
    visit = sf.visit(event)
    assert (visit.two_cancer_min_age, visit.two_cancer_max_age, visit.repeat_interval_years) == (30, 59, 3)
    assert eligibility.two_cancer_reasons(sf.woman(31), visit) == []
    with pytest.raises(TwoCancerFull):
        sf.book(sf.woman(42), slot, "two_cancer")
    with pytest.raises(NotFound):
        visits.update_two_cancer_settings(
            factories.make_organizer("jx-jiujiang"), visit, visits.TwoCancerSettings(True, 35, 64, 2, None)
        )
