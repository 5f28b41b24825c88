"""Screening pages over HTTP: the organizer's plan/grid/check-in/outcome pages (scoped), the employee's event
page (packages and reasons) and the move form."""

from datetime import datetime

from app.booking.models import Registration, Status
from app.extensions import db
from app.screenings.models import ScreeningBooking, ScreeningVisit

from .. import factories
from . import factories as sf

ON_THE_DAY = datetime(2026, 6, 15, 10, 20)


def _form(**overrides):
    data = {
        "organization_id": str(factories.org().id),
        "city_id": str(factories.city().id),
        "site_name": "南昌小蓝经开区",
        "venue": "园区服务中心广场",
        "day": "2026-06-15",
        "start": "08:30",
        "end": "16:30",
        "interval": "15",
        "per_slot": "6",
        "offers_two_cancer": "y",
        "two_cancer_min_age": "35",
        "two_cancer_max_age": "64",
        "repeat_interval_years": "2",
        "two_cancer_per_slot": "3",
    }
    data.update(overrides)
    return data


def test_organizer_plans_a_visit_and_sees_the_grid(organizer_client):
    factories.at(datetime(2026, 6, 1, 9))
    response = organizer_client.post("/organizer/screenings/new", data=_form())
    assert response.status_code == 302
    visit = db.session.scalars(db.select(ScreeningVisit)).one()
    assert response.headers["Location"].endswith(f"/organizer/screenings/{visit.event_id}")
    assert len(visit.event.slots) == 32 and visit.two_cancer_per_slot == 3
    page = organizer_client.get(f"/organizer/screenings/{visit.event_id}").get_data(as_text=True)
    assert "08:30–08:45" in page and "16:15–16:30" in page and "0 / 6 人" in page
    assert "健康大篷车进南昌小蓝经开区" in organizer_client.get("/organizer/screenings/").get_data(as_text=True)


def test_bad_plan_shows_field_errors_and_writes_nothing(organizer_client):
    factories.at(datetime(2026, 6, 1, 9))
    response = organizer_client.post("/organizer/screenings/new", data=_form(end="08:00", per_slot="0"))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "人数需在 1 到 500 之间" in text
    assert db.session.scalar(db.select(db.func.count()).select_from(ScreeningVisit)) == 0
    response = organizer_client.post("/organizer/screenings/new", data=_form(end="08:00"))
    assert "结束时间必须晚于开始时间" in response.get_data(as_text=True)
    response = organizer_client.post(
        "/organizer/screenings/new", data=_form(organization_id=str(factories.org("jx-jiujiang").id))
    )
    assert response.status_code == 200  # not a choice for a Nanchang organizer
    assert db.session.scalar(db.select(db.func.count()).select_from(ScreeningVisit)) == 0


def test_organizer_pages_of_another_city_and_employees_answer_404(app, employee_client):
    event = sf.plan()
    registration = sf.book(sf.woman(40), event.slots[0])
    event_id, slot_id, reg_id = event.id, event.slots[0].id, registration.id
    outsider = app.test_client()
    factories.login(outsider, factories.make_organizer("jx-jiujiang"))
    urls_get = [f"/organizer/screenings/{event_id}", f"/organizer/screenings/{event_id}/roster"]
    urls_post = [
        f"/organizer/screenings/{event_id}/slots/{slot_id}",
        f"/organizer/screenings/{event_id}/slots",
        f"/organizer/screenings/{event_id}/check-in",
        f"/organizer/screenings/{event_id}/registrations/{reg_id}/outcome",
        f"/organizer/screenings/{event_id}/absent",
    ]
    for url in urls_get:
        assert outsider.get(url).status_code == 404, url
        assert employee_client.get(url).status_code == 404, url
    for url in urls_post:
        assert outsider.post(url, data={"capacity": "0", "code": "x", "outcome": "no_show"}).status_code == 404, url
        assert employee_client.post(url, data={"capacity": "0"}).status_code == 404, url
    assert employee_client.get("/organizer/screenings/").status_code == 403
    assert employee_client.get("/organizer/screenings/new").status_code == 403
    assert "南昌高新区" not in outsider.get("/organizer/screenings/").get_data(as_text=True)
    assert app.test_client().get(urls_get[0]).status_code == 302  # to the login page
    db.session.refresh(event.slots[0])
    assert event.slots[0].capacity == 6


