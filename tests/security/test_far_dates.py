"""Far dates (issue 18, edges 1 and 2): an event, slot or window dated outside the configured range is refused on
the field concerned by every way in (form, API, mixer form and settings), and a far-dated row already in the
database (from before the rule) neither breaks its pages nor the province's statistics refresh."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.accounts.consents import MIXER_SIGNUP
from app.booking import services as booking
from app.events.models import Event
from app.extensions import db
from app.mixers.models import MixerSettings
from app.stats import services as stats
from app.tasks import registered_tasks

from .. import factories

NOW = datetime(2026, 6, 15, 10, 0)
FMT = "%Y-%m-%dT%H:%M"
FAR = datetime(9999, 12, 30, 20, 0)


@pytest.fixture(autouse=True)
def frozen() -> None:
    clock.set_now(NOW)


def _count_events() -> int:
    return db.session.scalar(select(func.count()).select_from(Event)) or 0


def _form(start: datetime, slot_start: datetime | None = None) -> dict[str, str]:
    slot_start = slot_start or start
    return {
        "kind": "general",
        "title": "职工篮球赛",
        "gender": "",
        "organization": str(factories.org("jx-nanchang").id),
        "city": str(factories.city("nanchang").id),
        "starts_at": start.strftime(FMT),
        "ends_at": (start + timedelta(hours=3)).strftime(FMT),
        "signup_opens_at": NOW.strftime(FMT),
        "signup_closes_at": (NOW + timedelta(days=1)).strftime(FMT),
        "slots-0-starts_at": slot_start.strftime(FMT),
        "slots-0-ends_at": (slot_start + timedelta(hours=1)).strftime(FMT),
        "slots-0-capacity": "30",
        "slots-0-waitlist_policy": "offer",
        "slots-0-allocation": "first_come",
        "slots-0-offer_hours": "24",
    }


def _api_body(start: datetime, slot_start: datetime | None = None) -> dict[str, object]:
    slot_start = slot_start or start
    return {
        "kind": "general",
        "title": "职工乒乓球赛",
        "city": "南昌",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat(),
        "signup_opens_at": NOW.isoformat(),
        "signup_closes_at": (NOW + timedelta(days=1)).isoformat(),
        "slots": [
            {
                "starts_at": slot_start.isoformat(),
                "ends_at": (slot_start + timedelta(hours=1)).isoformat(),
                "capacity": 5,
            }
        ],
    }


def test_the_organizer_form_refuses_an_event_in_december_9999(organizer_client):
    response = organizer_client.post("/organizer/events/new", data=_form(FAR))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "日期需在" in page
    assert _count_events() == 0


def test_the_form_refuses_a_slot_far_away_even_when_the_event_is_near(organizer_client):
    response = organizer_client.post("/organizer/events/new", data=_form(NOW + timedelta(days=30), FAR))
    assert response.status_code == 422 and "日期需在" in response.get_data(as_text=True)
    assert _count_events() == 0


def test_the_api_refuses_far_dates_with_field_errors(client, organizer):
    token = factories.api_token(organizer)
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post("/api/v1/events", json=_api_body(FAR), headers=headers)
    assert response.status_code == 422
    assert {"starts_at", "ends_at"} <= set(response.json["fields"])
    slot = client.post("/api/v1/events", json=_api_body(NOW + timedelta(days=3), FAR), headers=headers)
    assert slot.status_code == 422 and "slots[0]" in slot.json["fields"]
    old = client.post("/api/v1/events", json=_api_body(datetime(1900, 1, 1, 9, 0)), headers=headers)
    assert old.status_code == 422 and "starts_at" in old.json["fields"]
    assert _count_events() == 0
    ok = client.post("/api/v1/events", json=_api_body(NOW + timedelta(days=365 * 4)), headers=headers)
    assert ok.status_code == 201, ok.json


def test_the_range_is_a_setting(app, client, organizer):
    headers = {"Authorization": f"Bearer {factories.api_token(organizer)}"}
    body = _api_body(NOW + timedelta(days=400))
    app.config["EVENT_MAX_YEARS_AHEAD"] = 1
    try:
        refused = client.post("/api/v1/events", json=body, headers=headers)
    finally:
        app.config["EVENT_MAX_YEARS_AHEAD"] = 5
    assert refused.status_code == 422 and "starts_at" in refused.json["fields"]
    assert client.post("/api/v1/events", json=body, headers=headers).status_code == 201


def test_a_mixer_window_cannot_close_in_year_9999(app, organizer):
    from tests.mixers.factories import make_mixer

    event = make_mixer(starts_in=timedelta(days=10))
    client = app.test_client()
    factories.login(client, organizer)
    response = client.post(
        f"/organizer/mixers/{event.id}/settings",
        data={"pick_closes_at": FAR.strftime(FMT), "max_picks": "3", "other_gender_only": "y"},
        follow_redirects=True,
    )
    assert response.status_code == 200 and "日期需在" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(MixerSettings, event.id).pick_closes_at == event.ends_at + timedelta(hours=24)


def test_duplicating_an_event_past_the_range_is_refused(organizer_client):
    event = factories.make_event(starts_in=timedelta(days=365 * 4))
    response = organizer_client.post(
        f"/organizer/events/{event.id}/duplicate", data={"shift_days": "3000"}, follow_redirects=True
    )
    assert response.status_code == 200 and "日期需在" in response.get_data(as_text=True)
    assert _count_events() == 1


def _far_mixer_row() -> Event:
    """A mixer ending on 9999-12-31, written straight into the database as a row from before the date rule."""
    event = factories.make_event(kind="mixer", capacity=4, commit=False)
    event.starts_at, event.ends_at = datetime(9999, 12, 31, 14, 0), datetime(9999, 12, 31, 23, 0)
    event.signup_closes_at = datetime(9999, 12, 30, 12, 0)
    event.slots[0].starts_at, event.slots[0].ends_at = event.starts_at, event.ends_at
    db.session.commit()
    return event


def test_an_existing_mixer_ending_on_9999_12_31_still_renders(app, organizer):
    event = _far_mixer_row()
    person = factories.make_employee()
    booking.book(person, event.slots[0].id, consents=[MIXER_SIGNUP], options={"nickname": "小林"})
    db.session.commit()
    employee = app.test_client()
    factories.login(employee, person)
    assert employee.get(f"/mixers/{event.id}").status_code == 200
    assert employee.get(f"/events/{event.id}").status_code == 200
    token = factories.api_token(person)
    card = employee.get(f"/api/v1/mixers/{event.id}/card", headers={"Authorization": f"Bearer {token}"})
    assert card.status_code == 200, card.get_data(as_text=True)[:300]
    staff = app.test_client()
    factories.login(staff, organizer)
    assert staff.get(f"/organizer/mixers/{event.id}").status_code == 200
    assert staff.get(f"/organizer/events/{event.id}").status_code == 200
    assert staff.get(f"/organizer/events/{event.id}/edit").status_code == 200


def _refresh() -> int:
    task = next(task for task in registered_tasks() if task.name == "stats.refresh")
    done = task.func(clock.now())
    db.session.commit()
    return done


@pytest.mark.parametrize("cancelled", [False, True])
def test_one_far_dated_event_does_not_stop_the_statistics_of_the_province(admin_client, cancelled):
    good = factories.make_event(capacity=5, starts_in=timedelta(days=3))
    bad = factories.make_event(capacity=5, starts_in=timedelta(days=3), title="年份错误的活动")
    booking.book(factories.make_employee(), good.slots[0].id)
    booking.book(factories.make_employee(), bad.slots[0].id)
    db.session.commit()
    # The bad row bypasses validation, as a row written before the date rule existed would.
    bad.starts_at, bad.ends_at = datetime(9999, 12, 20, 9, 0), datetime(9999, 12, 20, 12, 0)
    if cancelled:
        bad.cancelled_at = NOW
    db.session.commit()

    _refresh()

    figures = stats.compute(stats.make_filters(stats.province_org(), year=NOW.year))
    assert figures.raw["all"]["signups"] == 1
    page = admin_client.get("/admin/system/").get_data(as_text=True)
    if cancelled:
        # A cancelled event is counted nowhere, so its date harms nothing and nothing is reported.
        assert "年份错误的活动" not in page
    else:
        assert "年份错误的活动" in page and f"#{bad.id}" in page
        # Once the row is repaired the next refresh counts it and the report goes away.
        bad.starts_at, bad.ends_at = good.starts_at, good.ends_at
        db.session.commit()
        _refresh()
        figures = stats.compute(stats.make_filters(stats.province_org(), year=NOW.year))
        assert figures.raw["all"]["signups"] == 2
        assert "年份错误的活动" not in admin_client.get("/admin/system/").get_data(as_text=True)


def test_a_screening_visit_on_the_last_day_of_the_calendar_is_refused_on_its_day():
    from datetime import date, time

    from app.errors import InvalidInput
    from tests.screenings.factories import plan

    with pytest.raises(InvalidInput) as refused:
        plan(day=date(9999, 12, 31), start=time(22, 0), end=time(23, 59), interval=30)
    assert "day" in refused.value.fields and "日期需在" in refused.value.fields["day"][0]
    assert _count_events() == 0


def test_a_trip_departure_on_the_last_day_of_the_calendar_is_refused_on_its_date():
    from datetime import date

    from app.errors import InvalidInput
    from tests.trips.factories import make_departure, make_route

    route = make_route()
    with pytest.raises(InvalidInput) as refused:
        make_departure(route, starts_on=date(9999, 12, 31))
    assert "starts_on" in refused.value.fields and "日期需在" in refused.value.fields["starts_on"][0]
    assert _count_events() == 0
