from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.booking.models import Registration, Status
from app.events.models import Event, WaitlistPolicy
from app.extensions import db
from app.notifications import services as notifications
from app.outbox.models import OutboxMessage

from .. import factories


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_token_issued_for_right_password_only(client, employee):
    ok = client.post("/api/v1/tokens", json={"phone": employee.phone, "password": factories.PASSWORD})
    assert ok.status_code == 201 and len(ok.json["token"]) > 30
    wrong = client.post("/api/v1/tokens", json={"phone": employee.phone, "password": "nope-nope-nope"})
    assert wrong.status_code == 401 and wrong.json["error"] == "invalid_credentials"
    bad = client.post("/api/v1/tokens", json={"phone": 123})
    assert bad.status_code == 422 and "phone" in bad.json["fields"]


def test_token_endpoint_rate_limited(client, employee):
    codes = [
        client.post("/api/v1/tokens", json={"phone": employee.phone, "password": "x" * 9}).status_code
        for _ in range(12)
    ]
    assert codes[-1] == 429


def test_events_listing_shows_counts(client):
    event = factories.make_event(capacity=3, kind="general")
    other = factories.make_event(capacity=1, city=factories.city("jiujiang"))
    factories.make_event(published=False)
    booking_user = factories.make_employee()
    from app.booking import services

    services.book(booking_user, other.slots[0].id)
    db.session.commit()
    data = client.get("/api/v1/events").json
    assert {e["id"] for e in data["events"]} == {event.id, other.id}
    slot = next(e for e in data["events"] if e["id"] == other.id)["slots"][0]
    assert (slot["capacity"], slot["confirmed"], slot["available"], slot["waitlisted"]) == (1, 1, 0, 0)
    assert [e["id"] for e in client.get("/api/v1/events?city=九江").json["events"]] == [other.id]
    assert [e["id"] for e in client.get("/api/v1/events?available=1").json["events"]] == [event.id]


def test_book_statuses_and_error_codes(client):
    event = factories.make_event(capacity=1, waitlist=WaitlistPolicy.OFFER)
    slot_id = event.slots[0].id
    a, b = factories.make_employee(), factories.make_employee()
    ta, tb = factories.api_token(a), factories.api_token(b)
    first = client.post(f"/api/v1/slots/{slot_id}/registrations", json={}, headers=auth(ta))
    assert first.status_code == 201 and first.json["status"] == "confirmed"
    again = client.post(f"/api/v1/slots/{slot_id}/registrations", json={}, headers=auth(ta))
    assert again.status_code == 409 and again.json["error"] == "already_registered"
    waiting = client.post(f"/api/v1/slots/{slot_id}/registrations", json={}, headers=auth(tb))
    assert waiting.status_code == 201 and waiting.json == {
        "id": waiting.json["id"],
        "status": "waitlisted",
        "waitlist_position": 1,
    }
    assert client.post(f"/api/v1/slots/{slot_id}/registrations", json={}).status_code == 401
    assert client.post("/api/v1/slots/999999/registrations", json={}, headers=auth(ta)).status_code == 404


def test_full_without_waitlist_is_409_full(client):
    event = factories.make_event(capacity=0, waitlist=WaitlistPolicy.NONE)
    token = factories.api_token(factories.make_employee())
    response = client.post(f"/api/v1/slots/{event.slots[0].id}/registrations", json={}, headers=auth(token))
    assert response.status_code == 409 and response.json["error"] == "full"


def test_not_eligible_lists_reasons_in_requested_language(client):
    event = factories.make_event(min_age=22, max_age=40)
    token = factories.api_token(factories.make_employee(age=50))
    zh = client.post(f"/api/v1/slots/{event.slots[0].id}/registrations", json={}, headers=auth(token))
    assert zh.status_code == 422 and zh.json["error"] == "not_eligible" and "40" in zh.json["reasons"][0]
    en = client.post(
        f"/api/v1/slots/{event.slots[0].id}/registrations", json={}, headers={**auth(token), "Accept-Language": "en"}
    )
    assert en.json["error"] == "not_eligible" and en.json["message"].isascii()