def test_resize_and_close_through_the_grid(organizer_client):
    event = sf.plan(per_slot=6)
    slot = sf.slot_at(event, "10:15")
    sf.book(sf.woman(40), slot)
    url = f"/organizer/screenings/{event.id}/slots/{slot.id}"
    organizer_client.post(url, data={"capacity": "0"})
    db.session.refresh(slot)
    assert slot.capacity == 6  # below the one seat held: refused
    organizer_client.post(url, data={"capacity": "3", "closed": "y"})
    db.session.refresh(slot)
    assert (slot.capacity, slot.closed) == (3, True)


def test_event_page_offers_packages_and_explains_why_not(app):
    event = sf.plan()
    event_id = event.id
    cases = [
        (sf.woman(40), "您可以预约“两癌”筛查。"),
        (sf.woman(30), "体检当天您 30 岁"),
        (sf.man(), "仅面向女职工"),
    ]
    for person, expected in cases:
        client = app.test_client()
        factories.login(client, person)
        page = client.get(f"/events/{event_id}").get_data(as_text=True)
        assert expected in page
        assert 'name="opt_package" value="general"' in page
        two_cancer_enabled = 'name="opt_package" value="two_cancer">' in page
        assert two_cancer_enabled is (expected == "您可以预约“两癌”筛查。")


def test_book_through_the_event_page_then_move(app):
    event = sf.plan(per_slot=2)
    a, b = sf.slot_at(event, "10:15"), sf.slot_at(event, "10:30")
    a_id, b_id, event_id = a.id, b.id, event.id
    person = sf.woman(40)
    client = app.test_client()
    factories.login(client, person)
    response = client.post(
        f"/slots/{a_id}/book",
        data={"event_id": event_id, "opt_package": "two_cancer", "consent": "health_screening"},
    )
    assert response.status_code == 302
    registration = db.session.scalars(db.select(Registration)).one()
    assert db.session.get(ScreeningBooking, registration.id).two_cancer
    page = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert "当前时段：<strong>10:15–10:30</strong>" in page
    response = client.post(
        f"/screenings/bookings/{registration.id}/move", data={"to_slot_id": b_id, "event_id": event_id}
    )
    assert response.status_code == 302
    db.session.refresh(registration)
    assert registration.slot_id == b_id and registration.status == Status.CONFIRMED
    assert "已改到 10:30–10:45" in client.get(f"/events/{event_id}").get_data(as_text=True)
    # Someone else cannot move it.
    stranger = app.test_client()
    factories.login(stranger, sf.woman(41))
    assert stranger.post(f"/screenings/bookings/{registration.id}/move", data={"to_slot_id": a_id}).status_code == 404


def test_check_in_by_phone_and_record_an_outcome(organizer, organizer_client):
    event = sf.plan()
    person = sf.woman(40, name="李秀英")
    registration = sf.book(person, sf.slot_at(event, "10:15"), "two_cancer")
    event_id, reg_id, phone = event.id, registration.id, person.phone
    factories.at(ON_THE_DAY)
    factories.login(organizer_client, organizer)  # staff sign in on the day (a session idle for days has ended)
    response = organizer_client.post(f"/organizer/screenings/{event_id}/check-in", data={"code": phone})
    assert response.status_code == 302
    page = organizer_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "李秀英 签到成功：10:15–10:30 · 常规体检 + “两癌”筛查" in page
    roster = organizer_client.get(f"/organizer/screenings/{event_id}/roster").get_data(as_text=True)
    assert "李秀英" in roster
    url = f"/organizer/screenings/{event_id}/registrations/{reg_id}/outcome"
    organizer_client.post(url, data={"outcome": "not_screened", "reason": "not_suitable_today"})
    row = db.session.get(ScreeningBooking, reg_id)
    assert (row.outcome, row.not_screened_reason) == ("not_screened", "not_suitable_today")
    organizer_client.post(url, data={"outcome": "not_screened", "reason": "anything I type"})
    db.session.refresh(row)
    assert row.not_screened_reason == "not_suitable_today"


