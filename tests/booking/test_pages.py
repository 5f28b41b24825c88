"""The employee's booking pages on the phone: list, event page, book, my bookings, ticket, .ics, cancel."""

from app.booking.models import Registration, Status
from app.events.models import WaitlistPolicy
from app.extensions import db

from .. import factories


def test_event_list_filters_by_kind_city_and_seats(client):
    open_event = factories.make_event(title="南昌职工篮球赛", capacity=5)
    full = factories.make_event(title="九江读书会", capacity=0, city=factories.city("jiujiang"))
    page = client.get("/events/").get_data(as_text=True)
    assert "南昌职工篮球赛" in page and "九江读书会" in page
    page = client.get("/events/?city=jiujiang").get_data(as_text=True)
    assert "九江读书会" in page and "南昌职工篮球赛" not in page
    page = client.get("/events/?available=1").get_data(as_text=True)
    assert "南昌职工篮球赛" in page and "九江读书会" not in page
    assert client.get("/events/?page=abc&from=notadate").status_code == 200
    assert open_event.id and full.id


def test_event_page_shows_seats_and_why_not_eligible(app):
    event = factories.make_event(title="青年联谊", min_age=22, max_age=35, capacity=10)
    older = factories.make_employee(age=45)
    client = app.test_client()
    factories.login(client, older)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "剩余 10 / 10" in page
    assert "您暂时不能报名" in page and "本活动限 35 岁及以下" in page
    assert "立即预约" not in page


def test_unpublished_event_is_404(client):
    event = factories.make_event(published=False)
    assert client.get(f"/events/{event.id}").status_code == 404


def test_book_then_ticket_then_cancel(employee_client, employee):
    event = factories.make_event(title="职工观影", capacity=2)
    response = employee_client.post(f"/slots/{event.slots[0].id}/book", data={"event_id": event.id})
    assert response.status_code == 302
    mine = employee_client.get("/me/bookings").get_data(as_text=True)
    assert "职工观影" in mine and "已确认" in mine
    registration = db.session.scalar(db.select(Registration).where(Registration.user_id == employee.id))
    ticket = employee_client.get(f"/me/bookings/{registration.id}/ticket").get_data(as_text=True)
    assert "<svg" in ticket and registration.ticket_code in ticket
    ics = employee_client.get(f"/me/bookings/{registration.id}/calendar.ics")
    assert ics.mimetype == "text/calendar" and "BEGIN:VEVENT" in ics.get_data(as_text=True)
    employee_client.post(f"/me/bookings/{registration.id}/cancel")
    db.session.refresh(registration)
    assert registration.status == Status.CANCELLED


def test_full_event_joins_waitlist_and_shows_position(app):
    event = factories.make_event(capacity=1, waitlist=WaitlistPolicy.OFFER)
    first, second = factories.make_employee(), factories.make_employee()
    for person in (first, second):
        client = app.test_client()
        factories.login(client, person)
        client.post(f"/slots/{event.slots[0].id}/book", data={"event_id": event.id})
    page = client.get("/me/bookings").get_data(as_text=True)
    assert "候补第 1 位" in page


def test_someone_elses_registration_ticket_and_ics_are_404(app):
    event = factories.make_event(capacity=2)
    owner, other = factories.make_employee(), factories.make_employee()
    from app.booking import services

    registration = services.book(owner, event.slots[0].id)
    db.session.commit()
    client = app.test_client()
    factories.login(client, other)
    for url in (f"/me/bookings/{registration.id}/ticket", f"/me/bookings/{registration.id}/calendar.ics"):
        assert client.get(url).status_code == 404
    assert client.post(f"/me/bookings/{registration.id}/cancel").status_code == 404
    db.session.refresh(registration)
    assert registration.status == Status.CONFIRMED


def test_booking_error_message_shown_not_500(employee_client):
    event = factories.make_event(capacity=0, waitlist=WaitlistPolicy.NONE)
    response = employee_client.post(
        f"/slots/{event.slots[0].id}/book", data={"event_id": event.id}, follow_redirects=True
    )
    assert response.status_code == 200 and "名额已满" in response.get_data(as_text=True)
    assert employee_client.post("/slots/999999/book").status_code in (302, 404)