def test_cancel_own_only_and_offer_flow(client):
    event = factories.make_event(capacity=1)
    slot_id = event.slots[0].id
    a, b = factories.make_employee(), factories.make_employee()
    ta, tb = factories.api_token(a), factories.api_token(b)
    ra = client.post(f"/api/v1/slots/{slot_id}/registrations", json={}, headers=auth(ta)).json["id"]
    rb = client.post(f"/api/v1/slots/{slot_id}/registrations", json={}, headers=auth(tb)).json["id"]
    assert client.delete(f"/api/v1/registrations/{ra}", headers=auth(tb)).status_code == 404
    cancelled = client.delete(f"/api/v1/registrations/{ra}", headers=auth(ta))
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    mine = client.get("/api/v1/me/registrations", headers=auth(tb)).json["registrations"]
    assert mine[0]["status"] == "offered" and mine[0]["offer_expires_at"]
    assert client.post(f"/api/v1/registrations/{rb}/accept-offer", headers=auth(ta)).status_code == 404
    accepted = client.post(f"/api/v1/registrations/{rb}/accept-offer", headers=auth(tb))
    assert accepted.status_code == 200 and accepted.json["status"] == "confirmed"
    again = client.post(f"/api/v1/registrations/{rb}/decline-offer", headers=auth(tb))
    assert again.status_code == 409 and again.json["error"] == "illegal_transition"


def test_consent_required_for_kinds_that_need_it(client, app):
    from app.events.kinds import KindPolicy, register_kind

    class NeedsConsent(KindPolicy):
        kind = "test_consent"
        consents = ("health_screening",)

    register_kind(NeedsConsent())
    event = factories.make_event(kind="test_consent")
    token = factories.api_token(factories.make_employee())
    url = f"/api/v1/slots/{event.slots[0].id}/registrations"
    refused = client.post(url, json={}, headers=auth(token))
    assert refused.status_code == 422 and refused.json["error"] == "consent_required"
    assert db.session.scalar(db.select(db.func.count()).select_from(Registration)) == 0
    ok = client.post(url, json={"consents": ["health_screening"]}, headers=auth(token))
    assert ok.status_code == 201


def test_a_standing_consent_counts_for_an_api_booking_until_it_is_withdrawn(client, app):
    """Granted once on the consents page, a consent is not asked again by each booking; withdrawn, it is."""
    from app.accounts.services import grant_consent, withdraw_consent
    from app.events.kinds import KindPolicy, register_kind

    class NeedsConsent(KindPolicy):
        kind = "test_consent"
        consents = ("health_screening",)

    register_kind(NeedsConsent())
    first, second = factories.make_event(kind="test_consent"), factories.make_event(kind="test_consent")
    person = factories.make_employee()
    grant_consent(person, "health_screening")
    db.session.commit()
    token = factories.api_token(person)
    booked = client.post(f"/api/v1/slots/{first.slots[0].id}/registrations", json={}, headers=auth(token))
    assert booked.status_code == 201, booked.json
    withdraw_consent(person, "health_screening")
    db.session.commit()
    refused = client.post(f"/api/v1/slots/{second.slots[0].id}/registrations", json={}, headers=auth(token))
    assert refused.status_code == 422 and refused.json["error"] == "consent_required"


EVENT_BODY = {
    "kind": "general",
    "title": "职工乒乓球赛",
    "city": "南昌",
    "starts_at": "2027-01-10T09:00",
    "ends_at": "2027-01-10T12:00",
    "signup_opens_at": "2026-12-01T09:00",
    "signup_closes_at": "2027-01-09T18:00",
    "slots": [
        {
            "starts_at": "2027-01-10T09:00",
            "ends_at": "2027-01-10T12:00",
            "capacity": 30,
            "gender_quota": {"female": 15, "male": 15},
            "waitlist": "offer",
        }
    ],
}


