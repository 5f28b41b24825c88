"""Idempotency-Key on the booking API: a retried request gets the first answer, not "already registered"."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.api.models import IdempotentRequest
from app.booking.models import Registration, Status
from app.events.models import WaitlistPolicy
from app.extensions import db

from .. import factories

NOW = datetime(2026, 3, 2, 9, 0)


def headers(token, key=None):
    found = {"Authorization": f"Bearer {token}"}
    if key is not None:
        found["Idempotency-Key"] = key
    return found


def registrations_of(user):
    return db.session.scalars(select(Registration).where(Registration.user_id == user.id)).all()


def test_a_retried_booking_with_the_same_key_gets_the_first_answer_and_books_once(client):
    clock.set_now(NOW)
    slot_id = factories.make_event(capacity=5).slots[0].id
    person = factories.make_employee()
    token = factories.api_token(person)
    path = f"/api/v1/slots/{slot_id}/registrations"
    first = client.post(path, json={"consents": []}, headers=headers(token, "phone-retry-1"))
    again = client.post(path, json={"consents": []}, headers=headers(token, "phone-retry-1"))
    assert first.status_code == 201 and first.json["status"] == "confirmed"
    assert again.status_code == 201 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert [r.status for r in registrations_of(person)] == [Status.CONFIRMED]
    # Without a key the same retry is told the truth about the second attempt.
    plain = client.post(path, json={"consents": []}, headers=headers(token))
    assert plain.status_code == 409 and plain.json["error"] == "already_registered"


def test_the_same_key_on_another_request_is_refused_with_422_and_changes_nothing(client):
    clock.set_now(NOW)
    event = factories.make_event(capacity=5, slots=2)
    person = factories.make_employee()
    token = factories.api_token(person)
    first_slot, second_slot = (slot.id for slot in event.slots)
    client.post(f"/api/v1/slots/{first_slot}/registrations", json={}, headers=headers(token, "k-1"))
    other_body = client.post(
        f"/api/v1/slots/{first_slot}/registrations", json={"consents": ["mixer_single"]}, headers=headers(token, "k-1")
    )
    other_slot = client.post(f"/api/v1/slots/{second_slot}/registrations", json={}, headers=headers(token, "k-1"))
    for refused in (other_body, other_slot):
        assert refused.status_code == 422 and refused.json["error"] == "idempotency_key_reused"
    assert [r.slot_id for r in registrations_of(person)] == [first_slot]


def test_keys_belong_to_one_person(client):
    clock.set_now(NOW)
    slot_id = factories.make_event(capacity=5).slots[0].id
    a, b = factories.make_employee(), factories.make_employee()
    path = f"/api/v1/slots/{slot_id}/registrations"
    first = client.post(path, json={}, headers=headers(factories.api_token(a), "same-text"))
    second = client.post(path, json={}, headers=headers(factories.api_token(b), "same-text"))
    assert first.status_code == second.status_code == 201 and first.json["id"] != second.json["id"]
    assert "Idempotent-Replayed" not in second.headers


def test_a_refused_booking_is_not_remembered_so_a_retry_asks_again(client):
    clock.set_now(NOW)
    slot_id = factories.make_event(capacity=1, waitlist=WaitlistPolicy.NONE).slots[0].id
    holder, person = factories.make_employee(), factories.make_employee()
    holder_token, token = factories.api_token(holder), factories.api_token(person)
    path = f"/api/v1/slots/{slot_id}/registrations"
    held = client.post(path, json={}, headers=headers(holder_token))
    refused = client.post(path, json={}, headers=headers(token, "try-1"))
    assert refused.status_code == 409 and refused.json["error"] == "full"
    assert client.delete(f"/api/v1/registrations/{held.json['id']}", headers=headers(holder_token)).status_code == 200
    retried = client.post(path, json={}, headers=headers(token, "try-1"))
    assert retried.status_code == 201 and retried.json["status"] == "confirmed"
    assert "Idempotent-Replayed" not in retried.headers


def test_a_retried_cancel_with_the_same_key_gets_the_first_answer(client):
    clock.set_now(NOW)
    slot_id = factories.make_event(capacity=5).slots[0].id
    person = factories.make_employee()
    token = factories.api_token(person)
    booked = client.post(f"/api/v1/slots/{slot_id}/registrations", json={}, headers=headers(token))
    path = f"/api/v1/registrations/{booked.json['id']}"
    first = client.delete(path, headers=headers(token, "cancel-1"))
    again = client.delete(path, headers=headers(token, "cancel-1"))
    assert first.status_code == again.status_code == 200
    assert first.json["status"] == "cancelled" and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    plain = client.delete(path, headers=headers(token))
    assert plain.status_code >= 400 and plain.json["error"] != "idempotency_key_reused"


def test_unusable_keys_are_refused_on_the_header(client):
    clock.set_now(NOW)
    slot_id = factories.make_event(capacity=5).slots[0].id
    person = factories.make_employee()
    token = factories.api_token(person)
    for key in ("x" * 256, ""):
        response = client.post(f"/api/v1/slots/{slot_id}/registrations", json={}, headers=headers(token, key))
        assert response.status_code == 422 and "Idempotency-Key" in response.json["fields"]
    assert registrations_of(person) == []


def test_keys_are_forgotten_after_the_configured_hours(app, client):
    from app.api.idempotency import purge_expired

    clock.set_now(NOW)
    slot_id = factories.make_event(capacity=5).slots[0].id
    token = factories.api_token(factories.make_employee())
    client.post(f"/api/v1/slots/{slot_id}/registrations", json={}, headers=headers(token, "old"))
    hours = app.config["IDEMPOTENCY_KEY_HOURS"]
    assert purge_expired(NOW + timedelta(hours=hours) - timedelta(minutes=1)) == 0
    assert purge_expired(NOW + timedelta(hours=hours, minutes=1)) == 1
    assert db.session.scalar(select(func.count()).select_from(IdempotentRequest)) == 0


@pytest.mark.concurrency
def test_the_same_booking_sent_eight_times_at_once_with_one_key_books_once_and_answers_alike(database_url):
    """A phone that fires its retries before the first answer came: all get the one answer, one registration."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from app import create_app
    from tests.conftest import TEST_CONFIG

    clock.set_now(NOW)
    slot_id = factories.make_event(capacity=5).slots[0].id
    person = factories.make_employee()
    token = factories.api_token(person)
    db.session.commit()
    concurrent_app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    barrier = threading.Barrier(8, timeout=60)

    def attempt(_n: int):
        client = concurrent_app.test_client()
        barrier.wait()
        response = client.post(
            f"/api/v1/slots/{slot_id}/registrations", json={}, headers=headers(token, "fired-eight-times")
        )
        return response.status_code, response.json

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(attempt, range(8)))
    finally:
        with concurrent_app.app_context():
            db.engine.dispose()
    assert {status for status, _body in answers} == {201}
    assert len({body["id"] for _status, body in answers}) == 1
    db.session.expire_all()
    assert [r.status for r in registrations_of(person)] == [Status.CONFIRMED]
