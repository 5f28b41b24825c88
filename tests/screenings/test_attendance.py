"""At the truck: check-in by ticket or phone, outcomes without results, and the reach figures."""

from datetime import datetime

import pytest

from app.booking.errors import IllegalTransition
from app.booking.models import Status
from app.errors import DomainError, InvalidInput, NotFound
from app.extensions import db
from app.orgs.models import EnterpriseType
from app.screenings import checkin, reach
from app.screenings.models import ScreeningBooking

from .. import factories
from . import factories as sf

ON_THE_DAY = datetime(2026, 6, 15, 10, 20)


def _row(registration):
    db.session.expire_all()
    return db.session.get(ScreeningBooking, registration.id)


def test_check_in_by_ticket_code_or_phone_on_the_day():
    event = sf.plan()
    visit = sf.visit(event)
    staff = factories.make_organizer()
    first, second = sf.woman(40), sf.man()
    reg_a = sf.book(first, sf.slot_at(event, "10:15"), "two_cancer")
    reg_b = sf.book(second, sf.slot_at(event, "10:30"))
    factories.at(ON_THE_DAY)
    assert checkin.find_registration(visit, reg_a.ticket_code).id == reg_a.id
    assert checkin.find_registration(visit, f" {second.phone[:3]}-{second.phone[3:]} ").id == reg_b.id
    assert checkin.check_in(staff, visit, reg_a) is True
    db.session.commit()
    assert checkin.check_in(staff, visit, reg_a) is False  # a second scan changes nothing
    db.session.commit()
    row = _row(reg_a)
    assert row.registration.status == Status.ATTENDED and row.outcome == "screened"


def test_check_in_is_refused_before_the_visit_day():
    event = sf.plan()
    registration = sf.book(sf.woman(40), event.slots[0])
    factories.at(datetime(2026, 6, 14, 18))
    with pytest.raises(DomainError) as caught:
        checkin.check_in(factories.make_organizer(), sf.visit(event), registration)
    assert "当天" in caught.value.message


def test_unknown_or_other_visit_tickets_are_not_found():
    event, other = sf.plan(site_name="A"), sf.plan(site_name="B")
    registration = sf.book(sf.woman(40), other.slots[0])
    with pytest.raises(NotFound):
        checkin.find_registration(sf.visit(event), registration.ticket_code)
    with pytest.raises(NotFound):
        checkin.find_registration(sf.visit(event), "13900000000")
    with pytest.raises(InvalidInput):
        checkin.find_registration(sf.visit(event), "   ")


def test_check_in_by_an_organizer_of_another_city_is_not_found():
    event = sf.plan()
    registration = sf.book(sf.woman(40), event.slots[0])
    factories.at(ON_THE_DAY)
    with pytest.raises(NotFound):
        checkin.check_in(factories.make_organizer("jx-jiujiang"), sf.visit(event), registration)


def test_outcomes_attended_no_show_and_not_screened_with_a_listed_reason():
    event = sf.plan()
    visit = sf.visit(event)
    staff = factories.make_organizer()
    registration = sf.book(sf.woman(40), event.slots[0], "two_cancer")
    factories.at(ON_THE_DAY)
    with pytest.raises(InvalidInput):
        checkin.record_outcome(staff, visit, registration, "not_screened", None)
    with pytest.raises(InvalidInput):
        checkin.record_outcome(staff, visit, registration, "not_screened", "宫颈异常")  # no free text
    with pytest.raises(InvalidInput):
        checkin.record_outcome(staff, visit, registration, "positive")
    db.session.rollback()

    checkin.record_outcome(staff, visit, registration, "not_screened", "declined")
    db.session.commit()
    row = _row(registration)
    assert (row.registration.status, row.outcome, row.not_screened_reason) == (
        Status.ATTENDED,
        "not_screened",
        "declined",
    )
    checkin.record_outcome(staff, visit, row.registration, "no_show")
    db.session.commit()
    row = _row(registration)
    assert (row.registration.status, row.outcome, row.not_screened_reason) == (Status.NO_SHOW, None, None)
    checkin.record_outcome(staff, visit, row.registration, "attended")
    db.session.commit()
    row = _row(registration)
    assert (row.registration.status, row.outcome) == (Status.ATTENDED, "screened")
    assert row.recorded_at == ON_THE_DAY


