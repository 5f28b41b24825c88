"""Check-in at the door: results, idempotent scans (offline queue uploaded twice), undo, no-shows."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app import clock
from app.audit import AuditEntry
from app.booking import services as booking
from app.booking.models import Registration, Status
from app.events.models import Allocation, Slot
from app.extensions import db
from app.organizer.models import CheckinScan

from .. import factories
from .factories import book


def _scan(client, event_id: int, scan_id: str, **payload: object):  # type: ignore[no-untyped-def]
    response = client.post(f"/organizer/events/{event_id}/checkin/scan", json={"scan_id": scan_id, **payload})
    return response.status_code, response.get_json()


def test_results_welcome_already_wrong_event_cancelled_not_found(organizer_client):
    event = factories.make_event(starts_in=factories.STARTS_SOON, capacity=5)
    other = factories.make_event(starts_in=factories.STARTS_SOON, title="另一场活动")
    guest = book(factories.make_employee(name="刘洋"), event.slots[0])
    gone = book(factories.make_employee(name="孙丽"), event.slots[0])
    booking.cancel(gone, actor=gone.user)  # type: ignore[arg-type]
    elsewhere = book(factories.make_employee(name="周杰"), other.slots[0])
    db.session.commit()

    status, body = _scan(organizer_client, event.id, "scan-0001", code=guest.ticket_code)
    assert status == 200 and body["result"] == "welcome" and body["name"] == "刘洋" and body["attended"] == 1
    status, body = _scan(organizer_client, event.id, "scan-0002", code=guest.ticket_code)
    assert body["result"] == "already" and body["attended"] == 1
    status, body = _scan(organizer_client, event.id, "scan-0003", code=elsewhere.ticket_code)
    assert body["result"] == "wrong_event" and body["name"] is None  # nothing about another event's attendee
    status, body = _scan(organizer_client, event.id, "scan-0004", code=gone.ticket_code)
    assert body["result"] == "cancelled"
    status, body = _scan(organizer_client, event.id, "scan-0005", code="no-such-ticket")
    assert body["result"] == "not_found"
    status, body = _scan(organizer_client, event.id, "bad id!", code=guest.ticket_code)
    assert status == 422
    db.session.refresh(elsewhere)
    assert elsewhere.status == Status.CONFIRMED
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "checkin")) == 1


def test_pending_or_waitlisted_cannot_check_in(organizer_client):
    event = factories.make_event(starts_in=factories.STARTS_SOON, capacity=1, allocation=Allocation.APPROVAL)
    pending = book(factories.make_employee(), event.slots[0])
    _status, body = _scan(organizer_client, event.id, "scan-pending-1", code=pending.ticket_code)
    assert body["result"] == "not_confirmed"
    db.session.refresh(pending)
    assert pending.status == Status.PENDING


def test_same_scan_uploaded_twice_counts_once(organizer_client):
    event = factories.make_event(starts_in=factories.STARTS_SOON, capacity=5)
    a = book(factories.make_employee(), event.slots[0])
    b = book(factories.make_employee(), event.slots[0])
    queue = [
        {
            "scan_id": "offline-aaaa-1",
            "code": a.ticket_code,
            "scanned_at": (clock.now() - timedelta(minutes=5)).isoformat(),
        },
        {"scan_id": "offline-bbbb-2", "code": b.ticket_code},
    ]
    first = [_scan(organizer_client, event.id, **item)[1] for item in queue]  # type: ignore[arg-type]
    again = [_scan(organizer_client, event.id, **item)[1] for item in queue]  # type: ignore[arg-type]
    assert [r["result"] for r in first] == ["welcome", "welcome"]
    assert [r["result"] for r in again] == ["welcome", "welcome"] and all(r["replay"] for r in again)
    assert again[-1]["attended"] == 2
    assert db.session.scalar(select(func.count()).select_from(CheckinScan)) == 2
    history = db.session.scalar(
        select(func.count()).select_from(Registration).where(Registration.status == Status.ATTENDED)
    )
    assert history == 2
    db.session.refresh(a)
    assert len([h for h in a.history if h.to_status == Status.ATTENDED]) == 1
    # A scan id belongs to its event: replaying it against another event reveals nothing.
    other = factories.make_event(starts_in=factories.STARTS_SOON, title="另一场")
    status, _body = _scan(organizer_client, other.id, "offline-aaaa-1", code=a.ticket_code)
    assert status == 404


def test_search_by_phone_then_check_in_by_registration(organizer_client):
    event = factories.make_event(starts_in=factories.STARTS_SOON, capacity=5)
    person = factories.make_employee(name="黄蓉", phone="13712345678")
    reg = book(person, event.slots[0])
    other_event = factories.make_event(starts_in=factories.STARTS_SOON, title="别处")
    stranger = book(factories.make_employee(name="郭靖", phone="13712340000"), other_event.slots[0])
    response = organizer_client.post(f"/organizer/events/{event.id}/checkin/search", json={"q": "5678"})
    results = response.get_json()["results"]
    assert [r["name"] for r in results] == ["黄蓉"] and results[0]["phone"].endswith("5678")
    assert "13712345678" not in response.get_data(as_text=True)  # masked
    _status, body = _scan(organizer_client, event.id, "search-scan-1", registration_id=reg.id)
    assert body["result"] == "welcome"
    # A registration of another event cannot be checked in through this one.
    _status, body = _scan(organizer_client, event.id, "search-scan-2", registration_id=stranger.id)
    assert body["result"] == "not_found"


def test_undo_check_in(organizer_client):
    event = factories.make_event(starts_in=factories.STARTS_SOON, capacity=5)
    reg = book(factories.make_employee(), event.slots[0])
    _scan(organizer_client, event.id, "undo-scan-01", code=reg.ticket_code)
    response = organizer_client.post(f"/organizer/registrations/{reg.id}/undo-checkin", json={})
    assert response.get_json()["ok"] is True and response.get_json()["attended"] == 0
    db.session.refresh(reg)
    assert reg.status == Status.CONFIRMED and reg.checked_in_at is None
    response = organizer_client.post(f"/organizer/registrations/{reg.id}/undo-checkin", json={})
    assert response.status_code == 409
    # After an undo, a new scan checks the person in again.
    _status, body = _scan(organizer_client, event.id, "undo-scan-02", code=reg.ticket_code)
    assert body["result"] == "welcome"


def test_form_fallback_without_javascript(organizer_client):
    event = factories.make_event(starts_in=factories.STARTS_SOON, capacity=5)
    reg = book(factories.make_employee(name="马丽"), event.slots[0])
    response = organizer_client.post(
        f"/organizer/events/{event.id}/checkin/scan", data={"code": reg.ticket_code, "scan_id": "formscan0001"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "签到成功" in page and "马丽" in page
    response = organizer_client.post(
        f"/organizer/events/{event.id}/checkin/scan", data={"code": reg.ticket_code, "scan_id": "formscan0002"}
    )
    assert "已签到过" in response.get_data(as_text=True)


def test_mark_no_shows_after_the_event_started(organizer_client):
    event = factories.make_event(
        capacity=5, starts_in=timedelta(minutes=20), signup_closes_at=clock.now() + timedelta(minutes=10)
    )
    came = book(factories.make_employee(), event.slots[0])
    missed = book(factories.make_employee(), event.slots[0])
    response = organizer_client.post(f"/organizer/events/{event.id}/no-shows", follow_redirects=True)
    assert "活动开始后才能标记未到场" in response.get_data(as_text=True)
    clock.set_now(event.starts_at + timedelta(minutes=30))
    _scan(organizer_client, event.id, "noshow-scan-1", code=came.ticket_code)
    organizer_client.post(f"/organizer/events/{event.id}/no-shows")
    db.session.refresh(came)
    db.session.refresh(missed)
    assert (came.status, missed.status) == (Status.ATTENDED, Status.NO_SHOW)
    slot = db.session.get(Slot, event.slots[0].id)
    assert slot is not None and slot.taken == 2  # no-shows keep their seat in the statistics
    # A latecomer marked no-show can still be checked in.
    _status, body = _scan(organizer_client, event.id, "noshow-scan-2", code=missed.ticket_code)
    assert body["result"] == "welcome"


def test_json_scan_needs_the_csrf_token_in_a_header(app, organizer_client):
    import re

    event = factories.make_event(starts_in=factories.STARTS_SOON, capacity=5)
    reg = book(factories.make_employee(), event.slots[0])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = organizer_client.get(f"/organizer/events/{event.id}/checkin").get_data(as_text=True)
        token = re.search(r'data-csrf="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        url = f"/organizer/events/{event.id}/checkin/scan"
        payload = {"scan_id": "csrf-scan-0001", "code": reg.ticket_code}
        assert organizer_client.post(url, json=payload).status_code == 400
        response = organizer_client.post(url, json=payload, headers={"X-CSRFToken": token})
        assert response.status_code == 200 and response.get_json()["result"] == "welcome"
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_two_uploads_of_one_scan_racing_count_once(organizer_client, monkeypatch):
    """The second upload of a scan looked before the first committed: the unique scan id refuses its insert and
    it is answered with the first upload's result."""
    from app.organizer import attendance

    event = factories.make_event(starts_in=factories.STARTS_SOON, capacity=5)
    reg = book(factories.make_employee(), event.slots[0])
    assert _scan(organizer_client, event.id, "race-scan-0001", code=reg.ticket_code)[1]["result"] == "welcome"
    real = attendance.previous_scan
    calls = []

    def blind_once(scan_id: str):  # type: ignore[no-untyped-def]
        calls.append(scan_id)
        return None if len(calls) == 1 else real(scan_id)

    monkeypatch.setattr(attendance, "previous_scan", blind_once)
    status, body = _scan(organizer_client, event.id, "race-scan-0001", code=reg.ticket_code)
    assert status == 200 and body["result"] == "welcome" and body["replay"] is True and len(calls) == 2
    assert db.session.scalar(select(func.count()).select_from(CheckinScan)) == 1
    db.session.refresh(reg)
    assert len([h for h in reg.history if h.to_status == Status.ATTENDED]) == 1
