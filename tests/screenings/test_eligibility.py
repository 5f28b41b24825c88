"""Two-cancer eligibility, evaluated on the visit date, at its boundaries."""

from datetime import date, datetime, time, timedelta

import pytest

from app import clock
from app.accounts.consents import HEALTH_SCREENING
from app.accounts.services import ConsentRequired
from app.booking import services as booking
from app.booking.models import Registration
from app.errors import InvalidInput
from app.extensions import db
from app.screenings import checkin, eligibility
from app.screenings.eligibility import TwoCancerNotEligible, years_before
from app.screenings.models import ScreeningBooking

from .. import factories
from . import factories as sf
from .factories import VISIT_DAY


def reasons(user, event):
    return eligibility.two_cancer_reasons(user, sf.visit(event))


def test_woman_of_40_may_book_two_cancer_man_and_woman_of_30_are_told_why():
    event = sf.plan()
    assert reasons(sf.woman(40), event) == []
    (why_man,) = reasons(sf.man(40), event)
    assert "仅面向女职工" in why_man
    (why_young,) = reasons(sf.woman(30), event)
    assert "30 岁" in why_young and "35–64" in why_young


@pytest.mark.parametrize(
    ("birth_date", "eligible"),
    [
        (date(1991, 6, 15), True),  # turns 35 on the visit day
        (date(1991, 6, 16), False),  # turns 35 the day after: still 34
        (date(1961, 6, 16), True),  # turns 65 the day after: still 64
        (date(1961, 6, 15), False),  # turns 65 on the day
        (date(1961, 6, 14), False),  # turned 65 the day before
    ],
)
def test_age_window_is_evaluated_on_the_visit_date(birth_date, eligible):
    event = sf.plan()
    person = factories.make_employee(gender="female", birth_date=birth_date)
    assert (reasons(person, event) == []) is eligible


def test_age_window_is_configurable_per_visit():
    event = sf.plan(two_cancer_min_age=30, two_cancer_max_age=59)
    assert reasons(sf.woman(30), event) == []
    assert reasons(sf.woman(60), event) != []


def _screened_on(person, day, *, outcome="attended", reason=None):
    """Give ``person`` a two-cancer booking at an earlier visit on ``day`` and record what happened there."""
    earlier = sf.plan(day=day, site_name="九江经开区")
    registration = sf.book(person, sf.slot_at(earlier, "09:00"), "two_cancer")
    clock.set_now(datetime.combine(day, time(9, 5)))
    checkin.record_outcome(factories.make_admin(), sf.visit(earlier), registration, outcome, reason)
    db.session.commit()
    clock.set_now(datetime.combine(day, time(18, 0)))
    return earlier


def test_screened_exactly_n_years_before_may_book_again():
    person = sf.woman(45)
    _screened_on(person, date(2024, 6, 15))
    event = sf.plan()  # 2026-06-15, N = 2
    assert reasons(person, event) == []


def test_screened_one_day_less_than_n_years_before_may_not():
    person = sf.woman(45)
    _screened_on(person, date(2024, 6, 16))
    event = sf.plan()
    (why,) = reasons(person, event)
    assert "2024-06-16" in why and "2026-06-16" in why


def test_repeat_interval_is_configurable_per_visit():
    person = sf.woman(45)
    _screened_on(person, date(2023, 6, 16))
    assert reasons(person, sf.plan(site_name="A", repeat_interval_years=2)) == []
    assert reasons(person, sf.plan(site_name="B", repeat_interval_years=3)) != []


@pytest.mark.parametrize(("outcome", "reason"), [("no_show", None), ("not_screened", "left_early")])
def test_not_being_screened_earlier_does_not_block(outcome, reason):
    person = sf.woman(45)
    _screened_on(person, date(2025, 9, 1), outcome=outcome, reason=reason)
    assert reasons(person, sf.plan()) == []