def test_a_cancelled_booking_gets_no_outcome():
    event = sf.plan()
    person = sf.woman(40)
    registration = sf.book(person, event.slots[0])
    from app.booking import services as booking

    booking.cancel(registration, actor=person)
    db.session.commit()
    factories.at(ON_THE_DAY)
    with pytest.raises(IllegalTransition):
        checkin.record_outcome(factories.make_organizer(), sf.visit(event), registration, "no_show")


def test_mark_absent_after_the_start():
    event = sf.plan()
    staff = factories.make_organizer()
    came = sf.book(sf.woman(40), event.slots[0])
    stayed_home = sf.book(sf.woman(41), event.slots[1])
    factories.at(ON_THE_DAY)
    checkin.check_in(staff, sf.visit(event), came)
    assert checkin.mark_absent(staff, sf.visit(event)) == 1
    db.session.commit()
    db.session.refresh(stayed_home)
    assert stayed_home.status == Status.NO_SHOW


def test_reach_figures_count_people_screened_per_package_and_women_by_enterprise_type_city_and_park():
    staff = factories.make_admin()
    nanchang = sf.plan(site_name="南昌高新区航空城")
    jiujiang = sf.plan(site_name="九江经开区", city_code="jiujiang", org_code="jx-jiujiang")
    people = [
        (sf.woman(40, enterprise_type=EnterpriseType.NON_PUBLIC), nanchang, "two_cancer", "attended"),
        (sf.woman(45, enterprise_type=EnterpriseType.NEW_EMPLOYMENT), nanchang, "two_cancer", "attended"),
        (sf.woman(50, enterprise_type=EnterpriseType.NON_PUBLIC), jiujiang, "two_cancer", "attended"),
        (sf.woman(52, enterprise_type=EnterpriseType.STATE_OWNED), jiujiang, "two_cancer", "not_screened"),
        (sf.woman(55, enterprise_type=EnterpriseType.NON_PUBLIC), jiujiang, "two_cancer", "no_show"),
        (sf.man(frontline=True), nanchang, "general", "attended"),
        (sf.woman(30), jiujiang, "general", "attended"),
        (sf.man(), jiujiang, "general", None),  # booked, nothing recorded yet
    ]
    bookings = [(sf.book(p, event.slots[i], pkg), event, outcome) for i, (p, event, pkg, outcome) in enumerate(people)]
    db.session.commit()
    factories.at(ON_THE_DAY)
    for registration, event, outcome in bookings:
        if outcome:
            reason = "left_early" if outcome == "not_screened" else None
            checkin.record_outcome(staff, sf.visit(event), registration, outcome, reason)
    db.session.commit()

    figures = reach.reach_figures(2026)
    assert figures.visits == 2 and figures.booked == 8 and figures.attended == 6  # not screened still came
    assert figures.screened == {"general": 5, "two_cancer": 3}
    assert figures.women_two_cancer == 3
    assert figures.women_two_cancer_by_enterprise_type == {"non_public": 2, "new_employment": 1}
    assert figures.screened_by_city == {"南昌": 3, "九江": 2}
    assert figures.screened_by_park == {"南昌高新区航空城": 3, "九江经开区": 2}
    assert reach.reach_figures(2026, factories.org("jx-jiujiang")).screened == {
        "general": 2,
        "two_cancer": 1,
    }
    assert reach.reach_figures(2025).screened == {"general": 0, "two_cancer": 0}


def test_check_in_through_the_engine_or_the_console_marks_screened_and_undo_clears_it():
    from app.booking import checkin as booking_checkin

    event = sf.plan()
    staff = factories.make_organizer()
    registration = sf.book(sf.woman(40), event.slots[0], "two_cancer")
    factories.at(ON_THE_DAY)
    booking_checkin.check_in(registration, actor=staff)  # what the organizer console's scanner calls
    db.session.commit()
    assert _row(registration).outcome == "screened"
    booking_checkin.undo_check_in(_row(registration).registration, actor=staff)
    db.session.commit()
    row = _row(registration)
    assert (row.registration.status, row.outcome) == (Status.CONFIRMED, None)