def test_create_event_as_organizer(client, organizer):
    token = factories.api_token(organizer)
    response = client.post("/api/v1/events", json=EVENT_BODY, headers=auth(token))
    assert response.status_code == 201, response.json
    event = db.session.get(Event, response.json["id"])
    assert event.published and event.organization.code == "jx-nanchang"
    assert event.slots[0].quota_female == 15 and response.json["slots"][0]["id"] == event.slots[0].id


def test_create_event_refused_for_employee_and_outside_scope(client, employee, organizer):
    assert (
        client.post("/api/v1/events", json=EVENT_BODY, headers=auth(factories.api_token(employee))).status_code == 403
    )
    outside = client.post(
        "/api/v1/events",
        json={**EVENT_BODY, "organization": "jx-ganzhou"},
        headers=auth(factories.api_token(organizer)),
    )
    assert outside.status_code == 404
    assert db.session.scalar(db.select(db.func.count()).select_from(Event)) == 0


def test_create_event_field_errors(client, organizer):
    token = factories.api_token(organizer)
    body = {**EVENT_BODY, "ends_at": "2027-01-10T08:00", "city": "北京", "slots": [{"capacity": "many"}]}
    response = client.post("/api/v1/events", json=body, headers=auth(token))
    assert response.status_code == 422
    assert {"city", "slots[0].starts_at", "slots[0].capacity"} <= set(response.json["fields"])
    response = client.post("/api/v1/events", json={**EVENT_BODY, "ends_at": "2027-01-10T08:00"}, headers=auth(token))
    assert response.status_code == 422 and "ends_at" in response.json["fields"]


def test_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.") and "/api/v1/slots/{slot_id}/registrations" in doc["paths"]


def test_cancel_after_deadline_is_409(client):
    event = factories.make_event(capacity=2, cancel_deadline=clock.now() + timedelta(hours=1))
    person = factories.make_employee()
    token = factories.api_token(person)
    rid = client.post(f"/api/v1/slots/{event.slots[0].id}/registrations", json={}, headers=auth(token)).json["id"]
    clock.set_now(clock.now() + timedelta(hours=2))
    response = client.delete(f"/api/v1/registrations/{rid}", headers=auth(token))
    assert response.status_code == 409 and response.json["error"] == "cancel_deadline_passed"
    assert db.session.get(Registration, rid).status == Status.CONFIRMED


def test_booking_through_the_api_follows_each_persons_channel_choices(client):
    """The API loads a person's channel choices with the person: a booking's messages go where they chose."""
    event = factories.make_event(capacity=5)
    chose = factories.make_employee(email="chose@example.com", phone="13800000001")
    notifications.save_preferences(chose, email=False, sms=True)
    default = factories.make_employee(email="default@example.com", phone="13800000002")
    db.session.commit()
    for person in (chose, default):
        response = client.post(
            f"/api/v1/slots/{event.slots[0].id}/registrations", json={}, headers=auth(factories.api_token(person))
        )
        assert response.status_code == 201 and response.json["status"] == "confirmed"

    def channels(person):
        return set(
            db.session.scalars(
                select(OutboxMessage.channel).where(
                    OutboxMessage.user_id == person.id, OutboxMessage.kind == "booking_confirmed"
                )
            )
        )

    assert channels(chose) == {"inbox", "sms"}
    assert channels(default) == {"inbox", "email"}


def test_bookings_from_one_address_are_never_rate_limited(client):
    """A flash sale: many employees behind one company gateway book at once; none is refused as "too many
    requests" (the token endpoint from the same address is, test_token_endpoint_rate_limited)."""
    event = factories.make_event(capacity=20)
    slot_id = event.slots[0].id
    tokens = [factories.api_token(factories.make_employee()) for _ in range(15)]
    codes = [
        client.post(f"/api/v1/slots/{slot_id}/registrations", json={}, headers=auth(token)).status_code
        for token in tokens
    ]
    assert codes == [201] * 15