def test_general_check_earlier_does_not_block_two_cancer():
    person = sf.woman(45)
    earlier = sf.plan(day=date(2025, 9, 1))
    registration = sf.book(person, sf.slot_at(earlier, "09:00"), "general")
    clock.set_now(datetime(2025, 9, 1, 9, 5))
    checkin.check_in(factories.make_admin(), sf.visit(earlier), registration)
    db.session.commit()
    assert reasons(person, sf.plan()) == []


def test_holding_another_two_cancer_booking_blocks_a_second():
    person = sf.woman(45)
    first = sf.plan(day=VISIT_DAY, site_name="A")
    second = sf.plan(day=VISIT_DAY + timedelta(days=20), site_name="B")
    sf.book(person, first.slots[0], "two_cancer")
    (why,) = reasons(person, second)
    assert VISIT_DAY.isoformat() in why


def test_booking_two_cancer_when_not_eligible_is_refused_and_nothing_is_written():
    event = sf.plan()
    person = sf.woman(30)
    with pytest.raises(TwoCancerNotEligible) as caught:
        booking.book(person, event.slots[0].id, consents=[HEALTH_SCREENING], options={"package": "two_cancer"})
    db.session.rollback()
    assert "35–64" in caught.value.message
    assert db.session.scalar(db.select(db.func.count()).select_from(Registration)) == 0
    # The general check is still open to her.
    assert sf.book(person, event.slots[0]).options == {"package": "general"}


def test_booking_needs_the_health_consent_and_records_it():
    event = sf.plan()
    person = sf.woman(40)
    with pytest.raises(ConsentRequired):
        booking.book(person, event.slots[0].id, options={"package": "two_cancer"})
    db.session.rollback()
    sf.book(person, event.slots[0], "two_cancer")
    from app.accounts.services import has_consent

    assert has_consent(person.id, HEALTH_SCREENING)


def test_only_the_package_choice_is_stored_and_unknown_packages_are_refused():
    event = sf.plan()
    person = sf.woman(40)
    registration = booking.book(
        person,
        event.slots[0].id,
        consents=[HEALTH_SCREENING],
        options={"package": "two_cancer", "result": "positive", "blood_pressure": "140/90"},
    )
    db.session.commit()
    assert registration.options == {"package": "two_cancer"}
    assert db.session.get(ScreeningBooking, registration.id).two_cancer is True
    with pytest.raises(InvalidInput):
        booking.book(sf.woman(41), event.slots[0].id, consents=[HEALTH_SCREENING], options={"package": "mri"})


def test_years_before_handles_29_february():
    assert years_before(date(2028, 2, 29), 2) == date(2026, 2, 28)
    assert years_before(date(2026, 6, 15), 2) == date(2024, 6, 15)


def test_withdrawing_the_health_consent_cancels_the_upcoming_booking_and_frees_the_seat():
    from app.accounts.services import withdraw_consent
    from app.booking.models import Status

    event = sf.plan(per_slot=1)
    person = sf.woman(40)
    registration = sf.book(person, event.slots[0], "two_cancer")
    assert withdraw_consent(person, HEALTH_SCREENING) == 1
    db.session.commit()
    db.session.refresh(registration)
    assert registration.status == Status.CANCELLED
    assert event.slots[0].taken == 0


def test_the_screening_kind_is_registered_with_its_consent():
    from app.events.kinds import policy_for

    policy = policy_for("screening")
    assert str(policy.label) == "健康体检"
    assert policy.required_consents(sf.plan()) == (HEALTH_SCREENING,)


@pytest.mark.parametrize(("visit_day", "eligible"), [(date(2027, 2, 28), False), (date(2027, 3, 1), True)])
def test_a_woman_born_on_29_february_turns_35_on_1_march(visit_day, eligible):
    clock.set_now(datetime(2027, 2, 1, 9))
    event = sf.plan(day=visit_day)
    person = factories.make_employee(gender="female", birth_date=date(1992, 2, 29))
    assert (reasons(person, event) == []) is eligible