def test_the_roster_shows_one_time_slot_at_a_time_and_keeps_it_after_saving(organizer, organizer_client):
    event = sf.plan()
    early, late = sf.slot_at(event, "08:30"), sf.slot_at(event, "10:15")
    first = sf.book(sf.woman(40, name="周早班"), early)
    sf.book(sf.man(name="吴晚班"), late)
    other = sf.plan()
    event_id, early_id, late_id, foreign_id, first_id = event.id, early.id, late.id, other.slots[0].id, first.id
    url = f"/organizer/screenings/{event_id}/roster"
    page = organizer_client.get(url).get_data(as_text=True)
    assert "周早班" in page and "吴晚班" in page and "共 2 人" in page
    page = organizer_client.get(f"{url}?slot={early_id}").get_data(as_text=True)
    assert "周早班" in page and "吴晚班" not in page and "共 1 人" in page
    assert f'<option value="{early_id}" selected>' in page
    page = organizer_client.get(f"{url}?slot={late_id}").get_data(as_text=True)
    assert "吴晚班" in page and "周早班" not in page
    for nonsense in (str(foreign_id), "x", "-1", "9" * 30):  # another visit's slot or junk: the whole visit
        response = organizer_client.get(f"{url}?slot={nonsense}")
        assert response.status_code == 200 and "共 2 人" in response.get_data(as_text=True)
    factories.at(ON_THE_DAY)
    factories.login(organizer_client, organizer)
    response = organizer_client.post(
        f"/organizer/screenings/{event_id}/registrations/{first_id}/outcome?slot={early_id}",
        data={"outcome": "attended"},
    )
    assert response.headers["Location"].endswith(f"/roster?slot={early_id}#r-{first_id}")


def test_settings_form_saves_the_two_cancer_rules(organizer_client):
    event = sf.plan()
    event_id = event.id
    response = organizer_client.post(
        f"/organizer/screenings/{event_id}/settings",
        data={
            "offers_two_cancer": "y",
            "two_cancer_min_age": "30",
            "two_cancer_max_age": "60",
            "repeat_interval_years": "3",
            "two_cancer_per_slot": "",
        },
    )
    assert response.status_code == 302
    visit = db.session.get(ScreeningVisit, event_id)
    assert (visit.two_cancer_min_age, visit.two_cancer_max_age, visit.repeat_interval_years) == (30, 60, 3)
    assert visit.two_cancer_per_slot is None
    page = organizer_client.get(f"/organizer/screenings/{event_id}").get_data(as_text=True)
    assert 'value="30"' in page and "30–60 岁女职工，3 年内未做过" in page


def test_api_books_a_package_and_explains_a_refusal(client):
    event = sf.plan()
    slot_id = event.slots[0].id
    man, woman = sf.man(), sf.woman(40)
    tokens = {"man": factories.api_token(man), "woman": factories.api_token(woman)}
    body = {"consents": ["health_screening"], "options": {"package": "two_cancer"}}
    refused = client.post(
        f"/api/v1/slots/{slot_id}/registrations", json=body, headers={"Authorization": f"Bearer {tokens['man']}"}
    )
    assert refused.status_code == 422
    assert refused.get_json()["error"] == "not_eligible" and "仅面向女职工" in refused.get_json()["message"]
    booked = client.post(
        f"/api/v1/slots/{slot_id}/registrations", json=body, headers={"Authorization": f"Bearer {tokens['woman']}"}
    )
    assert booked.status_code == 201
    assert db.session.get(ScreeningBooking, booked.get_json()["id"]).two_cancer is True
